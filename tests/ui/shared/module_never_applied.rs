use netspec::network;

network! {
    block Head(x, n) {
        x -> AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(n)
    }

    pub struct Net(x: [3, 32, 32]) {
        let head = head: Head(10);
        x -> conv: Conv2d(8, 3)
    }
}

fn main() {}
