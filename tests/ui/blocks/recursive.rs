use netspec::network;

network! {
    block Forever(x) { x -> Forever }
    pub struct Net(x: [3, 32, 32]) {
        x -> Forever
    }
}

fn main() {}
