use netspec::network;

network! {
    pub struct Net(x: [197, 768]) {
        x -> attn: MultiheadAttention(12)
    }
}

fn main() {}
