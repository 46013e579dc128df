use netspec::network;

network! {
    #[budget(params <= 2K, macs <= 1M, flops <= 1G)]
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}

fn main() {}
