//! ConvNeXt (Liu et al., 2022), as torchvision builds it: ConvNeXt-T and a
//! small two-stage configuration of the same `ConvNeXt` that shares its blocks.

use crate::network;

network! {
    /// torchvision's `Permute` module (`torchvision.ops.misc.Permute`) for
    /// four-dimensional tensors: `torch.permute(x, dims)`.
    block Permute(x, d0, d1, d2, d3) {
        x.permute(d0, d1, d2, d3)
    }

    /// torchvision's `LayerNorm2d`: an `nn.LayerNorm` over the channels of an
    /// NCHW tensor. Its forward permutes to channels-last, calls
    /// `F.layer_norm(x, normalized_shape, self.weight, self.bias, self.eps)`
    /// and permutes back: here a `LayerNorm` named `""`, whose `weight` and
    /// `bias` (`[C]`) are the module's own (at its path, as in its state dict)
    /// and which the module applies as a function. The default eps is
    /// `nn.LayerNorm`'s; ConvNeXt passes 1e-6.
    block LayerNorm2d(x, eps = 1e-5) {
        let y = x.permute(0, 2, 3, 1) -> "": LayerNorm(eps = eps);
        y.permute(0, 3, 1, 2)
    }

    /// torchvision's `CNBlock`: depthwise 7x7 convolution, `Permute([0, 2, 3,
    /// 1])`, `LayerNorm` (eps 1e-6), `Linear(4 * dim)`, GELU, `Linear(dim)`,
    /// `Permute([0, 3, 1, 2])` (the `block` Sequential, named 0..6), scaled by
    /// the learnable `layer_scale` `[dim, 1, 1]`, stochastic depth (identity at
    /// inference) and the residual. `layer_scale` is declared first because the
    /// block's own parameter comes first in its state dict.
    block CNBlock(input, stochastic_depth_prob) {
        let dim = input.channels;
        let layer_scale = layer_scale: Parameter(dim, 1, 1);
        let result = input -> block: [
            Conv2d(dim, 7, padding = 3, groups = dim, bias = true),
            Permute(0, 2, 3, 1),
            LayerNorm(eps = 1e-6),
            Linear(4 * dim, bias = true),
            GELU,
            Linear(dim, bias = true),
            Permute(0, 3, 1, 2),
        ];
        let result = (layer_scale * result) -> stochastic_depth: StochasticDepth(stochastic_depth_prob, "row");
        result + input
    }

    /// One stage of `num_layers` CNBlocks (a Sequential): block `first + i` of
    /// the network's `total` gets stochastic-depth probability
    /// `stochastic_depth_prob * (first + i) / (total - 1)`, as torchvision's
    /// `stage_block_id`.
    block Stage(x, num_layers, first, total, stochastic_depth_prob) {
        x -> [for i in 0..num_layers => CNBlock(stochastic_depth_prob * (first + i) / (total - 1.0))]
    }

    /// torchvision's downsampling between stages: `LayerNorm2d` (eps 1e-6) and
    /// a 2x2 convolution with stride 2, named 0 and 1.
    block Downsample(x, out_channels) {
        x -> [LayerNorm2d(eps = 1e-6), Conv2d(out_channels, 2, stride = 2)]
    }

    /// torchvision's stem: `Conv2dNormActivation(3, out_channels,
    /// kernel_size=4, stride=4, padding=0, norm_layer=LayerNorm2d,
    /// activation_layer=None, bias=True)`, named 0 and 1.
    block Stem(x, out_channels) {
        x -> [Conv2d(out_channels, 4, stride = 4, padding = 0, bias = true), LayerNorm2d(eps = 1e-6)]
    }

    /// torchvision's classifier: global average pooling (`avgpool`), then
    /// `classifier`: `LayerNorm2d` (eps 1e-6), `Flatten(1)`, `Linear`.
    block Head(x, num_classes) {
        x -> avgpool: AdaptiveAvgPool2d(1)
          -> classifier: [LayerNorm2d(eps = 1e-6), Flatten, Linear(num_classes)]
    }

    /// ConvNeXt-T (Liu et al., 2022, "A ConvNet for the 2020s"), torchvision's
    /// `convnext_tiny`: `block_setting = [CNBlockConfig(96, 192, 3),
    /// CNBlockConfig(192, 384, 3), CNBlockConfig(384, 768, 9),
    /// CNBlockConfig(768, None, 3)]`, stochastic depth 0.1 over 18 blocks.
    pub struct ConvNeXtTiny(x: [3, 224, 224]) {
        x -> features: [
                Stem(96),
                Stage(3, 0, 18, 0.1), Downsample(192),
                Stage(3, 3, 18, 0.1), Downsample(384),
                Stage(9, 6, 18, 0.1), Downsample(768),
                Stage(3, 15, 18, 0.1),
            ]
          -> Head(1000)
    }

    /// A small torchvision `ConvNeXt` (Liu et al., 2022) for tests:
    /// `ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)],
    /// num_classes=10)` (the class's default stochastic depth, 0.0), the
    /// blocks of `ConvNeXtTiny`.
    pub struct SmallConvNeXt(x: [3, 32, 32]) {
        x -> features: [
                Stem(16),
                Stage(2, 0, 3, 0.0), Downsample(32),
                Stage(1, 2, 3, 0.0),
            ]
          -> Head(10)
    }
}
