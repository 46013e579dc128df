use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        ReLU
    }
}

fn main() {}
