//! ShuffleNet V2 (Ma et al., 2018), as torchvision builds it, at the four
//! widths torchvision ships. The widths differ only in their stage channels
//! (the paper's Table 5), so one body block takes them as arguments.

use crate::network;

network! {
    /// torchvision's `InvertedResidual` branch 2: 1x1, depthwise 3x3 (with the
    /// unit's stride), 1x1, each followed by batch norm, ReLU after the 1x1s;
    /// named 0..7.
    block Branch2(x, half, stride) {
        x -> [
            Conv2d(half, 1, bias = false), BatchNorm2d, ReLU,
            Conv2d(half, 3, stride = stride, padding = 1, groups = half, bias = false), BatchNorm2d,
            Conv2d(half, 1, bias = false), BatchNorm2d, ReLU,
        ]
    }

    /// torchvision's `InvertedResidual`: with stride 1, split the channels in
    /// two (`x.chunk(2, dim=1)`) and transform the second half; with stride 2,
    /// transform the whole input twice (`branch1`: depthwise 3x3, 1x1) and
    /// concatenate. Then the functional `channel_shuffle(out, 2)`.
    block ShuffleUnit(x, out, stride) {
        let half = out / 2;
        let y = if stride > 1 {
            cat(
                x -> branch1: [
                    Conv2d(x.channels, 3, stride = stride, padding = 1, groups = x.channels, bias = false),
                    BatchNorm2d,
                    Conv2d(half, 1, bias = false), BatchNorm2d, ReLU,
                ],
                x -> branch2: Branch2(half, stride),
            )
        } else {
            cat(narrow(x, 0, half), narrow(x, half, half) -> branch2: Branch2(half, 1))
        };
        y -> ChannelShuffle(2)
    }

    /// torchvision's `ShuffleNetV2` body with `stages_repeats = [4, 8, 4]`
    /// and `stages_out_channels = [24, c2, c3, c4, c5]`: a 3x3 stem, max
    /// pooling, three stages whose first unit halves the resolution, a 1x1
    /// `conv5`, the functional global mean `x.mean([2, 3])` and `fc`.
    block ShuffleNetV2(x, c2, c3, c4, c5) {
        let y = x -> conv1: [Conv2d(24, 3, stride = 2, padding = 1, bias = false), BatchNorm2d, ReLU]
                  -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
                  -> stage2: [for i in 0..4 => ShuffleUnit(c2, if i == 0 { 2 } else { 1 })]
                  -> stage3: [for i in 0..8 => ShuffleUnit(c3, if i == 0 { 2 } else { 1 })]
                  -> stage4: [for i in 0..4 => ShuffleUnit(c4, if i == 0 { 2 } else { 1 })]
                  -> conv5: [Conv2d(c5, 1, bias = false), BatchNorm2d, ReLU];
        mean(y) -> fc: Linear(1000)
    }

    /// ShuffleNet V2 0.5x, torchvision's `shufflenet_v2_x0_5`.
    pub struct ShuffleNetV2X0_5(x: [3, 224, 224]) {
        x -> ShuffleNetV2(48, 96, 192, 1024)
    }

    /// ShuffleNet V2 1.0x, torchvision's `shufflenet_v2_x1_0`.
    pub struct ShuffleNetV2X1_0(x: [3, 224, 224]) {
        x -> ShuffleNetV2(116, 232, 464, 1024)
    }

    /// ShuffleNet V2 1.5x, torchvision's `shufflenet_v2_x1_5`.
    pub struct ShuffleNetV2X1_5(x: [3, 224, 224]) {
        x -> ShuffleNetV2(176, 352, 704, 1024)
    }

    /// ShuffleNet V2 2.0x, torchvision's `shufflenet_v2_x2_0`.
    pub struct ShuffleNetV2X2_0(x: [3, 224, 224]) {
        x -> ShuffleNetV2(244, 488, 976, 2048)
    }
}
