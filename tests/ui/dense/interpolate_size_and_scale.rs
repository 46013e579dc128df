use netspec::network;

network! {
    pub struct Head(x: [16, 8, 8]) {
        let y = x -> Conv2d(4, 1);
        interpolate(y, size = (32, 32), scale_factor = 4.0, mode = "bilinear")
    }
}

fn main() {}
