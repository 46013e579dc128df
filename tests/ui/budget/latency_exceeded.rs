use netspec::network;

network! {
    #[budget(params <= 10K, latency(raspberry_pi_5) <= 20us)]
    pub struct Net(x: [3, 64, 64]) {
        x -> conv: Conv2d(16, 3, padding = 1) -> ReLU
    }
}

fn main() {}
