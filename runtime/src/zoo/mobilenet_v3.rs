//! MobileNetV3 Large and Small (Howard et al., 2019), as torchvision builds
//! them. Every channel count goes through torchvision's `_make_divisible(c *
//! width, 8)`, so other widths are one argument away.

use crate::network;

network! {
    /// torchvision's `Conv2dNormActivation` with MobileNetV3's batch norm
    /// (eps 0.001, momentum 0.01): convolution (padding `(kernel - 1) / 2`,
    /// no bias), batch norm, then Hardswish (`hs`), ReLU, or nothing (`act =
    /// false`); named 0, 1, 2.
    block ConvBNAct(x, out, kernel = 3, stride = 1, groups = 1, hs = false, act = true) {
        x -> [
            Conv2d(out, kernel, stride = stride, padding = (kernel - 1) / 2, groups = groups, bias = false),
            BatchNorm2d(eps = 0.001, momentum = 0.01),
            if act && hs { Hardswish },
            if act && !hs { ReLU },
        ]
    }

    /// torchvision's `SqueezeExcitation` with a Hardsigmoid gate: global
    /// average pooling, 1x1 down to `squeeze` channels, ReLU, 1x1 back up,
    /// Hardsigmoid, and the input scaled channel by channel.
    block SqueezeExcitation(x, squeeze) {
        let scale = x -> avgpool: AdaptiveAvgPool2d(1)
                      -> fc1: Conv2d(squeeze, 1) -> activation: ReLU
                      -> fc2: Conv2d(x.channels, 1) -> scale_activation: Hardsigmoid;
        x * scale
    }

    /// torchvision's MobileNetV3 `InvertedResidual` from one row of its
    /// `bneck_conf(input, kernel, expanded, out, use_se, activation, stride)`:
    /// 1x1 expansion (skipped when the expanded width equals the input's),
    /// depthwise `kernel`, optional squeeze-and-excitation to
    /// `_make_divisible(expanded // 4, 8)` channels, linear 1x1 projection,
    /// and a residual when the shape is kept. Channels are scaled by `width`
    /// and rounded by `_make_divisible(c * width, 8)`.
    block Bneck(x, kernel, expanded, out, se, hs, stride, width = 1.0) {
        let exp = make_divisible(expanded * width, 8);
        let o = make_divisible(out * width, 8);
        let y = x -> block: [
            if exp != x.channels { ConvBNAct(exp, 1, hs = hs) },
            ConvBNAct(exp, kernel, stride = stride, groups = exp, hs = hs),
            if se { SqueezeExcitation(make_divisible(exp / 4, 8)) },
            ConvBNAct(o, 1, act = false),
        ];
        if stride == 1 && x.channels == o { y + x } else { y }
    }

    /// The stem: a 3x3 stride-2 convolution to `_make_divisible(16 * width, 8)`
    /// channels with Hardswish.
    block Stem(x, width = 1.0) {
        x -> ConvBNAct(make_divisible(16 * width, 8), 3, stride = 2, hs = true)
    }

    /// The head: a 1x1 convolution to six times the last block's channels
    /// (inside `features`, called as its last item), then global average
    /// pooling, the functional `torch.flatten`, and the classifier: Linear to
    /// `last` channels, Hardswish, Dropout 0.2, Linear to 1000 classes.
    block Head(x, last) {
        x -> avgpool: AdaptiveAvgPool2d(1) -> Flatten
          -> classifier: [Linear(last), Hardswish, Dropout(0.2), Linear(1000)]
    }

    /// torchvision's `mobilenet_v3_large` at any `width`: the 15 rows of its
    /// `_mobilenet_v3_conf("mobilenet_v3_large")`.
    block Large(x, width = 1.0) {
        x -> features: [
                Stem(width),
                Bneck(3, 16, 16, false, false, 1, width),
                Bneck(3, 64, 24, false, false, 2, width),
                Bneck(3, 72, 24, false, false, 1, width),
                Bneck(5, 72, 40, true, false, 2, width),
                Bneck(5, 120, 40, true, false, 1, width),
                Bneck(5, 120, 40, true, false, 1, width),
                Bneck(3, 240, 80, false, true, 2, width),
                Bneck(3, 200, 80, false, true, 1, width),
                Bneck(3, 184, 80, false, true, 1, width),
                Bneck(3, 184, 80, false, true, 1, width),
                Bneck(3, 480, 112, true, true, 1, width),
                Bneck(3, 672, 112, true, true, 1, width),
                Bneck(5, 672, 160, true, true, 2, width),
                Bneck(5, 960, 160, true, true, 1, width),
                Bneck(5, 960, 160, true, true, 1, width),
                ConvBNAct(6 * make_divisible(160 * width, 8), 1, hs = true),
            ]
          -> Head(make_divisible(1280 * width, 8))
    }

    /// torchvision's `mobilenet_v3_small` at any `width`: the 11 rows of its
    /// `_mobilenet_v3_conf("mobilenet_v3_small")`.
    block Small(x, width = 1.0) {
        x -> features: [
                Stem(width),
                Bneck(3, 16, 16, true, false, 2, width),
                Bneck(3, 72, 24, false, false, 2, width),
                Bneck(3, 88, 24, false, false, 1, width),
                Bneck(5, 96, 40, true, true, 2, width),
                Bneck(5, 240, 40, true, true, 1, width),
                Bneck(5, 240, 40, true, true, 1, width),
                Bneck(5, 120, 48, true, true, 1, width),
                Bneck(5, 144, 48, true, true, 1, width),
                Bneck(5, 288, 96, true, true, 2, width),
                Bneck(5, 576, 96, true, true, 1, width),
                Bneck(5, 576, 96, true, true, 1, width),
                ConvBNAct(6 * make_divisible(96 * width, 8), 1, hs = true),
            ]
          -> Head(make_divisible(1024 * width, 8))
    }

    /// MobileNetV3-Large 1.0 (Howard et al., 2019), torchvision's `mobilenet_v3_large`.
    pub struct MobileNetV3Large(x: [3, 224, 224]) {
        x -> Large(1.0)
    }

    /// MobileNetV3-Small 1.0 (Howard et al., 2019), torchvision's `mobilenet_v3_small`.
    pub struct MobileNetV3Small(x: [3, 224, 224]) {
        x -> Small(1.0)
    }
}
