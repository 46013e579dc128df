use netspec::network;

network! {
    pub struct Net(x: [64]) {
        x -> Conv2d(8, 3)
    }
}

fn main() {}
