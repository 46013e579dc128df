use netspec::network;

network! {
    #[budget(latency("h100-sxm") <= 5, macs(cpu) <= 1M)]
    pub struct Net(x: [3, 64, 64]) {
        x -> conv: Conv2d(16, 3, padding = 1)
    }
}

fn main() {}
