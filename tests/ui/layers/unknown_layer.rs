use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2D(8, 3)
    }
}

fn main() {}
