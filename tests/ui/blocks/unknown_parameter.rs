use netspec::network;

network! {
    block Unit(x, planes, stride = 1) { x -> conv: Conv2d(planes, 3, stride = stride, padding = 1) }
    pub struct Net(x: [3, 32, 32]) {
        x -> u: Unit(8, strides = 2)
    }
}

fn main() {}
