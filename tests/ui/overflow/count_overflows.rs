use netspec::network;

network! {
    pub struct Net(x: [4000000000, 4000000000, 4000000000]) {
        x -> ReLU
    }
}

fn main() {}
