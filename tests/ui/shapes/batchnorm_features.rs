use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2d(8, 3) -> BatchNorm2d(16)
    }
}

fn main() {}
