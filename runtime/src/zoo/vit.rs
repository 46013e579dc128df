//! Vision Transformers (Dosovitskiy et al., 2021): torchvision's ViT-B/16 and a
//! small configuration of the same `VisionTransformer`, and timm's DeiT-Tiny
//! (Touvron et al., 2021), each with its library's state-dict names.
//!
//! The two libraries build the same network (patch embedding, class token,
//! learned position embedding, pre-norm encoder blocks, the class token's
//! output through a linear head) but name every tensor differently
//! (`conv_proj` / `patch_embed.proj`, `encoder.layers.encoder_layer_0.ln_1` /
//! `blocks.0.norm1`, ...), and torchvision's attention is one
//! `nn.MultiheadAttention` (`in_proj_weight`) where timm's is two linear
//! layers (`attn.qkv`, `attn.proj`). A block cannot take a name as an
//! argument, so no weighted block can serve both: each library has its own
//! invocation below, with its own block names.

use crate::network;

network! {
    /// torchvision's `EncoderBlock`: pre-norm self-attention (one
    /// `nn.MultiheadAttention`, `batch_first=True`) and dropout, the residual,
    /// then pre-norm `MLPBlock` (torchvision's `MLP`: `Linear(mlp_dim)`, GELU,
    /// Dropout, `Linear(hidden_dim)`, Dropout, named 0..4) and the residual.
    /// Layer norms use eps 1e-6.
    block EncoderBlock(input, num_heads, mlp_dim) {
        let x = input -> ln_1: LayerNorm(eps = 1e-6)
                      -> self_attention: MultiheadAttention(num_heads, batch_first = true)
                      -> dropout: Dropout(0.0);
        let x = x + input;
        let y = x -> ln_2: LayerNorm(eps = 1e-6)
                  -> mlp: [Linear(mlp_dim), GELU, Dropout(0.0), Linear(x.size(-1)), Dropout(0.0)];
        x + y
    }

    /// torchvision's `Encoder`: the learned position embedding
    /// `pos_embedding` `[1, seq_length, hidden_dim]` added to the tokens,
    /// dropout, `num_layers` encoder blocks named `encoder_layer_{i}` (an
    /// `OrderedDict`), and the final layer norm `ln`.
    block Encoder(input, seq_length, num_layers, num_heads, mlp_dim) {
        let pos_embedding = pos_embedding: Parameter(1, seq_length, input.size(2));
        let x = input + pos_embedding;
        x -> dropout: Dropout(0.0)
          -> layers: [for i in 0..num_layers => "encoder_layer_{i}": EncoderBlock(num_heads, mlp_dim)]
          -> ln: LayerNorm(eps = 1e-6)
    }

    /// torchvision's `VisionTransformer` without a representation layer or
    /// convolutional stem, for any patch size and width; `image_size` is the
    /// network's input size. `_process_input`: the patchifying `conv_proj`
    /// (kernel and stride `patch_size`), `reshape(n, hidden_dim, n_h * n_w)`
    /// and `permute(0, 2, 1)` to tokens; the class token `class_token`
    /// `[1, 1, hidden_dim]` concatenated in front (`expand(n, -1, -1)` is the
    /// broadcast of `cat`); the encoder; token 0 (`x[:, 0]`) through
    /// `heads.head`. `class_token` is declared first because the model's own
    /// parameter comes first in its state dict.
    block VisionTransformer(x, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes = 1000) {
        let class_token = class_token: Parameter(1, 1, hidden_dim);
        let n_h = x.size(2) / patch_size;
        let n_w = x.size(3) / patch_size;
        let x = x -> conv_proj: Conv2d(hidden_dim, patch_size, stride = patch_size);
        let x = x.reshape(hidden_dim, n_h * n_w).permute(0, 2, 1);
        let x = cat(class_token, x, dim = 1);
        let x = x -> encoder: Encoder(n_h * n_w + 1, num_layers, num_heads, mlp_dim);
        x[:, 0] -> heads: [head: Linear(num_classes)]
    }

    /// ViT-B/16 (Dosovitskiy et al., 2021, "An Image is Worth 16x16 Words:
    /// Transformers for Image Recognition at Scale"), torchvision's
    /// `vit_b_16`: patch 16, 12 layers, 12 heads, hidden 768, MLP 3072.
    pub struct VitB16(x: [3, 224, 224]) {
        x -> VisionTransformer(16, 12, 12, 768, 3072)
    }

    /// A small torchvision `VisionTransformer` (Dosovitskiy et al., 2021) for
    /// tests: `VisionTransformer(image_size=32, patch_size=8, num_layers=2,
    /// num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)`, the blocks
    /// of `VitB16`.
    pub struct SmallVit(x: [3, 32, 32]) {
        x -> VisionTransformer(8, 2, 2, 32, 64, num_classes = 10)
    }
}

network! {
    /// timm's `PatchEmbed`: the patchifying convolution `proj` (kernel and
    /// stride `patch_size`), `flatten(2).transpose(1, 2)` to tokens, and its
    /// `norm` (an identity in DeiT).
    block PatchEmbed(x, embed_dim, patch_size) {
        let x = x -> proj: Conv2d(embed_dim, patch_size, stride = patch_size);
        x.flatten(2).transpose(1, 2) -> norm: Identity
    }

    /// timm's `Attention` (`qkv_bias=True`, no q/k norm) on tokens `[N, C]`:
    /// `qkv` to `3 * C`, `reshape(B, N, 3, heads, head_dim)` and
    /// `permute(2, 0, 3, 1, 4)` (here `permute(0, 2, 3, 1, 4)`: the batch stays
    /// first, so `qkv[:, i]` is timm's `unbind(0)`), the fused path
    /// `F.scaled_dot_product_attention(q, k, v)` (scale `head_dim ** -0.5`),
    /// `transpose(1, 2).reshape(B, N, C)`, `proj`. timm's `attn_drop` is not
    /// called on the fused path and has no row here.
    block Attention(x, num_heads) {
        let n = x.size(1);
        let c = x.size(2);
        let head_dim = c / num_heads;
        let qkv = x -> qkv: Linear(3 * c);
        let qkv = qkv.reshape(n, 3, num_heads, head_dim).permute(0, 2, 3, 1, 4);
        let q = qkv[:, 0] -> q_norm: Identity;
        let k = qkv[:, 1] -> k_norm: Identity;
        let v = qkv[:, 2];
        let x = attention(q, k, v);
        x.transpose(1, 2).reshape(n, c) -> norm: Identity -> proj: Linear(c) -> proj_drop: Dropout(0.0)
    }

    /// timm's `Mlp`: `fc1` to `hidden_features`, GELU, dropout, `norm` (an
    /// identity), `fc2` back to the input width, dropout.
    block Mlp(x, hidden_features) {
        x -> fc1: Linear(hidden_features) -> act: GELU -> drop1: Dropout(0.0) -> norm: Identity
          -> fc2: Linear(x.size(-1)) -> drop2: Dropout(0.0)
    }

    /// timm's `vision_transformer.Block` without layer scale or drop path (both
    /// identities): `x + attn(norm1(x))`, then `x + mlp(norm2(x))` with
    /// `int(dim * mlp_ratio)` hidden features; timm's `LayerNorm` (eps 1e-6).
    block Block(x, num_heads, mlp_ratio = 4.0) {
        let x = x + (x -> norm1: LayerNorm(eps = 1e-6) -> attn: Attention(num_heads)
                       -> ls1: Identity -> drop_path1: Identity);
        x + (x -> norm2: LayerNorm(eps = 1e-6) -> mlp: Mlp(int(x.size(-1) * mlp_ratio))
               -> ls2: Identity -> drop_path2: Identity)
    }

    /// timm's `VisionTransformer` with a class token, learned position
    /// embedding over it (`no_embed_class=False`), `global_pool='token'` and
    /// no register tokens: `patch_embed`, `cat(cls_token, x)` then
    /// `+ pos_embed` (`[1, num_patches + 1, embed_dim]`), `pos_drop`,
    /// `patch_drop` and `norm_pre` (identities), `depth` blocks, `norm`, token
    /// 0, `fc_norm` (an identity), `head_drop`, `head`. `cls_token` and
    /// `pos_embed` are declared first because the model's own parameters come
    /// first in its state dict.
    block VisionTransformer(x, patch_size, embed_dim, depth, num_heads, mlp_ratio = 4.0, num_classes = 1000) {
        let num_patches = (x.size(2) / patch_size) * (x.size(3) / patch_size);
        let cls_token = cls_token: Parameter(1, 1, embed_dim);
        let pos_embed = pos_embed: Parameter(1, num_patches + 1, embed_dim);
        let x = x -> patch_embed: PatchEmbed(embed_dim, patch_size);
        let x = cat(cls_token, x, dim = 1) + pos_embed;
        let x = x -> pos_drop: Dropout(0.0) -> patch_drop: Identity -> norm_pre: Identity
                  -> blocks: [Block(num_heads, mlp_ratio); depth]
                  -> norm: LayerNorm(eps = 1e-6);
        x[:, 0] -> fc_norm: Identity -> head_drop: Dropout(0.0) -> head: Linear(num_classes)
    }

    /// DeiT-Tiny (Touvron et al., 2021, "Training data-efficient image
    /// transformers & distillation through attention"), timm's
    /// `deit_tiny_patch16_224`: patch 16, embedding 192, 12 blocks, 3 heads,
    /// MLP ratio 4.
    pub struct DeiTTiny(x: [3, 224, 224]) {
        x -> VisionTransformer(16, 192, 12, 3)
    }
}
