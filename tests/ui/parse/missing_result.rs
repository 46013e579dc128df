use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let y = x -> Conv2d(8, 3);
    }
}

fn main() {}
