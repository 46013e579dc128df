use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let branch = branch: Conv2d(8, 3, padding = 1);
        let a = x -> branch;
        a -> brnch
    }
}

fn main() {}
