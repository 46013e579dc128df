use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2d(8, 3, bias = 0)
    }
}

fn main() {}
