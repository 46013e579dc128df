//! EfficientNet-B0 (Tan and Le, 2019), as torchvision builds it.

use crate::network;

network! {
    /// torchvision's `Conv2dNormActivation` with SiLU (or none when `act` is
    /// false): convolution (padding `(kernel - 1) / 2`, no bias), batch norm,
    /// SiLU; named 0, 1, 2.
    block ConvBNSiLU(x, out, kernel = 3, stride = 1, groups = 1, act = true) {
        x -> [
            Conv2d(out, kernel, stride = stride, padding = (kernel - 1) / 2, groups = groups, bias = false),
            BatchNorm2d,
            if act { SiLU },
        ]
    }

    /// torchvision's `SqueezeExcitation` as MBConv uses it: global average
    /// pooling, 1x1 down to `squeeze` channels, SiLU, 1x1 back up, Sigmoid,
    /// and the input scaled channel by channel.
    block SqueezeExcitation(x, squeeze) {
        let scale = x -> avgpool: AdaptiveAvgPool2d(1)
                      -> fc1: Conv2d(squeeze, 1) -> activation: SiLU
                      -> fc2: Conv2d(x.channels, 1) -> scale_activation: Sigmoid;
        x * scale
    }

    /// torchvision's `MBConv`: 1x1 expansion to
    /// `_make_divisible(input * expand_ratio, 8)` channels (skipped at ratio
    /// 1), depthwise `kernel`, squeeze-and-excitation to `max(1, input // 4)`
    /// channels, linear 1x1 projection; when the shape is kept, stochastic
    /// depth (identity at inference) and the residual.
    block MBConv(x, expand_ratio, kernel, stride, out, sd_prob) {
        let exp = make_divisible(x.channels * expand_ratio, 8);
        let y = x -> block: [
            if exp != x.channels { ConvBNSiLU(exp, 1) },
            ConvBNSiLU(exp, kernel, stride = stride, groups = exp),
            SqueezeExcitation(max(1, x.channels / 4)),
            ConvBNSiLU(out, 1, act = false),
        ];
        if stride == 1 && x.channels == out {
            (y -> stochastic_depth: StochasticDepth(sd_prob, "row")) + x
        } else {
            y
        }
    }

    /// One stage of `n` MBConv blocks, the first with `stride`; block `first
    /// + i` of the network's 16 gets stochastic-depth probability
    /// `0.2 * (first + i) / 16`, as torchvision's `stage_block_id`.
    block Stage(x, expand_ratio, kernel, stride, out, n, first) {
        x -> [for i in 0..n => MBConv(
            expand_ratio, kernel, if i == 0 { stride } else { 1 }, out, 0.2 * (first + i) / 16,
        )]
    }

    /// EfficientNet-B0 (Tan and Le, 2019), torchvision's `efficientnet_b0`:
    /// the seven stages of its `bneck_conf(expand_ratio, kernel, stride,
    /// input, out, layers)` table.
    pub struct EfficientNetB0(x: [3, 224, 224]) {
        x -> features: [
                ConvBNSiLU(32, 3, stride = 2),
                Stage(1, 3, 1, 16, 1, 0),
                Stage(6, 3, 2, 24, 2, 1),
                Stage(6, 5, 2, 40, 2, 3),
                Stage(6, 3, 2, 80, 3, 5),
                Stage(6, 5, 1, 112, 3, 8),
                Stage(6, 5, 2, 192, 4, 11),
                Stage(6, 3, 1, 320, 1, 15),
                ConvBNSiLU(1280, 1),
            ]
          -> avgpool: AdaptiveAvgPool2d(1) -> Flatten
          -> classifier: [Dropout(0.2), Linear(1000)]
    }
}
