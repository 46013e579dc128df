use netspec::network;

network! {
    pub struct Net(x: [3, 0, 32]) {
        x -> ReLU
    }
}

fn main() {}
