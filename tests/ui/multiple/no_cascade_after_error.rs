use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2d(8, 3, groups = 5)
    }
}

// The failed network still exists with its consts: no "cannot find" errors follow.
const _: u64 = Net::PARAMS;

fn main() {}
