//! MobileNet V1 (Howard et al., 2017), as timm builds it (`mobilenetv1_100`),
//! with timm's layer names. Channels are scaled by `width` and rounded by
//! timm's `round_channels` (`make_divisible(c * width, 8)`).

use crate::network;

network! {
    /// The activation half of timm's `BatchNormAct2d` (its `drop` and `act`
    /// children); the batch norm itself is the layer of the same name just
    /// before, as timm's module holds the batch-norm weights.
    block BatchNormAct2d(x) {
        x -> drop: Identity -> act: ReLU6
    }

    /// timm's `DepthwiseSeparableConv` as `dsa` blocks build it: depthwise 3x3
    /// (`conv_dw`), batch norm and ReLU6, pointwise 1x1 (`conv_pw`), batch
    /// norm and ReLU6; `aa` and `se` are identities; no residual.
    block DepthwiseSeparable(x, out, stride) {
        x -> conv_dw: Conv2d(x.channels, 3, stride = stride, padding = 1, groups = x.channels, bias = false)
          -> bn1: BatchNorm2d -> bn1: BatchNormAct2d
          -> aa: Identity -> se: Identity
          -> conv_pw: Conv2d(out, 1, bias = false)
          -> bn2: BatchNorm2d -> bn2: BatchNormAct2d
    }

    /// One stage of `n` depthwise separable blocks to `out` channels, the
    /// first with `stride`.
    block Stage(x, out, stride, n) {
        x -> [for i in 0..n => DepthwiseSeparable(out, if i == 0 { stride } else { 1 })]
    }

    /// timm's `_gen_mobilenet_v1` at any `width`: stem of 32 channels, the five
    /// stages `dsa_r1_k3_s1_c64`, `dsa_r2_k3_s2_c128`, `dsa_r2_k3_s2_c256`,
    /// `dsa_r6_k3_s2_c512`, `dsa_r2_k3_s2_c1024`, no head convolution (timm's
    /// `conv_head` and `bn2` are identities), global average pooling and the
    /// classifier.
    block MobileNet(x, width = 1.0) {
        x -> conv_stem: Conv2d(make_divisible(32 * width, 8), 3, stride = 2, padding = 1, bias = false)
          -> bn1: BatchNorm2d -> bn1: BatchNormAct2d
          -> blocks: [
                Stage(make_divisible(64 * width, 8), 1, 1),
                Stage(make_divisible(128 * width, 8), 2, 2),
                Stage(make_divisible(256 * width, 8), 2, 2),
                Stage(make_divisible(512 * width, 8), 2, 6),
                Stage(make_divisible(1024 * width, 8), 2, 2),
            ]
          -> conv_head: Identity -> bn2: Identity
          -> global_pool: [pool: AdaptiveAvgPool2d(1), flatten: Flatten]
          -> classifier: Linear(1000)
    }

    /// MobileNet V1 1.0 (Howard et al., 2017), timm's `mobilenetv1_100`. The
    /// paper's Table 8 gives 4.2 M parameters and 569 M mult-adds; timm's
    /// count is 4,231,976 and 568,740,352.
    pub struct MobileNetV1(x: [3, 224, 224]) {
        x -> MobileNet(1.0)
    }
}
