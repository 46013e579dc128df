use netspec::network;

network! {
    block Width(x) { x.channels * 2 }
    pub struct Net(x: [3, 32, 32]) {
        x -> Width
    }
}

fn main() {}
