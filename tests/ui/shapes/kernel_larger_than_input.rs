use netspec::network;

network! {
    pub struct Net(x: [3, 5, 5]) {
        x -> conv: Conv2d(8, 7)
    }
}

fn main() {}
