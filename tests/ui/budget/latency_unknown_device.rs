use netspec::network;

network! {
    #[budget(latency(raspberry_pi_4) <= 5ms)]
    pub struct Net(x: [3, 64, 64]) {
        x -> conv: Conv2d(16, 3, padding = 1)
    }
}

fn main() {}
