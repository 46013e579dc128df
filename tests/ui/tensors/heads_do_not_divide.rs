use netspec::network;

network! {
    pub struct Module(x: [197, 768]) {
        x -> attn: MultiheadAttention(10, batch_first = true)
    }
    pub struct Function(x: [197, 768]) {
        attention(x, x, x, heads = 5)
    }
}

fn main() {}
