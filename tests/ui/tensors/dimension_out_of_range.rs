use netspec::network;

network! {
    pub struct Transpose(x: [197, 768]) {
        x.transpose(1, 3)
    }
    pub struct Softmax(x: [197, 768]) {
        softmax(x, -4)
    }
    pub struct Select(x: [197, 768]) {
        x[:, 197]
    }
}

fn main() {}
