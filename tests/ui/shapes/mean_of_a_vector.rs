use netspec::network;

network! {
    pub struct Flat(x: [3, 8, 8]) {
        let v = x -> Flatten;
        mean(v)
    }
    pub struct Keep(x: [3, 8, 8]) {
        mean(x, keepdim = 1)
    }
}

fn main() {}
