use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        let out = x -> conv: Conv2d(8, 3) -> AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(10);
        (out, x.channels)
    }
}

fn main() {
    // The stub keeps the tuple type: no cascade here.
    let _: fn(&Net, &netspec::Tensor) -> Result<(netspec::Tensor, netspec::Tensor), netspec::Error> =
        Net::forward;
}
