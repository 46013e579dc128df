use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}
netspec::assert_budget!(Net, weights <= 1_000);

fn main() {}
