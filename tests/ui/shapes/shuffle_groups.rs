use netspec::network;

network! {
    pub struct Net(x: [6, 8, 8]) {
        x -> ChannelShuffle(4)
    }
}

fn main() {}
