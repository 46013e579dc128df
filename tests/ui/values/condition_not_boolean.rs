use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        if x.channels { x } else { x -> ReLU }
    }
}

fn main() {}
