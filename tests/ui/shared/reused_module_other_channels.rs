use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let branch = branch: Conv2d(64, 3, padding = 1);
        let a = x -> branch;
        let b = x -> squeeze: Conv2d(16, 1);
        a + (b -> branch)
    }
}

fn main() {}
