use netspec::network;

network! {
    block Unit(x, planes, planes) { x -> conv: Conv2d(planes, 3) }
    pub struct Net(x: [3, 32, 32]) {
        x -> u: Unit(8, 8)
    }
}

fn main() {}
