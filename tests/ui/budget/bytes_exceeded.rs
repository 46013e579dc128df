use netspec::network;

network! {
    #[budget(weight_bytes <= 4KiB, peak_activation < 256KiB)]
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}

fn main() {}
