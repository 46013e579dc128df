//! ESPNet (Mehta et al., ECCV 2018, "ESPNet: Efficient Spatial Pyramid of
//! Dilated Convolutions for Semantic Segmentation") at its published
//! configuration, p = 2 and q = 8 on Cityscapes with 20 classes, as the
//! authors' code builds it (github.com/sacmehta/ESPNet at afe71c3), with that
//! code's module names, so that its state dicts load by name.
//!
//! The code ships two copies of its model file. `train/Model.py` gives the
//! last convolution of the decoder, `conv`, `19 + classes` input channels
//! (the first level's output concatenated with the image pyramid, after
//! `b1`); `test/Model.py` gives it `16 + classes` (the first level's output
//! before the concatenation). The released Cityscapes checkpoints
//! (`pretrained/decoder/espnet_p_2_q_{3,5,8}.pth`) hold the second
//! (`conv.conv.weight` is `[20, 36, 3, 3]`; only the CamVid one has the
//! first), and so does this network: 364,569 parameters, the paper's
//! 0.364 M (the training file's variant has 365,109).
//!
//! The encoder (`ESPNet_Encoder`, state-dict prefix `encoder`) is written as
//! three calls at the path `encoder`, because the decoder reads three of its
//! intermediate tensors and a block returns one: its first level, its second
//! (the image pyramid, `b1`, `level2_0`, `level2`, `b2`), and its third
//! (`level3_0`, `level3`, `b3`, `classifier`). Their layers run in the code's
//! order.

use crate::network;

network! {
    /// The code's `C`: a `kSize`x`kSize` convolution without bias, padded to
    /// keep the size at stride 1 (`conv`).
    block C(x, n_out, k_size, stride = 1) {
        x -> conv: Conv2d(n_out, k_size, stride = stride, padding = (k_size - 1) / 2, bias = false)
    }

    /// The code's `CDilated`: `C` with dilation `d`, padded by
    /// `(kSize - 1) / 2 · d` (`conv`).
    block CDilated(x, n_out, k_size, stride = 1, d = 1) {
        x -> conv: Conv2d(n_out, k_size, stride = stride, padding = (k_size - 1) / 2 * d,
                          dilation = d, bias = false)
    }

    /// The code's `BR`: batch norm (eps 1e-3) and a per-channel PReLU
    /// (`bn`, `act`).
    block BR(x) {
        x -> bn: BatchNorm2d(eps = 1e-3) -> act: PReLU(x.channels)
    }

    /// The code's `CBR`: `C`'s convolution, batch norm (eps 1e-3) and a
    /// per-channel PReLU (`conv`, `bn`, `act`).
    block CBR(x, n_out, k_size, stride = 1) {
        x -> conv: Conv2d(n_out, k_size, stride = stride, padding = (k_size - 1) / 2, bias = false)
          -> bn: BatchNorm2d(eps = 1e-3) -> act: PReLU(n_out)
    }

    /// The part the code writes out in both of its ESP modules,
    /// `DownSamplerB` and `DilatedParllelResidualBlockB`: a `k_size`x`k_size`
    /// reduction of stride `stride` to n = nOut / 5 channels (`c1`), five
    /// parallel dilated 3x3 convolutions (d = 1, 2, 4, 8, 16; `d1` gives the
    /// remaining nOut − 4·n channels), hierarchical feature fusion (running
    /// sums of d2, d4, d8, d16) and their concatenation. Called without a
    /// name, so that its layers sit at the module's own path
    /// (`encoder.level2_0.c1.conv`).
    block EspBranches(x, n_out, k_size, stride) {
        let n = n_out / 5;
        let n1 = n_out - 4 * n;
        let output1 = x -> c1: C(n, k_size, stride);
        let d1 = output1 -> d1: CDilated(n1, 3, 1, 1);
        let d2 = output1 -> d2: CDilated(n, 3, 1, 2);
        let d4 = output1 -> d4: CDilated(n, 3, 1, 4);
        let d8 = output1 -> d8: CDilated(n, 3, 1, 8);
        let d16 = output1 -> d16: CDilated(n, 3, 1, 16);
        let add1 = d2;
        let add2 = add1 + d4;
        let add3 = add2 + d8;
        let add4 = add3 + d16;
        cat(d1, add1, add2, add3, add4, dim = 1)
    }

    /// The code's `DownSamplerB`, the strided ESP module: `EspBranches` with
    /// a strided 3x3 `c1`, then batch norm and PReLU (`bn`, `act`).
    block DownSamplerB(x, n_out) {
        x -> EspBranches(n_out, 3, 2) -> bn: BatchNorm2d(eps = 1e-3) -> act: PReLU(n_out)
    }

    /// The code's `DilatedParllelResidualBlockB`, the ESP module:
    /// `EspBranches` with a 1x1 `c1`, the input added back when `add`, then
    /// `BR` (`bn`).
    block DilatedParllelResidualBlockB(x, n_out, add = true) {
        let combine = x -> EspBranches(n_out, 1, 1);
        let combine = if add { x + combine } else { combine };
        combine -> bn: BR
    }

    /// The code's `InputProjectionA`: `samplingTimes` 3x3 average pools of
    /// stride 2 and padding 1 (`pool.0`, `pool.1`, ...), the image pyramid.
    block InputProjectionA(x, sampling_times) {
        x -> pool: [AvgPool2d(3, stride = 2, padding = 1); sampling_times]
    }

    /// `ESPNet_Encoder`'s first level, `level1` (`CBR(3, 16, 3, 2)`): the
    /// code's `output0`, at half the input's size.
    block EncoderLevel1(x) {
        x -> level1: CBR(16, 3, 2)
    }

    /// `ESPNet_Encoder`'s second level on the image `x` and the first
    /// level's `output0`: the pyramid `sample1` and `sample2`, `b1` on their
    /// concatenation, `level2_0` (`DownSamplerB` to 64 channels), `p` ESP
    /// modules (`level2`) and `b2` on the concatenation of the last one's
    /// output, `level2_0`'s and `sample2`'s: the code's `output1_cat`
    /// (128 + 3 channels, a quarter of the input's size).
    block EncoderLevel2(x, output0, p) {
        let inp1 = x -> sample1: InputProjectionA(1);
        let inp2 = x -> sample2: InputProjectionA(2);
        let output0_cat = cat(output0, inp1, dim = 1) -> b1: BR;
        let output1_0 = output0_cat -> level2_0: DownSamplerB(64);
        let output1 = output1_0 -> level2: [DilatedParllelResidualBlockB(64); p];
        cat(output1, output1_0, inp2, dim = 1) -> b2: BR
    }

    /// `ESPNet_Encoder`'s third level on `output1_cat`: `level3_0`
    /// (`DownSamplerB` to 128 channels), `q` ESP modules (`level3`), `b3` on
    /// the concatenation of `level3_0`'s output and the last module's, and
    /// the 1x1 `classifier` to `classes` channels, at an eighth of the
    /// input's size.
    block EncoderLevel3(x, q, classes) {
        let output2_0 = x -> level3_0: DownSamplerB(128);
        let output2 = output2_0 -> level3: [DilatedParllelResidualBlockB(128); q];
        cat(output2_0, output2, dim = 1) -> b3: BR -> classifier: C(classes, 1, 1)
    }

    /// The code's `ESPNet` (`test/Model.py`, the released checkpoints'):
    /// the encoder, then the light-weight decoder. The encoder's classes
    /// through `br` and `up_l3` (a 2x2 stride-2 transposed convolution)
    /// meet `level3_C` (1x1 from `output1_cat`) in `combine_l2_l3` (`BR`
    /// and an ESP module without the residual add), `up_l2` doubles again,
    /// `conv` (`CBR` 3x3) fuses it with the first level's output and the
    /// transposed `classifier` brings it to the input's size.
    block ESPNetBody(x, classes, p, q) {
        let output0 = x -> encoder: EncoderLevel1;
        let output1_cat = x -> encoder: EncoderLevel2(output0, p);
        let output2_cat = output1_cat -> encoder: EncoderLevel3(q, classes);
        let output2_c = output2_cat -> br: BatchNorm2d(eps = 1e-3)
            -> up_l3: [ConvTranspose2d(classes, 2, stride = 2, padding = 0, output_padding = 0, bias = false)];
        let output1_c = output1_cat -> level3_C: C(classes, 1, 1);
        let comb_l2_l3 = cat(output1_c, output2_c, dim = 1)
            -> combine_l2_l3: [BR, DilatedParllelResidualBlockB(classes, add = false)]
            -> up_l2: [ConvTranspose2d(classes, 2, stride = 2, padding = 0, output_padding = 0, bias = false), BR];
        cat(comb_l2_l3, output0, dim = 1)
            -> conv: CBR(classes, 3, 1)
            -> classifier: ConvTranspose2d(classes, 2, stride = 2, padding = 0, output_padding = 0, bias = false)
    }

    /// ESPNet (Mehta et al., ECCV 2018), the authors' `ESPNet(classes = 20,
    /// p = 2, q = 8)` on Cityscapes at the 1024x512 (width x height) the
    /// authors train and test it at: 364,569 parameters (the paper's 0.364 M),
    /// one score map per class at the input's size. Every convolution is
    /// without bias; batch norms use eps 1e-3, PReLUs one slope per channel.
    #[budget(params <= 0.37M, macs <= 4.8G)]
    pub struct ESPNet(x: [3, 512, 1024]) {
        x -> ESPNetBody(20, 2, 8)
    }

    /// `ESPNet` at 3x64x128: the same layers and state dict, a small input
    /// (any height and width divisible by 8 works) for tests of the forward
    /// pass.
    pub struct SmallESPNet(x: [3, 64, 128]) {
        x -> ESPNetBody(20, 2, 8)
    }
}
