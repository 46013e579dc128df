use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let (a, b) = chunk(x, 2);
        a
    }
}

fn main() {}
