//! MobileNetV2 (Sandler et al., 2018), as torchvision builds it.

use crate::network;

network! {
    /// torchvision's `Conv2dNormActivation` with ReLU6: convolution (padding
    /// `(kernel - 1) / 2`, no bias), batch norm, ReLU6, named 0, 1, 2.
    block ConvBNReLU6(x, out, kernel = 3, stride = 1, groups = 1) {
        x -> [
            Conv2d(out, kernel, stride = stride, padding = (kernel - 1) / 2, groups = groups, bias = false),
            BatchNorm2d,
            ReLU6,
        ]
    }

    /// torchvision's `InvertedResidual`: 1x1 expansion (skipped when
    /// `expand_ratio` is 1), 3x3 depthwise, linear 1x1 projection, and a
    /// residual when the shape is kept.
    block InvertedResidual(x, out, stride, expand_ratio) {
        let hidden = x.channels * expand_ratio;
        let y = x -> conv: [
            if expand_ratio != 1 { ConvBNReLU6(hidden, 1) },
            ConvBNReLU6(hidden, 3, stride = stride, groups = hidden),
            Conv2d(out, 1, bias = false),
            BatchNorm2d,
        ];
        if stride == 1 && x.channels == out { x + y } else { y }
    }

    /// MobileNetV2 (Sandler et al., 2018), width 1.0, torchvision's `mobilenet_v2`.
    #[budget(params <= 3.6M, macs <= 320M)]
    pub struct MobileNetV2(x: [3, 224, 224]) {
        x -> features: [
                ConvBNReLU6(32, stride = 2),
                InvertedResidual(16, 1, 1),
                for i in 0..2 => InvertedResidual(24, if i == 0 { 2 } else { 1 }, 6),
                for i in 0..3 => InvertedResidual(32, if i == 0 { 2 } else { 1 }, 6),
                for i in 0..4 => InvertedResidual(64, if i == 0 { 2 } else { 1 }, 6),
                for i in 0..3 => InvertedResidual(96, 1, 6),
                for i in 0..3 => InvertedResidual(160, if i == 0 { 2 } else { 1 }, 6),
                InvertedResidual(320, 1, 6),
                ConvBNReLU6(1280, 1),
            ]
          -> AdaptiveAvgPool2d(1) -> Flatten
          -> classifier: [Dropout(0.2), Linear(1000)]
    }
}
