use netspec::network;

network! {
    pub struct Tokens(x: [197, 768]) {
        let pos = pos_embedding: Parameter(1, 196, 768);
        x + pos
    }
    pub struct Scale(x: [96, 56, 56]) {
        let s = layer_scale: Parameter(48, 1, 1);
        x * s
    }
}

fn main() {}
