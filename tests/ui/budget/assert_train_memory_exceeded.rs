use netspec::budget::units::KIB;
use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}
// Adam in f32 at batch 64: 815,104 B (see train_budget_exceeded.rs).
netspec::assert_budget!(Net, train_flops <= 10_000_000, train_memory(batch = 64, optimizer = adam) <= 512 * KIB);

fn main() {}
