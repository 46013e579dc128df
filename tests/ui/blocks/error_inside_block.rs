use netspec::network;

network! {
    block Head(x, classes) { x -> fc: Conv2d(classes, 3, groups = 3) }
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2d(8, 3) -> head: Head(10)
    }
}

fn main() {}
