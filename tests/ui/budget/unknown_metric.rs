use netspec::network;

network! {
    #[budget(parameters <= 1M)]
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}

fn main() {}
