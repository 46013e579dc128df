//! MobileNetV3 Large and Small (Howard et al., 2019), as torchvision builds
//! them, and torchvision's two segmentation models on a dilated
//! MobileNetV3-Large: LR-ASPP (Howard et al., 2019) and DeepLabV3 (Chen et
//! al., 2017). Every channel count goes through torchvision's
//! `_make_divisible(c * width, 8)`, so other widths are one argument away.
//!
//! The segmentation models are torchvision's without their auxiliary heads
//! (`aux_loss=None`), each returning `out`, the head's logits resized
//! bilinearly to the input (`F.interpolate(..., align_corners=False)`). Their
//! backbone is torchvision's `IntermediateLayerGetter` over
//! `mobilenet_v3_large(dilated=True).features`: its items up to the last one
//! tapped, under `backbone` (`backbone.0` ... `backbone.16`). "Dilated" keeps
//! the last stage at stride 16: its depthwise convolutions get dilation 2 and
//! stride 1, through the classifier's own blocks (`dilation` defaults to 1).

use crate::network;

network! {
    /// torchvision's `Conv2dNormActivation` with MobileNetV3's batch norm
    /// (eps 0.001, momentum 0.01): convolution (padding `(kernel - 1) / 2 *
    /// dilation`, no bias), batch norm, then Hardswish (`hs`), ReLU, or
    /// nothing (`act = false`); named 0, 1, 2.
    block ConvBNAct(x, out, kernel = 3, stride = 1, groups = 1, dilation = 1, hs = false, act = true) {
        x -> [
            Conv2d(out, kernel, stride = stride, padding = (kernel - 1) / 2 * dilation,
                   dilation = dilation, groups = groups, bias = false),
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
    /// `bneck_conf(input, kernel, expanded, out, use_se, activation, stride,
    /// dilation)`: 1x1 expansion (skipped when the expanded width equals the
    /// input's), depthwise `kernel` (dilated by `dilation`, and then of
    /// stride 1), optional squeeze-and-excitation to
    /// `_make_divisible(expanded // 4, 8)` channels, linear 1x1 projection,
    /// and a residual when the row's stride is 1 and the channels are kept.
    /// Channels are scaled by `width` and rounded by `_make_divisible(c *
    /// width, 8)`.
    block Bneck(x, kernel, expanded, out, se, hs, stride, width = 1.0, dilation = 1) {
        let exp = make_divisible(expanded * width, 8);
        let o = make_divisible(out * width, 8);
        let y = x -> block: [
            if exp != x.channels { ConvBNAct(exp, 1, hs = hs) },
            ConvBNAct(exp, kernel, stride = if dilation > 1 { 1 } else { stride }, groups = exp,
                      dilation = dilation, hs = hs),
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

    /// Items 0 to 4 of torchvision's `mobilenet_v3_large(width_mult=width,
    /// dilated=True).features`: the stem and the first four rows of
    /// `_mobilenet_v3_conf`, ending at C2 (stride 8), the segmentation heads'
    /// low-level features.
    block LargeLow(x, width) {
        x -> [
            Stem(width),
            Bneck(3, 16, 16, false, false, 1, width),
            Bneck(3, 64, 24, false, false, 2, width),
            Bneck(3, 72, 24, false, false, 1, width),
            Bneck(5, 72, 40, true, false, 2, width),
        ]
    }

    /// Items 5 to 16 of the same `features`, named by their index: the other
    /// eleven rows (the last three, C4, with dilation 2 instead of stride 2)
    /// and the 1x1 convolution to six times the last row's channels, C5 at
    /// stride 16.
    block LargeHigh(x, width) {
        x -> [
            "5": Bneck(5, 120, 40, true, false, 1, width),
            "6": Bneck(5, 120, 40, true, false, 1, width),
            "7": Bneck(3, 240, 80, false, true, 2, width),
            "8": Bneck(3, 200, 80, false, true, 1, width),
            "9": Bneck(3, 184, 80, false, true, 1, width),
            "10": Bneck(3, 184, 80, false, true, 1, width),
            "11": Bneck(3, 480, 112, true, true, 1, width),
            "12": Bneck(3, 672, 112, true, true, 1, width),
            "13": Bneck(5, 672, 160, true, true, 2, width, dilation = 2),
            "14": Bneck(5, 960, 160, true, true, 1, width, dilation = 2),
            "15": Bneck(5, 960, 160, true, true, 1, width, dilation = 2),
            "16": ConvBNAct(6 * make_divisible(160 * width, 8), 1, hs = true),
        ]
    }

    /// `LRASPPHead.cbr`: 1x1 convolution to `inter` channels, batch norm, ReLU.
    block Cbr(x, inter) {
        x -> cbr: [Conv2d(inter, 1, bias = false), BatchNorm2d, ReLU]
    }

    /// `LRASPPHead.scale`: global average pooling, 1x1 convolution to `inter`
    /// channels, sigmoid: one weight per channel of `cbr`'s output.
    block Scale(x, inter) {
        x -> scale: [AdaptiveAvgPool2d(1), Conv2d(inter, 1, bias = false), Sigmoid]
    }

    /// `LRASPPHead.low_classifier`: a 1x1 convolution of the low features.
    block LowClassifier(x, num_classes) {
        x -> low_classifier: Conv2d(num_classes, 1)
    }

    /// `LRASPPHead.high_classifier`: a 1x1 convolution of the upsampled
    /// high features.
    block HighClassifier(x, num_classes) {
        x -> high_classifier: Conv2d(num_classes, 1)
    }

    /// torchvision's `LRASPP` from `_lraspp_mobilenetv3`: the backbone tapped
    /// after item 4 (`low`) and item 16 (`high`), then `LRASPPHead` (its four
    /// modules, each a block above, under `classifier`): `cbr(high) *
    /// scale(high)` resized bilinearly to the low features' size,
    /// `low_classifier(low) + high_classifier(...)`, and the result resized
    /// to the input.
    block Lraspp(x, width, num_classes, inter = 128) {
        let low = x -> backbone: LargeLow(width);
        let high = low -> backbone: LargeHigh(width);
        let y = (high -> classifier: Cbr(inter)) * (high -> classifier: Scale(inter));
        let y = interpolate(y, size = (low.height, low.width), mode = "bilinear", align_corners = false);
        let y = (low -> classifier: LowClassifier(num_classes)) + (y -> classifier: HighClassifier(num_classes));
        interpolate(y, size = (x.height, x.width), mode = "bilinear", align_corners = false)
    }

    /// torchvision's `ASPPConv`: a 3x3 convolution with padding and dilation
    /// `rate`, batch norm, ReLU; named 0, 1, 2.
    block ASPPConv(x, out, rate) {
        x -> [Conv2d(out, 3, padding = rate, dilation = rate, bias = false), BatchNorm2d, ReLU]
    }

    /// torchvision's `ASPPPooling`: global average pooling, 1x1 convolution,
    /// batch norm, ReLU (named 0..3), resized back to the input's size.
    block ASPPPooling(x, out) {
        let y = x -> [AdaptiveAvgPool2d(1), Conv2d(out, 1, bias = false), BatchNorm2d, ReLU];
        interpolate(y, size = (x.height, x.width), mode = "bilinear", align_corners = false)
    }

    /// torchvision's `ASPP` at `atrous_rates=(12, 24, 36)`: five branches of
    /// the input (`convs.0` a 1x1 convolution, batch norm and ReLU, `convs.1`
    /// to `convs.3` the dilated `ASPPConv`s, `convs.4` the pooling), joined
    /// along the channels and projected by `project` (1x1 convolution, batch
    /// norm, ReLU, Dropout 0.5).
    block ASPP(x, out = 256) {
        let b0 = x -> convs: ["0": [Conv2d(out, 1, bias = false), BatchNorm2d, ReLU]];
        let b1 = x -> convs: ["1": ASPPConv(out, 12)];
        let b2 = x -> convs: ["2": ASPPConv(out, 24)];
        let b3 = x -> convs: ["3": ASPPConv(out, 36)];
        let b4 = x -> convs: ["4": ASPPPooling(out)];
        cat(b0, b1, b2, b3, b4, dim = 1)
          -> project: [Conv2d(out, 1, bias = false), BatchNorm2d, ReLU, Dropout(0.5)]
    }

    /// torchvision's `DeepLabHead`: `ASPP`, a 3x3 convolution, batch norm,
    /// ReLU, and the 1x1 classifier; named 0..4.
    block DeepLabHead(x, num_classes) {
        x -> [ASPP, Conv2d(256, 3, padding = 1, bias = false), BatchNorm2d, ReLU, Conv2d(num_classes, 1)]
    }

    /// LR-ASPP (Howard et al., 2019), torchvision's
    /// `lraspp_mobilenet_v3_large` (21 classes) at its 3x520x520 evaluation
    /// size.
    pub struct LrasppMobileNetV3Large(x: [3, 520, 520]) {
        x -> Lraspp(1.0, 21)
    }

    /// torchvision's LR-ASPP around a quarter-width dilated MobileNetV3-Large
    /// (`_lraspp_mobilenetv3(mobilenet_v3_large(width_mult=0.25,
    /// dilated=True), num_classes=5)`) at 3x72x56, the PyTorch fixture of
    /// `scripts/make_small_lraspp.py`: feature maps of 9x7 (low) and 5x4
    /// (high), so both resizings have ratios that are not integers.
    pub struct SmallLraspp(x: [3, 72, 56]) {
        x -> Lraspp(0.25, 5)
    }

    /// DeepLabV3 (Chen et al., 2017), torchvision's
    /// `deeplabv3_mobilenet_v3_large` (21 classes, no auxiliary head) at
    /// 3x520x520: `DeepLabHead` on the backbone's item 16.
    pub struct DeepLabV3MobileNetV3Large(x: [3, 520, 520]) {
        let y = x -> backbone: LargeLow(1.0) -> backbone: LargeHigh(1.0) -> classifier: DeepLabHead(21);
        interpolate(y, size = (x.height, x.width), mode = "bilinear", align_corners = false)
    }
}
