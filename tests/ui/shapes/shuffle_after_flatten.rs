use netspec::network;

network! {
    pub struct Net(x: [6, 2, 2]) {
        let (a, b) = chunk(x, 2);
        cat(a, b) -> Flatten -> ChannelShuffle(2)
    }
}

fn main() {}
