use netspec::network;

network! {
    pub struct Net(x: [16]) {
        x -> Dropout(1.5)
    }
}

fn main() {}
