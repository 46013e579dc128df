use netspec::network;

network! {
    pub struct Tokens(x: [197, 768]) {
        x.reshape(197, 3, 12, 64)
    }
    pub struct Free(x: [197, 768]) {
        x.reshape(-1, 5)
    }
}

fn main() {}
