use netspec::network;

network! {
    pub struct Net(x: [8, 4, 4]) {
        narrow(x, 6, 4)
    }
}

fn main() {}
