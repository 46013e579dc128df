//! U-Net (Ronneberger, Fischer and Brox, MICCAI 2015, "U-Net: Convolutional
//! Networks for Biomedical Image Segmentation"), the classic of the paper's
//! figure 1: unpadded 3x3 convolutions, so every level shrinks its map by 4,
//! and the encoder's features centre-cropped to the decoder's size before
//! they are concatenated.
//!
//! Layer names, in plain PyTorch style (no library ships this network):
//! `down1` ... `down4` and `bottleneck` are the contracting path's double
//! convolutions (`conv1`, `conv2`, each followed by a ReLU), `pool` the 2x2
//! max pool between them; `up1` ... `up4` the expanding path (`up`, the 2x2
//! stride-2 transposed convolution that halves the channels, then `conv1`
//! and `conv2` on the cropped encoder feature concatenated before the
//! upsampled one); `final` the 1x1 convolution to the classes. Every
//! convolution has a bias, as in the paper.

use crate::network;

network! {
    /// Two unpadded 3x3 convolutions to `c` channels, each followed by a
    /// ReLU (`conv1`, `conv2`).
    block DoubleConv(x, c) {
        x -> conv1: Conv2d(c, 3) -> relu: ReLU(inplace = true)
          -> conv2: Conv2d(c, 3) -> relu: ReLU(inplace = true)
    }

    /// One level of the expanding path: the up-convolution `up` (2x2,
    /// stride 2, to `c` channels), the encoder's `skip` cropped to its centre
    /// at the upsampled size, concatenated first, and `DoubleConv(c)`.
    block Up(x, skip, c) {
        let u = x -> up: ConvTranspose2d(c, 2, stride = 2);
        let top = (skip.height - u.height) / 2;
        let left = (skip.width - u.width) / 2;
        let cropped = skip[:, :, top:top + u.height, left:left + u.width];
        cat(cropped, u, dim = 1) -> DoubleConv(c)
    }

    /// The U-Net with `c` channels at its first level (doubled at each of
    /// the four below it) and `classes` output maps.
    block UNetBody(x, c, classes) {
        let d1 = x -> down1: DoubleConv(c);
        let d2 = d1 -> pool: MaxPool2d(2, stride = 2) -> down2: DoubleConv(2 * c);
        let d3 = d2 -> pool: MaxPool2d(2, stride = 2) -> down3: DoubleConv(4 * c);
        let d4 = d3 -> pool: MaxPool2d(2, stride = 2) -> down4: DoubleConv(8 * c);
        d4 -> pool: MaxPool2d(2, stride = 2) -> bottleneck: DoubleConv(16 * c)
           -> up1: Up(d4, 8 * c) -> up2: Up(d3, 4 * c) -> up3: Up(d2, 2 * c) -> up4: Up(d1, c)
           -> "final": Conv2d(classes, 1)
    }

    /// The classic U-Net (Ronneberger et al., 2015) of the paper's figure 1:
    /// a 572x572 single-channel tile, 64 to 1024 channels, 2 classes on the
    /// 388x388 centre of the tile. 31,030,658 parameters.
    #[budget(params <= 31.1M, macs <= 151G)]
    pub struct UNet(x: [1, 572, 572]) {
        x -> UNetBody(64, 2)
    }

    /// `UNet`'s layers with 4 channels at the first level (4 to 64), on the
    /// smallest tile the unpadded levels allow, 188x188 (its output is
    /// 2x4x4), for tests of the forward pass.
    pub struct SmallUNet(x: [1, 188, 188]) {
        x -> UNetBody(4, 2)
    }
}
