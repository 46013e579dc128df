use netspec::network;

network! {
    pub struct Net(x: [16]) {
        x -> Linear(10, true, 3)
    }
}

fn main() {}
