use netspec::network;

network! {
    pub struct Head(x: [16, 8, 8]) {
        x -> Upsample(scale_factor = 2, align_corners = true)
    }
}

fn main() {}
