//! MobileViT (Mehta and Rastegari, 2022), as timm builds it (a `ByobNet` from
//! `model_cfgs`), with timm's layer names, at timm's input size 3x256x256:
//! MobileViT-XXS and MobileViT-S.

use crate::network;

network! {
    /// The children of timm's `BatchNormAct2d` after its batch norm: `drop`
    /// (an identity) and `act` (SiLU, or an identity when `apply_act` is
    /// false). The batch norm itself is the layer of the same name just
    /// before, as timm's module holds the batch-norm tensors.
    block BatchNormAct2d(x, apply_act = true) {
        let x = x -> drop: Identity;
        if apply_act { x -> act: SiLU } else { x -> act: Identity }
    }

    /// timm's `ConvNormAct` with MobileViT's layers: `conv` (no bias, timm's
    /// symmetric padding `((stride - 1) + (kernel_size - 1)) // 2`), `bn`
    /// (BatchNorm2d, eps 1e-5) with its SiLU.
    block ConvNormAct(x, out_channels, kernel_size = 1, stride = 1, groups = 1, apply_act = true) {
        x -> conv: Conv2d(out_channels, kernel_size, stride = stride,
                          padding = ((stride - 1) + (kernel_size - 1)) / 2, groups = groups, bias = false)
          -> bn: BatchNorm2d
          -> bn: BatchNormAct2d(apply_act)
    }

    /// timm's `BottleneckBlock` as MobileViT's inverted residual configures it
    /// (`bottle_in=True`, `linear_out=True`, group size 1, `downsample=''`):
    /// 1x1 expansion to `make_divisible(in_chs * bottle_ratio)`, depthwise 3x3
    /// with the stride, linear 1x1 projection, and the identity `shortcut`
    /// only when the shape is kept (timm's `create_shortcut` returns `None`
    /// otherwise). `conv2b_kxk`, `attn`, `attn_last`, `drop_path` and `act`
    /// are identities.
    block BottleneckBlock(x, out_chs, stride = 1, bottle_ratio = 1.0) {
        let mid_chs = make_divisible(x.channels * bottle_ratio, 8);
        let y = x -> conv1_1x1: ConvNormAct(mid_chs, 1)
                  -> conv2_kxk: ConvNormAct(mid_chs, 3, stride = stride, groups = mid_chs)
                  -> conv2b_kxk: Identity
                  -> attn: Identity
                  -> conv3_1x1: ConvNormAct(out_chs, 1, apply_act = false)
                  -> attn_last: Identity
                  -> drop_path: Identity;
        let y = if x.channels == out_chs && stride == 1 { y + (x -> shortcut: Identity) } else { y };
        y -> act: Identity
    }

    /// timm's `Attention` (`qkv_bias=True`, no q/k norm) on MobileViT's
    /// patches `[P, N, C]` (timm's `[B * P, N, C]`: the batch stays first
    /// here, so every dimension after timm's first is one further on): `qkv`,
    /// `reshape(B * P, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4)` (here
    /// `reshape(P, N, 3, heads, head_dim).permute(0, 3, 1, 4, 2, 5)`, and
    /// `qkv[:, i]` for `unbind(0)`), the fused path
    /// `F.scaled_dot_product_attention(q, k, v)` (scale `head_dim ** -0.5`)
    /// broadcasting over P, `transpose(1, 2).reshape(B * P, N, C)` (here
    /// `transpose(2, 3).reshape(P, N, C)`), `proj`. timm's `attn_drop` is not
    /// called on the fused path and has no row here.
    block Attention(x, num_heads) {
        let p = x.size(1);
        let n = x.size(2);
        let c = x.size(3);
        let head_dim = c / num_heads;
        let qkv = x -> qkv: Linear(3 * c);
        let qkv = qkv.reshape(p, n, 3, num_heads, head_dim).permute(0, 3, 1, 4, 2, 5);
        let q = qkv[:, 0] -> q_norm: Identity;
        let k = qkv[:, 1] -> k_norm: Identity;
        let v = qkv[:, 2];
        let x = attention(q, k, v);
        x.transpose(2, 3).reshape(p, n, c) -> norm: Identity -> proj: Linear(c) -> proj_drop: Dropout(0.0)
    }

    /// timm's `Mlp` with MobileViT's activation: `fc1` to `hidden_features`,
    /// SiLU, dropout, `norm` (an identity), `fc2` back, dropout.
    block Mlp(x, hidden_features) {
        x -> fc1: Linear(hidden_features) -> act: SiLU -> drop1: Dropout(0.0) -> norm: Identity
          -> fc2: Linear(x.size(-1)) -> drop2: Dropout(0.0)
    }

    /// timm's `vision_transformer.Block` as `MobileVitBlock` builds it
    /// (`TransformerBlock`: `nn.LayerNorm`, eps 1e-5; SiLU; no layer scale or
    /// drop path): `x + attn(norm1(x))`, then `x + mlp(norm2(x))` with
    /// `int(dim * mlp_ratio)` hidden features.
    block TransformerBlock(x, num_heads, mlp_ratio = 4.0) {
        let x = x + (x -> norm1: LayerNorm -> attn: Attention(num_heads)
                       -> ls1: Identity -> drop_path1: Identity);
        x + (x -> norm2: LayerNorm -> mlp: Mlp(int(x.size(-1) * mlp_ratio))
               -> ls2: Identity -> drop_path2: Identity)
    }

    /// timm's `MobileVitBlock`: local representation (`conv_kxk`, a 3x3
    /// ConvNormAct, then `conv_1x1` to `transformer_dim`, no bias or norm);
    /// unfold into patches, `transformer_depth` transformer blocks and `norm`
    /// over the patches, fold back; `conv_proj` (1x1 ConvNormAct) to
    /// `out_chs`, concatenation with the block's input and `conv_fusion` (3x3
    /// ConvNormAct). The unfold and fold are timm's reshape and transpose
    /// chain with the batch kept first (timm's leading `B * C * n_h` is
    /// `C * n_h` here and its dimension indices 1, 2 are 2, 3); timm's final
    /// `reshape(B * P, N, C)` of the unfold and `view(B, P, N, -1)` of the
    /// fold have nothing to undo here. The feature map's size must be a
    /// multiple of the patch size (timm interpolates otherwise; MobileViT at
    /// 256x256 never does).
    block MobileVitBlock(x, out_chs, transformer_dim, transformer_depth, patch_size = 8,
                         kernel_size = 3, mlp_ratio = 2.0, num_heads = 4) {
        let shortcut = x;
        let x = x -> conv_kxk: ConvNormAct(x.channels, kernel_size)
                  -> conv_1x1: Conv2d(transformer_dim, 1, bias = false);
        let c = x.size(1);
        let h = x.size(2);
        let w = x.size(3);
        let patch_h = patch_size;
        let patch_w = patch_size;
        let num_patch_h = h / patch_h;
        let num_patch_w = w / patch_w;
        let num_patches = num_patch_h * num_patch_w;
        let patch_area = patch_h * patch_w;
        // unfold: [C, H, W] -> [C * n_h, n_w, p_h, p_w] -> [C, N, P] -> [P, N, C]
        let x = x.reshape(c * num_patch_h, patch_h, num_patch_w, patch_w).transpose(2, 3);
        let x = x.reshape(c, num_patches, patch_area).transpose(1, 3);
        let x = x -> transformer: [TransformerBlock(num_heads, mlp_ratio); transformer_depth]
                  -> norm: LayerNorm;
        // fold: [P, N, C] -> [C, N, P] -> [C * n_h, n_w, p_h, p_w] -> [C, H, W]
        let x = x.transpose(1, 3).reshape(c * num_patch_h, num_patch_w, patch_h, patch_w);
        let x = x.transpose(2, 3).reshape(c, num_patch_h * patch_h, num_patch_w * patch_w);
        let x = x -> conv_proj: ConvNormAct(out_chs, 1);
        cat(shortcut, x, dim = 1) -> conv_fusion: ConvNormAct(out_chs, kernel_size)
    }

    /// timm's `ClassifierHead` (`pool_type='avg'`): `global_pool`
    /// (`SelectAdaptivePool2d`: adaptive average pooling and `Flatten(1)`),
    /// `drop`, `fc`, and `flatten` (an identity).
    block ClassifierHead(x, num_classes, drop_rate = 0.0) {
        x -> global_pool: [pool: AdaptiveAvgPool2d(1), flatten: Flatten]
          -> drop: Dropout(drop_rate)
          -> fc: Linear(num_classes)
          -> flatten: Identity
    }

    /// timm's MobileViT `ByobNet`: the 3x3 stride-2 `stem` (16 channels), the
    /// five stages of `model_cfgs` (two of inverted residuals, `d = 1` and
    /// `d = 3`, then three of an inverted residual with stride 2 and a
    /// MobileViT block, patch size 2, transformer depths 2, 4, 3), the 1x1
    /// `final_conv` to `num_features` and the classifier head. Stage
    /// channels `c0`..`c4`, transformer widths `t2`..`t4` and the bottleneck
    /// ratio `br` are the variant's.
    block MobileViT(x, c0, c1, c2, c3, c4, t2, t3, t4, br, num_features, num_classes = 1000) {
        x -> stem: ConvNormAct(16, 3, stride = 2)
          -> stages: [
                [BottleneckBlock(c0, 1, br)],
                [for i in 0..3 => BottleneckBlock(c1, if i == 0 { 2 } else { 1 }, br)],
                [BottleneckBlock(c2, 2, br), MobileVitBlock(c2, t2, 2, patch_size = 2)],
                [BottleneckBlock(c3, 2, br), MobileVitBlock(c3, t3, 4, patch_size = 2)],
                [BottleneckBlock(c4, 2, br), MobileVitBlock(c4, t4, 3, patch_size = 2)],
            ]
          -> final_conv: ConvNormAct(num_features, 1)
          -> head: ClassifierHead(num_classes)
    }

    /// MobileViT-XXS (Mehta and Rastegari, 2022, "MobileViT: Light-weight,
    /// General-purpose, and Mobile-friendly Vision Transformer"), timm's
    /// `mobilevit_xxs`: channels 16, 24, 48, 64, 80, transformer widths 64,
    /// 80, 96, bottleneck ratio 2, 320 features.
    pub struct MobileViTXxs(x: [3, 256, 256]) {
        x -> MobileViT(16, 24, 48, 64, 80, 64, 80, 96, 2.0, 320)
    }

    /// MobileViT-S (Mehta and Rastegari, 2022, "MobileViT: Light-weight,
    /// General-purpose, and Mobile-friendly Vision Transformer"), timm's
    /// `mobilevit_s`: channels 32, 64, 96, 128, 160, transformer widths 144,
    /// 192, 240, bottleneck ratio 4, 640 features.
    pub struct MobileViTS(x: [3, 256, 256]) {
        x -> MobileViT(32, 64, 96, 128, 160, 144, 192, 240, 4.0, 640)
    }
}
