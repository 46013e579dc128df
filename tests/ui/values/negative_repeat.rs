use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> stack: [ReLU; 0 - 2]
    }
}

fn main() {}
