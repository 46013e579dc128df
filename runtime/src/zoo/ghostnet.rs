//! GhostNet (Han et al., 2020), as timm builds it (`ghostnet_100`), with
//! timm's layer names. Channels are scaled by `width` and rounded by timm's
//! `make_divisible(c * width, 4)`.

use crate::network;

network! {
    /// timm's `GhostModule` (ratio 2, 1x1 primary, 3x3 cheap operation): a
    /// primary 1x1 convolution to `ceil(out / 2)` channels, a cheap depthwise
    /// 3x3 on its output, both concatenated and cut to `out` channels
    /// (`out[:, :out_chs]`, a no-op when `out` is even). ReLU after each, or
    /// identities when `relu` is false.
    block GhostModule(x, out, relu = true) {
        let init = (out + 1) / 2;
        let p = x -> primary_conv: [
            Conv2d(init, 1, bias = false), BatchNorm2d,
            if relu { ReLU } else { Identity },
        ];
        let c = p -> cheap_operation: [
            Conv2d(init, 3, padding = 1, groups = init, bias = false), BatchNorm2d,
            if relu { ReLU } else { Identity },
        ];
        if 2 * init == out { cat(p, c) } else { narrow(cat(p, c), 0, out) }
    }

    /// timm's `SqueezeExcite` as GhostNet configures it: the functional mean
    /// over height and width (`x.mean((2, 3), keepdim=True)`), 1x1 down to
    /// `make_divisible(channels / 4, 4)`, ReLU, 1x1 back up, Hardsigmoid gate,
    /// and the input scaled channel by channel.
    block SqueezeExcite(x) {
        let s = mean(x, keepdim = true)
                  -> conv_reduce: Conv2d(make_divisible(x.channels * 0.25, 4), 1) -> act1: ReLU
                  -> conv_expand: Conv2d(x.channels, 1) -> gate: Hardsigmoid;
        x * s
    }

    /// timm's `GhostBottleneck` from one row `[k, exp, c, se, s]` of its
    /// configuration, with `mid` and `out` scaled by `width`: ghost module,
    /// a depthwise `kernel` with batch norm when `stride` is 2, optional
    /// squeeze-and-excitation, a second ghost module without ReLU, and the
    /// shortcut (identity, or depthwise `kernel` and 1x1 with batch norms).
    block GhostBottleneck(x, kernel, mid, out, se, stride, width = 1.0) {
        let mid = make_divisible(mid * width, 4);
        let out = make_divisible(out * width, 4);
        let g = x -> ghost1: GhostModule(mid);
        let d = if stride > 1 {
            g -> conv_dw: Conv2d(mid, kernel, stride = stride, padding = (kernel - 1) / 2, groups = mid, bias = false)
              -> bn_dw: BatchNorm2d
        } else {
            g
        };
        let e = if se { d -> se: SqueezeExcite } else { d };
        let y = e -> ghost2: GhostModule(out, relu = false);
        let s = if x.channels == out && stride == 1 {
            x -> shortcut: Identity
        } else {
            x -> shortcut: [
                Conv2d(x.channels, kernel, stride = stride, padding = (kernel - 1) / 2, groups = x.channels, bias = false),
                BatchNorm2d,
                Conv2d(out, 1, bias = false), BatchNorm2d,
            ]
        };
        y + s
    }

    /// The activation half of timm's `BatchNormAct2d` (its `drop` and `act`
    /// children); the batch norm itself is the layer of the same name just
    /// before, as timm's module holds the batch-norm weights.
    block BatchNormAct2d(x) {
        x -> drop: Identity -> act: ReLU
    }

    /// timm's `GhostNet` at any `width`: the stem, the ten stages of
    /// `_create_ghostnet`'s `cfgs` (the paper's Table 1), timm's `ConvBnAct`
    /// to 960 channels, global average pooling, a 1x1 `conv_head` to 1280
    /// with ReLU, flatten, the functional dropout (0.2) and the classifier.
    block GhostNetBody(x, width = 1.0) {
        x -> conv_stem: Conv2d(make_divisible(16 * width, 4), 3, stride = 2, padding = 1, bias = false)
          -> bn1: BatchNorm2d -> act1: ReLU
          -> blocks: [
                [GhostBottleneck(3, 16, 16, false, 1, width)],
                [GhostBottleneck(3, 48, 24, false, 2, width)],
                [GhostBottleneck(3, 72, 24, false, 1, width)],
                [GhostBottleneck(5, 72, 40, true, 2, width)],
                [GhostBottleneck(5, 120, 40, true, 1, width)],
                [GhostBottleneck(3, 240, 80, false, 2, width)],
                [
                    GhostBottleneck(3, 200, 80, false, 1, width),
                    GhostBottleneck(3, 184, 80, false, 1, width),
                    GhostBottleneck(3, 184, 80, false, 1, width),
                    GhostBottleneck(3, 480, 112, true, 1, width),
                    GhostBottleneck(3, 672, 112, true, 1, width),
                ],
                [GhostBottleneck(5, 672, 160, true, 2, width)],
                [
                    GhostBottleneck(5, 960, 160, false, 1, width),
                    GhostBottleneck(5, 960, 160, true, 1, width),
                    GhostBottleneck(5, 960, 160, false, 1, width),
                    GhostBottleneck(5, 960, 160, true, 1, width),
                ],
                [[
                    conv: Conv2d(make_divisible(960 * width, 4), 1, bias = false),
                    bn1: BatchNorm2d, bn1: BatchNormAct2d, aa: Identity,
                ]],
            ]
          -> global_pool: [pool: AdaptiveAvgPool2d(1), flatten: Identity]
          -> conv_head: Conv2d(1280, 1) -> act2: ReLU -> flatten: Flatten
          -> Dropout(0.2)
          -> classifier: Linear(1000)
    }

    /// GhostNet 1.0 (Han et al., 2020), timm's `ghostnet_100`.
    pub struct GhostNet(x: [3, 224, 224]) {
        x -> GhostNetBody(1.0)
    }
}
