use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let a = x -> ReLU;
        concat(a, x)
    }
}

fn main() {}
