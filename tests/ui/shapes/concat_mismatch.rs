use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let a = x -> a: Conv2d(8, 3, padding = 1);
        let b = x -> b: Conv2d(8, 3, stride = 2, padding = 1);
        cat(a, b)
    }
}

fn main() {}
