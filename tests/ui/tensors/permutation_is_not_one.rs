use netspec::network;

network! {
    pub struct Twice(x: [96, 56, 56]) {
        x.permute(0, 2, 2, 1)
    }
    pub struct Short(x: [96, 56, 56]) {
        x.permute(0, 2, 1)
    }
    pub struct MovesTheBatch(x: [96, 56, 56]) {
        x.permute(1, 0, 2, 3)
    }
}

fn main() {}
