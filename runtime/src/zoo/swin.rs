//! Swin Transformer (Liu et al., 2021), as torchvision builds it: Swin-T and
//! a small two-stage configuration of the same `SwinTransformer` that shares
//! its blocks, with torchvision's state-dict names.
//!
//! Shifted-window attention is ordinary `network!` code here: the cyclic
//! shift is `roll`, the window partition and its reverse are reshapes and
//! permutations, the relative-position bias reads its learnable table by a
//! constant index (`table[index]`), and the shifted windows' attention mask
//! is a compile-time array. The index and the mask are what torchvision
//! computes from the configuration (`define_relative_position_index`, the
//! mask in `shifted_window_attention`), computed by the compiler; the index
//! is also torchvision's `relative_position_index` buffer, which a state
//! dict may carry (it is checked when it does).

use crate::network;

network! {
    /// torchvision's `Permute` module (`torchvision.ops.misc.Permute`) for
    /// four-dimensional tensors: `torch.permute(x, dims)`.
    block Permute(x, d0, d1, d2, d3) {
        x.permute(d0, d1, d2, d3)
    }

    /// torchvision's `ShiftedWindowAttention` (its `shifted_window_attention`)
    /// on a `[H, W, C]` map, for a square window:
    ///
    /// - the learnable `relative_position_bias_table`
    ///   `[(2w - 1)², heads]`, read by `relative_position_index` (the
    ///   relative offset of every pair of tokens of a window, `[w⁴]`), viewed
    ///   `[1, heads, w², w²]`;
    /// - padding to a multiple of the window (`F.pad`), and no shift along
    ///   an axis that the window covers whole;
    /// - the cyclic shift `roll(x, (-s, -s), (1, 2))`, the window partition
    ///   (`view(H/w, w, W/w, w, C).permute(0, 1, 3, 2, 4, 5)`, here with the
    ///   batch first and the windows in the sample);
    /// - `qkv`, `reshape(nW, w², 3, heads, C/heads)` and the permutation that
    ///   puts the three first (`qkv[:, i]` for `qkv[i]`), `q * (C/heads)^-0.5`,
    ///   `q.matmul(kᵀ)` (`torch.matmul`, as torchvision calls it), the bias, for a shifted window the mask (`-100` between
    ///   tokens of different regions of the shifted map, computed here from
    ///   the region of each position as torchvision's slices assign it),
    ///   softmax, `.matmul(v)`, `transpose(1, 2)`, `proj`;
    /// - the reverse partition, the reverse shift and the crop of the padding.
    ///
    /// torchvision's dropouts (0 here) are functional calls without modules.
    /// The bias table is declared first because the module's own parameter
    /// comes first in its state dict (then its buffer, then `qkv`, `proj`).
    block ShiftedWindowAttention(x, window_size, shift_size, num_heads) {
        let (h, w, c) = (x.size(1), x.size(2), x.size(3));
        let ws = window_size;
        let n = ws * ws;
        let table = relative_position_bias_table: Parameter((2 * ws - 1) * (2 * ws - 1), num_heads);
        let t = arange(n);
        let (ti, tj) = (t / ws, t % ws);
        let index = relative_position_index: Buffer(
            ((ti[:, None] - ti[None, :] + ws - 1) * (2 * ws - 1) + tj[:, None] - tj[None, :] + ws - 1).flatten()
        );
        let bias = table[index][None].view(n, n, num_heads).permute(0, 3, 1, 2);

        let pad_r = (ws - w % ws) % ws;
        let pad_b = (ws - h % ws) % ws;
        let x = if pad_r + pad_b > 0 { pad(x, (0, 0, 0, pad_r, 0, pad_b)) } else { x };
        let (ph, pw) = (h + pad_b, w + pad_r);
        let sh = if ws >= ph { 0 } else { shift_size };
        let sw = if ws >= pw { 0 } else { shift_size };
        let shifted = sh + sw > 0;
        let nw = (ph / ws) * (pw / ws);

        let x = if shifted { roll(x, (-sh, -sw), (1, 2)) } else { x };
        let x = x.view(ph / ws, ws, pw / ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(nw, n, c);
        let qkv = x -> qkv: Linear(3 * c);
        let qkv = qkv.reshape(nw, n, 3, num_heads, c / num_heads).permute(0, 3, 1, 4, 2, 5);
        let q = qkv[:, 0] * (1.0 / sqrt(c / num_heads));
        let attn = q.matmul(qkv[:, 1].transpose(-2, -1));
        let attn = attn + bias;

        // The region of every position of the shifted map (torchvision's
        // h_slices x w_slices: 0 before the last window, 1 in it before the
        // shift, 2 in the shift; one region along an axis that is not
        // shifted), its windows, and -100 between tokens of different regions.
        let rh = if sh > 0 { (arange(ph) >= ph - ws) + (arange(ph) >= ph - sh) } else { zeros(ph) };
        let rw = if sw > 0 { (arange(pw) >= pw - ws) + (arange(pw) >= pw - sw) } else { zeros(pw) };
        let regions = (rh[:, None] * 3 + rw[None, :])
            .view(ph / ws, ws, pw / ws, ws).permute(0, 2, 1, 3).reshape(nw, n);
        let attn = if shifted {
            attn + ((regions.unsqueeze(1) != regions.unsqueeze(2)) * -100.0).unsqueeze(1)
        } else {
            attn
        };

        let x = softmax(attn, -1).matmul(qkv[:, 2]).transpose(2, 3).reshape(nw, n, c) -> proj: Linear(c);
        let x = x.view(ph / ws, pw / ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(ph, pw, c);
        let x = if shifted { roll(x, (sh, sw), (1, 2)) } else { x };
        if pad_r + pad_b > 0 { x[:, :h, :w] } else { x }
    }

    /// torchvision's `SwinTransformerBlock`: `x + stochastic_depth(attn(norm1(x)))`,
    /// then `x + stochastic_depth(mlp(norm2(x)))` with torchvision's `MLP`
    /// (`Linear(4C)`, GELU, Dropout, `Linear(C)`, Dropout, named 0..4); one
    /// `stochastic_depth` module, called twice (identity at inference).
    block SwinTransformerBlock(x, num_heads, window_size, shift_size, stochastic_depth_prob) {
        let c = x.size(3);
        let y = x -> norm1: LayerNorm(eps = 1e-5)
                  -> attn: ShiftedWindowAttention(window_size, shift_size, num_heads)
                  -> stochastic_depth: StochasticDepth(stochastic_depth_prob, "row");
        let x = x + y;
        let z = x -> norm2: LayerNorm(eps = 1e-5)
                  -> mlp: [Linear(4 * c), GELU, Dropout(0.0), Linear(c), Dropout(0.0)]
                  -> stochastic_depth: StochasticDepth(stochastic_depth_prob, "row");
        x + z
    }

    /// One stage of `depth` blocks (a Sequential), every second one shifted
    /// by half a window; block `first + i` of the network's `total` gets
    /// stochastic-depth probability `prob * (first + i) / (total - 1)`, as
    /// torchvision's `stage_block_id`.
    block Stage(x, num_heads, depth, first, total, prob, window_size = 7) {
        x -> [for i in 0..depth => SwinTransformerBlock(
            num_heads,
            window_size,
            if i % 2 == 0 { 0 } else { window_size / 2 },
            prob * (first + i) / (total - 1.0),
        )]
    }

    /// torchvision's `PatchMerging`: padding to even sizes, the four
    /// interleaved quarters `x[0::2, 0::2]`, `x[1::2, 0::2]`, `x[0::2, 1::2]`,
    /// `x[1::2, 1::2]` concatenated along the channels (here one reshape and
    /// a permutation, the same values in the same order), `norm` over `4C`,
    /// `reduction` to `2C` without bias.
    block PatchMerging(x) {
        let (h, w, c) = (x.size(1), x.size(2), x.size(3));
        let x = if h % 2 + w % 2 > 0 { pad(x, (0, 0, 0, w % 2, 0, h % 2)) } else { x };
        let (h, w) = (h + h % 2, w + w % 2);
        let x = x.reshape(h / 2, 2, w / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(h / 2, w / 2, 4 * c);
        x -> norm: LayerNorm(eps = 1e-5) -> reduction: Linear(2 * c, bias = false)
    }

    /// torchvision's patch embedding (`features.0`): a `patch`x`patch`
    /// convolution with stride `patch`, `Permute([0, 2, 3, 1])` to
    /// channels-last, `LayerNorm`, named 0..2.
    block PatchEmbed(x, embed_dim, patch) {
        x -> [Conv2d(embed_dim, patch, stride = patch), Permute(0, 2, 3, 1), LayerNorm(eps = 1e-5)]
    }

    /// torchvision's head: `norm`, `permute` to channels-first, `avgpool`
    /// (AdaptiveAvgPool2d(1)), `flatten`, `head`.
    block Head(x, num_classes) {
        x -> norm: LayerNorm(eps = 1e-5)
          -> permute: Permute(0, 3, 1, 2)
          -> avgpool: AdaptiveAvgPool2d(1)
          -> flatten: Flatten
          -> head: Linear(num_classes)
    }

    /// Swin-T (Liu et al., 2021, "Swin Transformer: Hierarchical Vision
    /// Transformer using Shifted Windows"), torchvision's `swin_t`: patch 4,
    /// embedding 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24), window 7,
    /// stochastic depth 0.2. At 224x224 no stage needs padding, and in the
    /// last (7x7) the window covers the map, so its blocks do not shift.
    pub struct SwinT(x: [3, 224, 224]) {
        x -> features: [
                PatchEmbed(96, 4),
                Stage(3, 2, 0, 12, 0.2), PatchMerging,
                Stage(6, 2, 2, 12, 0.2), PatchMerging,
                Stage(12, 6, 4, 12, 0.2), PatchMerging,
                Stage(24, 2, 10, 12, 0.2),
            ]
          -> Head(1000)
    }

    /// A small torchvision `SwinTransformer` (Liu et al., 2021) for tests:
    /// `SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2],
    /// num_heads=[2, 4], window_size=[4, 4], num_classes=10)` at 3x32x32
    /// (the class's default stochastic depth, 0.1): four 4x4 windows of an
    /// 8x8 map, the second block shifted by 2, then a 4x4 map that one window
    /// covers (no shift). The blocks of `SwinT`.
    pub struct SmallSwin(x: [3, 32, 32]) {
        x -> features: [
                PatchEmbed(16, 4),
                Stage(2, 2, 0, 4, 0.1, window_size = 4), PatchMerging,
                Stage(4, 2, 2, 4, 0.1, window_size = 4),
            ]
          -> Head(10)
    }
}
