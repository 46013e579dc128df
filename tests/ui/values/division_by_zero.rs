use netspec::network;

network! {
    block Split(x, parts) { x -> conv: Conv2d(x.channels / parts, 1) }
    pub struct Net(x: [3, 32, 32]) {
        x -> s: Split(0)
    }
}

fn main() {}
