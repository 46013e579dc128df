//! SqueezeNet 1.0 and 1.1 (Iandola et al., 2016), as torchvision builds them.

use crate::network;

network! {
    /// The fire module: a 1x1 squeeze, then 1x1 and 3x3 expansions concatenated.
    block Fire(x, squeeze, expand1x1, expand3x3) {
        let s = x -> squeeze: Conv2d(squeeze, 1) -> squeeze_activation: ReLU;
        cat(
            s -> expand1x1: Conv2d(expand1x1, 1) -> expand1x1_activation: ReLU,
            s -> expand3x3: Conv2d(expand3x3, 3, padding = 1) -> expand3x3_activation: ReLU,
        )
    }

    /// SqueezeNet 1.0 (Iandola et al., 2016), torchvision's `squeezenet1_0`.
    pub struct SqueezeNet1_0(x: [3, 224, 224]) {
        x -> features: [
                Conv2d(96, 7, stride = 2), ReLU, MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(16, 64, 64), Fire(16, 64, 64), Fire(32, 128, 128),
                MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(32, 128, 128), Fire(48, 192, 192), Fire(48, 192, 192), Fire(64, 256, 256),
                MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(64, 256, 256),
            ]
          -> classifier: [Dropout(0.5), Conv2d(1000, 1), ReLU, AdaptiveAvgPool2d(1)]
          -> Flatten
    }

    /// SqueezeNet 1.1 (the SqueezeNet repository's v1.1), torchvision's
    /// `squeezenet1_1`: a 3x3 stem of 64 channels and earlier pooling, 2.4x
    /// fewer MACs than 1.0 at the same accuracy.
    pub struct SqueezeNet1_1(x: [3, 224, 224]) {
        x -> features: [
                Conv2d(64, 3, stride = 2), ReLU, MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(16, 64, 64), Fire(16, 64, 64),
                MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(32, 128, 128), Fire(32, 128, 128),
                MaxPool2d(3, stride = 2, ceil_mode = true),
                Fire(48, 192, 192), Fire(48, 192, 192), Fire(64, 256, 256), Fire(64, 256, 256),
            ]
          -> classifier: [Dropout(0.5), Conv2d(1000, 1), ReLU, AdaptiveAvgPool2d(1)]
          -> Flatten
    }
}
