use netspec::network;

network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Conv2d(8 3)
    }

    pub struct Other(x: [3, 32, 32]) {
        x -> Conv2d(8, 3)
    }
}

// A syntax error in `Net`'s body leaves `Net` as a stub with its consts, and
// `Other` compiles: only the syntax error is reported.
const _: u64 = Net::PARAMS;
const _: u64 = Other::PARAMS;

fn main() {}
