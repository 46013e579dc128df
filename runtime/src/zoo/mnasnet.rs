//! MnasNet-B1 (Tan et al., 2019), as torchvision builds it. Depths are scaled
//! by `alpha` and rounded as torchvision's `_round_to_multiple_of(d * alpha, 8)`
//! (the same rule as `make_divisible`).

use crate::network;

network! {
    /// torchvision's MNASNet `_InvertedResidual`: 1x1 expansion by `t`,
    /// depthwise `kernel`, linear 1x1 projection (batch norm momentum
    /// 0.0003), and a residual when the shape is kept; named `layers.0..7`.
    block InvertedResidual(x, out, kernel, stride, t) {
        let mid = x.channels * t;
        let y = x -> layers: [
            Conv2d(mid, 1, bias = false), BatchNorm2d(momentum = 0.0003), ReLU,
            Conv2d(mid, kernel, stride = stride, padding = kernel / 2, groups = mid, bias = false),
            BatchNorm2d(momentum = 0.0003), ReLU,
            Conv2d(out, 1, bias = false), BatchNorm2d(momentum = 0.0003),
        ];
        if x.channels == out && stride == 1 { y + x } else { y }
    }

    /// torchvision's `_stack`: `repeats` inverted residuals, the first with `stride`.
    block Stack(x, out, kernel, stride, t, repeats) {
        x -> [for i in 0..repeats => InvertedResidual(out, kernel, if i == 0 { stride } else { 1 }, t)]
    }

    /// torchvision's `MNASNet(alpha)`: a 3x3 stem, a depthwise separable
    /// convolution, six stacks, a 1x1 convolution to 1280 channels, the
    /// functional mean `x.mean([2, 3])` and the classifier.
    block MNASNet(x, alpha = 1.0) {
        let d0 = make_divisible(32 * alpha, 8);
        let d1 = make_divisible(16 * alpha, 8);
        let y = x -> layers: [
            Conv2d(d0, 3, stride = 2, padding = 1, bias = false), BatchNorm2d(momentum = 0.0003), ReLU,
            Conv2d(d0, 3, padding = 1, groups = d0, bias = false), BatchNorm2d(momentum = 0.0003), ReLU,
            Conv2d(d1, 1, bias = false), BatchNorm2d(momentum = 0.0003),
            Stack(make_divisible(24 * alpha, 8), 3, 2, 3, 3),
            Stack(make_divisible(40 * alpha, 8), 5, 2, 3, 3),
            Stack(make_divisible(80 * alpha, 8), 5, 2, 6, 3),
            Stack(make_divisible(96 * alpha, 8), 3, 1, 6, 2),
            Stack(make_divisible(192 * alpha, 8), 5, 2, 6, 4),
            Stack(make_divisible(320 * alpha, 8), 3, 1, 6, 1),
            Conv2d(1280, 1, bias = false), BatchNorm2d(momentum = 0.0003), ReLU,
        ];
        mean(y) -> classifier: [Dropout(0.2), Linear(1000)]
    }

    /// MnasNet-B1 1.0 (Tan et al., 2019), torchvision's `mnasnet1_0`.
    pub struct MnasNet1_0(x: [3, 224, 224]) {
        x -> MNASNet(1.0)
    }
}
