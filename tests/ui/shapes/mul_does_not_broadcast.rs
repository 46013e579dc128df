use netspec::network;

network! {
    pub struct Net(x: [8, 16, 16]) {
        let s = x -> AdaptiveAvgPool2d(1) -> fc: Conv2d(4, 1);
        x * s
    }
}

fn main() {}
