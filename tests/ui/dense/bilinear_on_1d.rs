use netspec::network;

network! {
    pub struct Signal(x: [4, 100]) {
        let y = x -> Conv1d(8, 3, padding = 1);
        interpolate(y, scale_factor = 2, mode = "bilinear")
    }
}

fn main() {}
