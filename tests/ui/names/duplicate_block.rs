use netspec::network;

network! {
    block Stem(x) { x -> ReLU }
    block Stem(x) { x -> ReLU6 }
    pub struct Net(x: [3, 32, 32]) {
        x -> Stem
    }
}

fn main() {}
