use netspec::network;

network! {
    pub struct Decoder(x: [16, 8, 8]) {
        x -> ConvTranspose2d(8, 3, stride = 2, padding = 1, output_padding = 2)
    }
}

fn main() {}
