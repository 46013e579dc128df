use netspec::network;

network! {
    pub struct Net(x: [16, 64]) {
        let w = x -> Linear(32);
        x @ w
    }
}

fn main() {}
