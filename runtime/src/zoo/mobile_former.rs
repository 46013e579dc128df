//! Mobile-Former (Chen et al., CVPR 2022) at its 294M configuration, as the
//! authors' code builds it (`mobile_former_294m` in `mobile_former.py`, with
//! the modules of `dna_blocks.py`, github.com/AAboys/MobileFormer at
//! f447310), with that code's module names, so that its state dict loads by
//! name.
//!
//! The code keeps the global tokens as `T x bs x C`; here the batch stays
//! first (`[T, C]` per sample), so every reshape and permute of a token
//! tensor is the code's with the batch moved to the front. Each Mobile-Former
//! block returns two tensors (the feature map and the tokens) and a block
//! returns one, so each of the code's `DnaBlock`/`DnaBlock3` is written as two
//! calls at the same path `features.{i}`, in the code's forward order: the
//! token half (`Former`: Mobile→Former `local_global`, then the Former
//! `global_block`), then the mobile half (`DnaBlock` or `DnaBlock3`: the
//! dynamic-ReLU bottleneck and Former→Mobile `global_local`).

use crate::network;

network! {
    /// The code's `h_sigmoid` (`h_max = 1`): `relu(x + 3) * h_max / 6`, its
    /// in-place ReLU6 named `relu`. PyTorch's `Hardsigmoid`, written as the module
    /// computes it.
    block HSigmoid(x) {
        ((x + 3.0) -> relu: ReLU6(inplace = true)) / 6.0
    }

    /// The code's `h_swish`: `x * sigmoid(x)`, its `h_sigmoid` named
    /// `sigmoid`.
    block HSwish(x) {
        x * (x -> sigmoid: HSigmoid)
    }

    /// `nn.Embedding(num_embeddings, embedding_dim)` whose `weight` the
    /// model reads directly (`self.tokens.weight`): the learnable tensor
    /// `weight` at the module's path. The input is not read.
    block Embedding(x, num_embeddings, embedding_dim) {
        weight: Parameter(num_embeddings, embedding_dim)
    }

    /// The code's `HyperFunc` with `sel_token_id = 0`: token 0 (`x[0]` of
    /// the code's `T x bs x C`, `tokens[:, 0]` here) through `hyper`
    /// (`Linear(token_dim // reduction_ratio)`, ReLU, `Linear(oup)`,
    /// `h_sigmoid`), unsqueezed twice to `[oup, 1, 1]`.
    block HyperFunc(tokens, oup, reduction_ratio = 4) {
        let t = tokens[:, 0];
        let h = t -> hyper: [Linear(t.size(-1) / reduction_ratio), ReLU(inplace = true), Linear(oup), HSigmoid];
        h.unsqueeze(2).unsqueeze(3)
    }

    /// The code's `DyReLU` with `num_func = 2` (dynamic ReLU): `act` is an
    /// empty `nn.Sequential`; the coefficients `a` (`[2C, 1, 1]`, from a
    /// `HyperFunc`) split in two, `a1 = (a1 - 0.5) * scale + 1.0` (0 to 2),
    /// `a2 = (a2 - 0.5) * scale` (-1 to 1), and the output is
    /// `torch.max(out * a1, out * a2)`.
    block DyReLU(x, a, scale = 2.0) {
        let out = x -> act: Identity;
        let (a1, a2) = chunk(a, 2, dim = 1);
        let a1 = (a1 - 0.5) * scale + 1.0;
        let a2 = (a2 - 0.5) * scale;
        max(out * a1, out * a2)
    }

    /// The code's `DyReLU` without coefficients: `num_func = 0` is a ReLU6
    /// `act`, `num_func = -1` an empty `nn.Sequential` (an identity).
    block StaticReLU(x, num_func) {
        if num_func == 0 { x -> act: ReLU6(inplace = true) } else { x -> act: Identity }
    }

    /// The code's `Local2Global` (Mobile→Former) with `block_type='attn'`,
    /// `use_dynamic=True`, `remove_proj_local=True`: the tokens query the
    /// flattened feature map, which is key and value without projection.
    /// `q` to the map's `C` channels, split into heads (`[heads, T, C/heads]`),
    /// keys `features.view(bs, heads, C/heads, HW)` (transposed here for
    /// `attention`, which multiplies by the transpose of its keys: the same
    /// `t @ k`), `softmax(dim=-1)`, `@ k.transpose(-1, -2)`; scale
    /// `(C // heads) ** -0.5`, `attention`'s default for this head size. The
    /// heads merge back to `[T, C]`, scaled by `alpha` (`Linear(C)`,
    /// `h_sigmoid`) times `alpha_scale = 2.0`, projected back by `proj`,
    /// added to the tokens (`drop_path`, rate 0) and normalised by the post
    /// `layer_norm`.
    block Local2Global(tokens, features, num_heads = 2) {
        let n = tokens.size(1);
        let c = features.size(1);
        let d = c / num_heads;
        let hw = features.size(2) * features.size(3);
        let t = (tokens -> q: Linear(c)).reshape(n, num_heads, d).permute(0, 2, 1, 3);
        let k = features.reshape(num_heads, d, hw).transpose(2, 3);
        let t_a = attention(t, k, k).permute(0, 2, 1, 3).reshape(n, c);
        let alp = (tokens -> alpha: [Linear(c), HSigmoid]) * 2.0;
        let t_sum = (t_a * alp) -> proj: Linear(tokens.size(2));
        (tokens + (t_sum -> drop_path: StochasticDepth(0.0, "row"))) -> layer_norm: LayerNorm
    }

    /// The code's `GlobalBlock` (the Former) with `block_type='attn'` and
    /// `use_ffn=True`, and its default 4 heads (`DnaBlock` passes none):
    /// self-attention whose keys and values are the tokens themselves (only
    /// `q` is projected; `tokens.permute(1, 2, 0).view(bs, heads, C/heads, T)`
    /// transposed is `[heads, T, C/heads]`), `channel_mlp`, the residual
    /// (`drop_path`, rate 0) and post `layer_norm`; then `ffn` (`Linear(2C)`,
    /// GELU, `Linear(C)`), the residual and `ffn_norm`.
    block GlobalBlock(tokens, num_heads = 4) {
        let n = tokens.size(1);
        let c = tokens.size(2);
        let d = c / num_heads;
        let t = (tokens -> q: Linear(c)).reshape(n, num_heads, d).permute(0, 2, 1, 3);
        let k = tokens.reshape(n, num_heads, d).permute(0, 2, 1, 3);
        let t_a = attention(t, k, k).permute(0, 2, 1, 3).reshape(n, c);
        let t_sum = t_a -> channel_mlp: Linear(c);
        let tokens = (tokens + (t_sum -> drop_path: StochasticDepth(0.0, "row"))) -> layer_norm: LayerNorm;
        let t_ffn = tokens -> ffn: [Linear(2 * c), GELU, Linear(c)];
        (tokens + t_ffn) -> ffn_norm: LayerNorm
    }

    /// The code's `Global2Local` (Former→Mobile) with `block_type='attn'`,
    /// no dynamic scaling, `remove_proj_local=True`: the feature map queries
    /// the tokens. Values `proj(tokens)` and keys `k(tokens)` (both
    /// `Linear(C)`, split into heads as `[heads, T, C/heads]`: the code's
    /// `view(bs, heads, C/heads, T)`, transposed), queries the map itself
    /// (`out.view(bs, heads, C/heads, HW).transpose(-1, -2)`), scale
    /// `(C // heads) ** -0.5`; the result transposed back to `[C, H, W]` and
    /// added to the map (`drop_path`, rate 0).
    block Global2Local(x, tokens, num_heads = 2) {
        let n = tokens.size(1);
        let c = x.channels;
        let h = x.height;
        let w = x.width;
        let d = c / num_heads;
        let v = (tokens -> proj: Linear(c)).reshape(n, num_heads, d).permute(0, 2, 1, 3);
        let q = x.reshape(num_heads, d, h * w).transpose(2, 3);
        let k = (tokens -> k: Linear(c)).reshape(n, num_heads, d).permute(0, 2, 1, 3);
        let g_a = attention(q, k, v).transpose(2, 3).reshape(c, h, w);
        x + (g_a -> drop_path: StochasticDepth(0.0, "row"))
    }

    /// The token half of a `DnaBlock`/`DnaBlock3` forward ("step 1: local
    /// to global"): `local_global` on the block's input feature map, then
    /// `global_block`.
    block Former(tokens, features) {
        tokens -> local_global: Local2Global(features) -> global_block: GlobalBlock
    }

    /// The mobile half of the code's `DnaBlock` (a Mobile-Former block
    /// without downsampling in this configuration), after `Former`: `conv1`
    /// (1x1 to `round(inp * e1)`, BN, an empty Sequential), dynamic ReLU
    /// `act1` with coefficients from `hyper1`, `conv2` (depthwise 3x3 with
    /// the stride, BN), dynamic ReLU `act2` from `hyper2`, `conv3` (1x1 to
    /// `oup`, BN, an empty Sequential), `act3` (an identity), the identity
    /// shortcut (`drop_path`, rate 0) when the shape is kept, then
    /// `global_local` (`gbr_before_skip=False`).
    block DnaBlock(x, tokens, oup, stride, e1) {
        let inp = x.channels;
        let hidden_dim = inp * e1;
        let out = x -> conv1: [Conv2d(hidden_dim, 1, bias = false), BatchNorm2d, Identity];
        let out = out -> act1: DyReLU(tokens -> hyper1: HyperFunc(2 * hidden_dim));
        let out = out -> conv2: [Conv2d(hidden_dim, 3, stride = stride, padding = 1, groups = hidden_dim, bias = false),
                                 BatchNorm2d];
        let out = out -> act2: DyReLU(tokens -> hyper2: HyperFunc(2 * hidden_dim));
        let out = out -> conv3: [Conv2d(oup, 1, bias = false), BatchNorm2d, Identity] -> act3: StaticReLU(-1);
        let out = if stride == 1 && inp == oup { (out -> drop_path: StochasticDepth(0.0, "row")) + x } else { out };
        out -> global_local: Global2Local(tokens)
    }

    /// The code's `DnaBlock3` with `e2 == 0` (`use_conv_alone`): `conv`,
    /// a depthwise 3x3 to `inp * e1` channels with the stride, BN, ReLU6, an
    /// empty Sequential, a 1x1 to `oup` and BN, with the identity shortcut
    /// when the shape is kept. The tokens are not used.
    block DnaBlock3Conv(x, oup, stride, e1) {
        let inp = x.channels;
        let out = x -> conv: [
            Conv2d(inp * e1, 3, stride = stride, padding = 1, groups = inp, bias = false),
            BatchNorm2d,
            ReLU6(inplace = true),
            Identity,
            Conv2d(oup, 1, bias = false),
            BatchNorm2d,
        ];
        if stride == 1 && inp == oup { out + x } else { out }
    }

    /// The mobile half of the code's `DnaBlock3` (the downsampling
    /// Mobile-Former block), after `Former`: `conv1` (depthwise 3x3 to
    /// `round(inp * e1)` with the stride, BN, an empty Sequential), dynamic
    /// ReLU `act1` from `hyper1`, `conv2` (1x1 to `oup`, BN), `act2` (an
    /// identity); then, around the inner shortcut `out_cp`, `conv3`
    /// (depthwise 3x3 to `round(oup * e2)`, BN, an empty Sequential), dynamic
    /// ReLU `act3` from `hyper3`, `conv4` (1x1 to `oup`, BN), `act4` (an
    /// identity), `drop_path` (rate 0) plus `out_cp`; then `global_local`,
    /// and the outer identity shortcut when the shape is kept.
    block DnaBlock3Mobile(x, tokens, oup, stride, e1, e2) {
        let inp = x.channels;
        let hidden_dim1 = inp * e1;
        let hidden_dim2 = oup * e2;
        let out = x -> conv1: [Conv2d(hidden_dim1, 3, stride = stride, padding = 1, groups = inp, bias = false),
                               BatchNorm2d, Identity];
        let out = out -> act1: DyReLU(tokens -> hyper1: HyperFunc(2 * hidden_dim1));
        let out = out -> conv2: [Conv2d(oup, 1, bias = false), BatchNorm2d] -> act2: StaticReLU(-1);
        let out_cp = out;
        let out = out -> conv3: [Conv2d(hidden_dim2, 3, padding = 1, groups = oup, bias = false),
                                 BatchNorm2d, Identity];
        let out = out -> act3: DyReLU(tokens -> hyper3: HyperFunc(2 * hidden_dim2));
        let out = out -> conv4: [Conv2d(oup, 1, bias = false), BatchNorm2d] -> act4: StaticReLU(-1);
        let out = (out -> drop_path: StochasticDepth(0.0, "row")) + out_cp;
        let out = out -> global_local: Global2Local(tokens);
        if stride == 1 && inp == oup { out + x } else { out }
    }

    /// The mobile half of the code's `DnaBlock3`: the conv-alone form when
    /// `e1 == 1 or e2 == 0`, the full one otherwise (exp ratios `(e1, e2)`).
    block DnaBlock3(x, tokens, oup, stride, e1, e2) {
        if e1 == 1 || e2 == 0 {
            x -> DnaBlock3Conv(oup, stride, e1)
        } else {
            x -> DnaBlock3Mobile(tokens, oup, stride, e1, e2)
        }
    }

    /// `nn.Sequential(nn.Linear(oup), nn.BatchNorm1d(oup), h_swish())`, named
    /// 0..2. The batch norm of a `[bs, oup]` tensor is written as a
    /// BatchNorm2d of its `[oup, 1, 1]` view: the same per-feature affine
    /// normalisation and the same state-dict tensors.
    block LinearBn1dHSwish(x, oup) {
        let y = x -> "0": Linear(oup);
        let y = y.reshape(oup, 1, 1) -> "1": BatchNorm2d;
        y.reshape(oup) -> "2": HSwish
    }

    /// The code's `MergeClassifier` with `last_act='relu'`, one class token
    /// and one group: `conv` (an empty Sequential, 1x1 to `inp * ch_exp`,
    /// BN), `act` (a ReLU6 `DyReLU`), `avgpool` (global average pooling,
    /// `h_swish`), flattened and concatenated with token 0, `fc` (`Linear`,
    /// `BatchNorm1d`, `h_swish`) and `classifier` (dropout, `Linear`).
    block MergeClassifier(x, tokens, oup, ch_exp, num_classes, drop_rate) {
        let hidden_dim = x.channels * ch_exp;
        let y = x -> conv: [Identity, Conv2d(hidden_dim, 1, bias = false), BatchNorm2d]
                  -> act: StaticReLU(0)
                  -> avgpool: [AdaptiveAvgPool2d(1), HSwish];
        let y = cat(y.flatten(1), tokens[:, 0], dim = 1);
        y -> fc: LinearBn1dHSwish(oup) -> classifier: [Dropout(drop_rate), Linear(num_classes)]
    }

    /// Mobile-Former-294M (Chen et al., CVPR 2022, "Mobile-Former: Bridging
    /// MobileNet and Transformer"), the authors' `mobile_former_294m`: 6
    /// global tokens of dimension 192 (`tokens`, an `nn.Embedding`, given
    /// the batch of one that broadcasts, as `z[None].repeat(bs, 1, 1)`), the
    /// stem (3x3 stride-2 convolution to 16 channels, BN, ReLU6), the twelve
    /// blocks of `dna_blocks` (`[b, e1, c, n, s, e2]`, each `n = 1`), the last
    /// `local_global` and `MergeClassifier` (1152 channels, 1920 features,
    /// dropout 0.3 as trained). Mobile→Former and Former→Mobile use 2 heads,
    /// the Former 4; every drop-path rate is 0 (`--drop-path 0.0`).
    pub struct MobileFormer294M(x: [3, 224, 224]) {
        let t = x -> tokens: Embedding(6, 192);
        let t = t[None];
        let x = x -> stem: [Conv2d(16, 3, stride = 2, padding = 1, bias = false), BatchNorm2d, ReLU6(inplace = true)];
        // ['DnaBlock3', 2, 16, 1, 1, 0]: 112x112
        let x = x -> features: ["0": DnaBlock3(t, 16, 1, 2, 0)];
        // ['DnaBlock3', 6, 24, 1, 2, 4]: 56x56, ['DnaBlock', 4, 24, 1, 1, 4]
        let t = t -> features: ["1": Former(x)];
        let x = x -> features: ["1": DnaBlock3(t, 24, 2, 6, 4)];
        let t = t -> features: ["2": Former(x)];
        let x = x -> features: ["2": DnaBlock(t, 24, 1, 4)];
        // ['DnaBlock3', 6, 48, 1, 2, 4]: 28x28, ['DnaBlock', 4, 48, 1, 1, 4]
        let t = t -> features: ["3": Former(x)];
        let x = x -> features: ["3": DnaBlock3(t, 48, 2, 6, 4)];
        let t = t -> features: ["4": Former(x)];
        let x = x -> features: ["4": DnaBlock(t, 48, 1, 4)];
        // ['DnaBlock3', 6, 96, 1, 2, 4]: 14x14, ['DnaBlock', 4, 96, 1, 1, 4],
        // ['DnaBlock', 6, 128, 1, 1, 4] twice
        let t = t -> features: ["5": Former(x)];
        let x = x -> features: ["5": DnaBlock3(t, 96, 2, 6, 4)];
        let t = t -> features: ["6": Former(x)];
        let x = x -> features: ["6": DnaBlock(t, 96, 1, 4)];
        let t = t -> features: ["7": Former(x)];
        let x = x -> features: ["7": DnaBlock(t, 128, 1, 6)];
        let t = t -> features: ["8": Former(x)];
        let x = x -> features: ["8": DnaBlock(t, 128, 1, 6)];
        // ['DnaBlock3', 6, 192, 1, 2, 4]: 7x7, ['DnaBlock', 6, 192, 1, 1, 4] twice
        let t = t -> features: ["9": Former(x)];
        let x = x -> features: ["9": DnaBlock3(t, 192, 2, 6, 4)];
        let t = t -> features: ["10": Former(x)];
        let x = x -> features: ["10": DnaBlock(t, 192, 1, 6)];
        let t = t -> features: ["11": Former(x)];
        let x = x -> features: ["11": DnaBlock(t, 192, 1, 6)];
        let t = t -> local_global: Local2Global(x);
        x -> classifier: MergeClassifier(t, 1920, 6, 1000, 0.3)
    }
}
