use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(8, 3) -> fc: Linear(10)
    }
}

fn main() {}
