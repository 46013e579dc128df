use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> MaxPool2d(3, padding = 2)
    }
}

fn main() {}
