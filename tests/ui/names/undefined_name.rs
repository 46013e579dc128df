use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let features = x -> Conv2d(8, 3);
        featurs -> ReLU
    }
}

fn main() {}
