use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let y = x -> ReLU;
        x % y
    }
}

fn main() {}
