use netspec::network;

network! {
    pub struct Head(x: [16, 8, 8]) {
        x -> Upsample(mode = "nearest")
    }
}

fn main() {}
