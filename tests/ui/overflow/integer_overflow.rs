use netspec::network;

network! {
    block Wide(x, n) { x -> conv: Conv2d(n * n * n, 1) }
    pub struct Net(x: [3, 8, 8]) {
        x -> w: Wide(9000000)
    }
}

fn main() {}
