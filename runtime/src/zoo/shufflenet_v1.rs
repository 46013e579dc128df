//! ShuffleNet V1 (Zhang et al., 2018), g = 3, 1.0x: neither torchvision nor
//! timm ships it, so the architecture is the paper's Table 1 and the layer
//! names are those of the authors' PyTorch code (megvii-model/ShuffleNet-Series,
//! `ShuffleNetV1`).

use crate::network;

network! {
    /// The ShuffleNet unit (the paper's Figure 2 (b), (c)): a grouped 1x1
    /// convolution to a bottleneck of `out / 4` channels (ungrouped for the
    /// network's first unit, whose input has only 24 channels), batch norm,
    /// ReLU, a depthwise 3x3 with the unit's stride and batch norm, the
    /// channel shuffle, a grouped 1x1 convolution and batch norm. With
    /// stride 1 the input is added and ReLU applied; with stride 2 the input,
    /// average-pooled 3x3 with stride 2, is concatenated with the
    /// ReLU-activated branch, which therefore has `out - in` channels.
    block ShuffleUnit(x, out, stride, groups, first_group = false) {
        let mid = out / 4;
        let branch = if stride == 2 { out - x.channels } else { out };
        let y = x -> branch_main_1: [
                Conv2d(mid, 1, groups = if first_group { 1 } else { groups }, bias = false),
                BatchNorm2d, ReLU,
                Conv2d(mid, 3, stride = stride, padding = 1, groups = mid, bias = false),
                BatchNorm2d,
            ]
          -> ChannelShuffle(groups)
          -> branch_main_2: [Conv2d(branch, 1, groups = groups, bias = false), BatchNorm2d];
        if stride == 2 {
            cat(x -> branch_proj: AvgPool2d(3, stride = 2, padding = 1), y -> ReLU)
        } else {
            (y + x) -> ReLU
        }
    }

    /// The paper's Table 1 for `groups` groups and stage output channels
    /// `c2, c3, c4`: a 3x3 stride-2 convolution to 24 channels, 3x3 max
    /// pooling, stages of 4, 8 and 4 units (the first of each with stride 2),
    /// 7x7 global average pooling and a fully connected layer to 1000
    /// classes (no bias, as in the authors' code).
    block ShuffleNetV1Body(x, groups, c2, c3, c4) {
        x -> first_conv: [Conv2d(24, 3, stride = 2, padding = 1, bias = false), BatchNorm2d, ReLU]
          -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
          -> features: [
                for i in 0..4 => ShuffleUnit(c2, if i == 0 { 2 } else { 1 }, groups, i == 0),
                for i in 0..8 => ShuffleUnit(c3, if i == 0 { 2 } else { 1 }, groups),
                for i in 0..4 => ShuffleUnit(c4, if i == 0 { 2 } else { 1 }, groups),
            ]
          -> globalpool: AvgPool2d(7) -> Flatten
          -> classifier: [Linear(1000, bias = false)]
    }

    /// ShuffleNet V1 1.0x with g = 3 (Zhang et al., 2018, Table 1: stage
    /// output channels 240, 480 and 960; the paper sizes its 1.0x networks to
    /// about 140 MFLOPs, counting multiply-adds).
    pub struct ShuffleNetV1(x: [3, 224, 224]) {
        x -> ShuffleNetV1Body(3, 240, 480, 960)
    }
}
