use netspec::network;

network! {
    block Unit(x, planes) { x -> conv: Conv2d(planes, 3, padding = 1) }
    pub struct Net(x: [3, 32, 32]) {
        x -> u: Unit
    }
}

fn main() {}
