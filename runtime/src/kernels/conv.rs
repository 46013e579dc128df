//! 2-D convolution: standard, grouped, depthwise, dilated, asymmetric padding;
//! 1-D convolution ([`conv1d`]) as a 2-D one of height 1 on the same memory.
//!
//! Two strategies, both exact up to float rounding:
//! - groups with four or more output channels run as a matrix product
//!   `out[c_out_g, oh·ow] = weight[c_out_g, c_in_g·k_h·k_w] × im2col[c_in_g·k_h·k_w, oh·ow]`,
//!   where the im2col matrix is never built whole: blocks of it are packed into
//!   column panels of [`NR`] and consumed by a register-tiled micro-kernel
//!   ([`MR`] × [`NR`] accumulators). A 1x1 stride-1 unpadded convolution packs by
//!   plain copies.
//! - groups with fewer output channels (depthwise) run directly: for each output
//!   row and kernel tap, one contiguous row of outputs accumulates `w · input row`.

use super::{check_len, nchw};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::Conv2d;

/// Rows of the register tile (output channels computed together).
pub const MR: usize = 4;
/// Columns of the register tile (output pixels computed together).
pub const NR: usize = 16;
/// Depth of a packed block (reduction elements kept in cache).
const KC: usize = 256;
/// Output pixels per packed block (a multiple of [`NR`]).
const NC: usize = 256;

/// Geometry of one convolution, resolved for a given input.
#[derive(Clone, Copy, Debug)]
struct Geom {
    cin_g: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    oh: usize,
    ow: usize,
}

/// Output length of one axis, or an error naming the axis.
pub(crate) fn out_len(
    axis: &str,
    len: usize,
    pad: [usize; 2],
    k: usize,
    s: usize,
    d: usize,
) -> Result<usize, Error> {
    if k == 0 || s == 0 || d == 0 {
        return kernel(
            "Conv2d",
            format!("kernel, stride and dilation must be positive along the {axis}, found kernel {k}, stride {s}, dilation {d}"),
        );
    }
    let extent = d * (k - 1) + 1;
    let padded = len + pad[0] + pad[1];
    if extent > padded {
        return kernel(
            "Conv2d",
            format!(
                "kernel extent {extent} along the {axis} is larger than the padded input {padded}"
            ),
        );
    }
    Ok((padded - extent) / s + 1)
}

/// Checks that `groups` divides both channel counts (for `op`'s errors).
pub(crate) fn check_groups(
    op: &'static str,
    cin: usize,
    cout: usize,
    groups: usize,
) -> Result<(), Error> {
    if groups == 0 || !cin.is_multiple_of(groups) || !cout.is_multiple_of(groups) {
        return kernel(
            op,
            format!("groups = {groups} must divide both {cin} input and {cout} output channels"),
        );
    }
    Ok(())
}

/// Range of output positions `o` in `0..out` for which `o * stride + off` lies in `0..len`.
pub(crate) fn valid_range(out: usize, len: usize, stride: usize, off: isize) -> (usize, usize) {
    let s = stride as isize;
    let lo = if off >= 0 { 0 } else { (-off + s - 1) / s };
    let last = len as isize - 1 - off;
    let hi = if last < 0 {
        0
    } else {
        (last / s + 1).min(out as isize)
    };
    let lo = lo.min(out as isize);
    (lo as usize, hi.max(lo) as usize)
}

/// Convolution of `x` (`[N, C_in, H, W]`) with `weight`
/// (`[C_out, C_in / groups, k_h, k_w]`, row-major) and optional `bias`
/// (`[C_out]`), returning `[N, C_out, H_out, W_out]` with
/// `H_out = (H + pad_top + pad_bottom - d_h·(k_h - 1) - 1) / s_h + 1` (and so for `W`).
///
/// Padding positions read as zero, as in PyTorch.
pub fn conv2d(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &Conv2d,
) -> Result<Tensor, Error> {
    let dims = nchw("Conv2d", x)?;
    conv2d_on(dims, x.data(), weight, bias, c)
}

/// 1-D convolution of `x` (`[N, C_in, L]`) with `weight`
/// (`[C_out, C_in / groups, k]`) and optional `bias` (`[C_out]`), returning
/// `[N, C_out, L_out]`. `c` describes it as a 2-D convolution of height 1
/// (`kernel[0] = stride[0] = dilation[0] = 1`, `padding[0] = [0, 0]`), so
/// it runs as [`conv2d`] on the same memory viewed as `[N, C_in, 1, L]`.
pub fn conv1d(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &Conv2d,
) -> Result<Tensor, Error> {
    let [n, cin, l] = *x.shape() else {
        return kernel(
            "Conv1d",
            format!("expects a [N, C, L] tensor, found {}", shape_str(x.shape())),
        );
    };
    if c.kernel[0] != 1 || c.stride[0] != 1 || c.dilation[0] != 1 || c.padding[0] != [0, 0] {
        return kernel(
            "Conv1d",
            format!(
                "the height of a 1-D convolution must be trivial, found kernel {}, stride {}, dilation {}, padding {:?}",
                c.kernel[0], c.stride[0], c.dilation[0], c.padding[0]
            ),
        );
    }
    if c.groups > 0 && cin % c.groups == 0 {
        check_len(
            "Conv1d",
            "weight",
            weight,
            &[c.out_channels, cin / c.groups, c.kernel[1]],
        )?;
    }
    let y = conv2d_on([n, cin, 1, l], x.data(), weight, bias, c).map_err(|e| match e {
        Error::Kernel { message, .. } => Error::Kernel {
            op: "Conv1d",
            message: message.replace("along the width", "along the length"),
        },
        other => other,
    })?;
    let [n, cout, _, lout] = *y.shape() else {
        return kernel(
            "Conv1d",
            format!(
                "expected a [N, C, 1, L] result, found {}",
                shape_str(y.shape())
            ),
        );
    };
    Ok(Tensor::from_parts(vec![n, cout, lout], y.into_data()))
}

/// [`conv2d`] on the data of a `[N, C_in, H, W]` tensor.
fn conv2d_on(
    [n, cin, h, w]: [usize; 4],
    xd: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &Conv2d,
) -> Result<Tensor, Error> {
    if cin != c.in_channels {
        return kernel(
            "Conv2d",
            format!("expects {} input channels, found {cin}", c.in_channels),
        );
    }
    let groups = c.groups;
    check_groups("Conv2d", cin, c.out_channels, groups)?;
    let cout = c.out_channels;
    let [kh, kw] = c.kernel;
    let cin_g = cin / groups;
    let cout_g = cout / groups;
    check_len("Conv2d", "weight", weight, &[cout, cin_g, kh, kw])?;
    if let Some(b) = bias {
        check_len("Conv2d", "bias", b, &[cout])?;
    }
    let oh = out_len("height", h, c.padding[0], kh, c.stride[0], c.dilation[0])?;
    let ow = out_len("width", w, c.padding[1], kw, c.stride[1], c.dilation[1])?;
    let g = Geom {
        cin_g,
        h,
        w,
        kh,
        kw,
        sh: c.stride[0],
        sw: c.stride[1],
        dh: c.dilation[0],
        dw: c.dilation[1],
        pt: c.padding[0][0],
        pl: c.padding[1][0],
        oh,
        ow,
    };
    let plane = oh * ow;
    let mut out = vec![0.0f32; n * cout * plane];
    if let Some(b) = bias {
        for (o, &bv) in out.chunks_exact_mut(plane.max(1)).zip(b.iter().cycle()) {
            o.fill(bv);
        }
    }
    // An empty input (some dimension 0) reads as all padding: the output is the bias.
    if plane == 0 || n == 0 || cout == 0 || xd.is_empty() {
        return Ok(Tensor::from_parts(vec![n, cout, oh, ow], out));
    }
    let in_group = cin_g * h * w;
    let w_group = cout_g * cin_g * kh * kw;
    if cout_g < MR {
        let ranges: Vec<(usize, usize, isize)> = (0..kw)
            .map(|kx| {
                let off = (kx * g.dw) as isize - g.pl as isize;
                let (lo, hi) = valid_range(ow, w, g.sw, off);
                (lo, hi, off)
            })
            .collect();
        for (b, (xs, os)) in xd
            .chunks_exact(cin * h * w)
            .zip(out.chunks_exact_mut(cout * plane))
            .enumerate()
        {
            let _ = b;
            for gi in 0..groups {
                let xg = &xs[gi * in_group..(gi + 1) * in_group];
                let wg = &weight[gi * w_group..(gi + 1) * w_group];
                let og = &mut os[gi * cout_g * plane..(gi + 1) * cout_g * plane];
                direct(xg, wg, og, cout_g, &g, &ranges);
            }
        }
    } else {
        let k = cin_g * kh * kw;
        let mut packed = vec![0.0f32; KC * NC];
        let one_by_one = kh == 1
            && kw == 1
            && g.sh == 1
            && g.sw == 1
            && g.pt == 0
            && g.pl == 0
            && oh == h
            && ow == w;
        for (xs, os) in xd
            .chunks_exact(cin * h * w)
            .zip(out.chunks_exact_mut(cout * plane))
        {
            for gi in 0..groups {
                let xg = &xs[gi * in_group..(gi + 1) * in_group];
                let wg = &weight[gi * w_group..(gi + 1) * w_group];
                let og = &mut os[gi * cout_g * plane..(gi + 1) * cout_g * plane];
                for jc in (0..plane).step_by(NC) {
                    let nc = NC.min(plane - jc);
                    for pc in (0..k).step_by(KC) {
                        let kc = KC.min(k - pc);
                        let block = &mut packed[..kc * nc.div_ceil(NR) * NR];
                        if one_by_one {
                            pack_plain(block, xg, plane, jc, nc, pc, kc);
                        } else {
                            pack_im2col(block, xg, &g, jc, nc, pc, kc);
                        }
                        gemm_block(wg, k, pc, kc, block, og, plane, jc, nc, cout_g);
                    }
                }
            }
        }
    }
    Ok(Tensor::from_parts(vec![n, cout, oh, ow], out))
}

/// Direct convolution of one group: `xg` is `[cin_g, H, W]`, `wg` is
/// `[cout_g, cin_g, k_h, k_w]`, `og` is `[cout_g, oh, ow]` (already holding the bias).
fn direct(
    xg: &[f32],
    wg: &[f32],
    og: &mut [f32],
    cout_g: usize,
    g: &Geom,
    ranges: &[(usize, usize, isize)],
) {
    let plane_in = g.h * g.w;
    let plane = g.oh * g.ow;
    let taps = g.kh * g.kw;
    for oc in 0..cout_g {
        let op = &mut og[oc * plane..(oc + 1) * plane];
        for ic in 0..g.cin_g {
            let xp = &xg[ic * plane_in..(ic + 1) * plane_in];
            let wk = &wg[(oc * g.cin_g + ic) * taps..(oc * g.cin_g + ic + 1) * taps];
            for (oy, orow) in op.chunks_exact_mut(g.ow).enumerate() {
                for ky in 0..g.kh {
                    let iy = (oy * g.sh + ky * g.dh) as isize - g.pt as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let xrow = &xp[iy as usize * g.w..(iy as usize + 1) * g.w];
                    for (kx, &(lo, hi, off)) in ranges.iter().enumerate() {
                        if lo >= hi {
                            continue;
                        }
                        let wv = wk[ky * g.kw + kx];
                        let start = (lo as isize * g.sw as isize + off) as usize;
                        let dst = &mut orow[lo..hi];
                        if g.sw == 1 {
                            super::axpy(dst, wv, &xrow[start..start + (hi - lo)]);
                        } else {
                            for (o, &v) in dst.iter_mut().zip(xrow[start..].iter().step_by(g.sw)) {
                                *o += wv * v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Packs rows `pc..pc + kc` and columns `jc..jc + nc` of a plain `[K, P]`
/// matrix (`xg`, row length `p`) into column panels `[panel][kc][NR]`, zero-padding
/// the last panel.
fn pack_plain(block: &mut [f32], xg: &[f32], p: usize, jc: usize, nc: usize, pc: usize, kc: usize) {
    for (pi, panel) in block.chunks_exact_mut(kc * NR).enumerate() {
        let j0 = jc + pi * NR;
        let cols = NR.min(jc + nc - j0);
        for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
            let src = &xg[(pc + kk) * p + j0..(pc + kk) * p + j0 + cols];
            dst[..cols].copy_from_slice(src);
            dst[cols..].fill(0.0);
        }
    }
}

/// Packs a block of the implicit im2col matrix of one group: row
/// `k = (ic·k_h + ky)·k_w + kx`, column `j = oy·ow + ox`, value
/// `x[ic, oy·s_h + ky·d_h - pad_top, ox·s_w + kx·d_w - pad_left]` or 0 outside.
fn pack_im2col(
    block: &mut [f32],
    xg: &[f32],
    g: &Geom,
    jc: usize,
    nc: usize,
    pc: usize,
    kc: usize,
) {
    let taps = g.kh * g.kw;
    let plane_in = g.h * g.w;
    let panels = nc.div_ceil(NR);
    for kk in 0..kc {
        let kidx = pc + kk;
        let ic = kidx / taps;
        let ky = (kidx % taps) / g.kw;
        let kx = kidx % g.kw;
        let xp = &xg[ic * plane_in..(ic + 1) * plane_in];
        let off_y = (ky * g.dh) as isize - g.pt as isize;
        let off_x = (kx * g.dw) as isize - g.pl as isize;
        let mut oy = jc / g.ow;
        let mut ox = jc % g.ow;
        for pi in 0..panels {
            let dst = &mut block[pi * kc * NR + kk * NR..pi * kc * NR + kk * NR + NR];
            for (l, d) in dst.iter_mut().enumerate() {
                *d = if pi * NR + l < nc {
                    let iy = (oy * g.sh) as isize + off_y;
                    let ix = (ox * g.sw) as isize + off_x;
                    if iy >= 0 && (iy as usize) < g.h && ix >= 0 && (ix as usize) < g.w {
                        xp[iy as usize * g.w + ix as usize]
                    } else {
                        0.0
                    }
                } else {
                    0.0
                };
                ox += 1;
                if ox == g.ow {
                    ox = 0;
                    oy += 1;
                }
            }
        }
    }
}

/// `out[m, jc..jc+nc] += a[m, pc..pc+kc] · packed` for every row `m` of `a`
/// (`rows × k`, row-major), where `packed` holds the `kc × nc` block in panels.
#[allow(clippy::too_many_arguments)]
fn gemm_block(
    a: &[f32],
    k: usize,
    pc: usize,
    kc: usize,
    packed: &[f32],
    out: &mut [f32],
    ldc: usize,
    jc: usize,
    nc: usize,
    rows: usize,
) {
    let mut m = 0;
    while m < rows {
        let r = if rows - m >= MR { MR } else { 1 };
        let a_tile = &a[m * k + pc..];
        for (pi, panel) in packed.chunks_exact(kc * NR).enumerate() {
            let j0 = jc + pi * NR;
            let cols = NR.min(jc + nc - j0);
            let c_tile = &mut out[m * ldc + j0..];
            if r == MR {
                micro::<MR>(kc, a_tile, k, panel, c_tile, ldc, cols);
            } else {
                micro::<1>(kc, a_tile, k, panel, c_tile, ldc, cols);
            }
        }
        m += r;
    }
}

/// The register tile: `c[r, 0..cols] += Σ_k a[r, k] · b[k, 0..NR]` for `r < R`.
/// `a` rows are `lda` apart, `c` rows `ldc` apart, `b` is one packed panel `[kc][NR]`.
#[inline(always)]
fn micro<const R: usize>(
    kc: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    c: &mut [f32],
    ldc: usize,
    cols: usize,
) {
    let mut acc = [[0.0f32; NR]; R];
    let rows: [&[f32]; R] = core::array::from_fn(|r| &a[r * lda..r * lda + kc]);
    for (kk, bk) in b.chunks_exact(NR).take(kc).enumerate() {
        let bk: &[f32; NR] = match bk.try_into() {
            Ok(v) => v,
            Err(_) => return,
        };
        for r in 0..R {
            let av = rows[r][kk];
            for j in 0..NR {
                acc[r][j] += av * bk[j];
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let crow = &mut c[r * ldc..r * ldc + cols];
        for (o, &v) in crow.iter_mut().zip(acc_r) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn conv(
        cin: usize,
        cout: usize,
        k: [usize; 2],
        s: [usize; 2],
        p: [[usize; 2]; 2],
        d: [usize; 2],
        groups: usize,
        bias: bool,
    ) -> Conv2d {
        Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: k,
            stride: s,
            padding: p,
            dilation: d,
            groups,
            bias,
        }
    }

    fn arange(shape: &[usize], from: f32) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| from + i as f32).collect()).unwrap()
    }

    #[test]
    fn three_by_three_same_padding() {
        // Input [[1,2,3],[4,5,6],[7,8,9]], all-ones 3x3 kernel, padding 1:
        // each output is the sum of the in-bounds 3x3 neighbourhood.
        let x = arange(&[1, 1, 3, 3], 1.0);
        let c = conv(1, 1, [3, 3], [1, 1], [[1, 1], [1, 1]], [1, 1], 1, false);
        let y = conv2d(&x, &[1.0; 9], None, &c).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3, 3]);
        assert_eq!(
            y.data(),
            &[12.0, 21.0, 16.0, 27.0, 45.0, 33.0, 24.0, 39.0, 28.0]
        );
    }

    #[test]
    fn stride_two() {
        // 4x4 input 0..16, 2x2 ones, stride 2: sums of the four 2x2 blocks.
        let x = arange(&[1, 1, 4, 4], 0.0);
        let c = conv(1, 1, [2, 2], [2, 2], [[0, 0], [0, 0]], [1, 1], 1, true);
        let y = conv2d(&x, &[1.0; 4], Some(&[0.5]), &c).unwrap();
        assert_eq!(y.data(), &[10.5, 18.5, 42.5, 50.5]);
    }

    #[test]
    fn asymmetric_padding() {
        // 2x2 input [1,2,3,4], 1x1 kernel of 1, padding top 1 bottom 0, left 0
        // right 1: a zero row on top and a zero column on the right.
        let x = arange(&[1, 1, 2, 2], 1.0);
        let c = conv(1, 1, [1, 1], [1, 1], [[1, 0], [0, 1]], [1, 1], 1, false);
        let y = conv2d(&x, &[1.0], None, &c).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3, 3]);
        assert_eq!(y.data(), &[0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0]);
    }

    #[test]
    fn dilated() {
        // 5x5 input x(r, c) = 5r + c, 2x2 ones with dilation 2 (taps 2 apart):
        // y(r, c) = x(r,c) + x(r,c+2) + x(r+2,c) + x(r+2,c+2) = 4(5r + c) + 24.
        let x = arange(&[1, 1, 5, 5], 0.0);
        let c = conv(1, 1, [2, 2], [1, 1], [[0, 0], [0, 0]], [2, 2], 1, false);
        let y = conv2d(&x, &[1.0; 4], None, &c).unwrap();
        assert_eq!(
            y.data(),
            &[24.0, 28.0, 32.0, 44.0, 48.0, 52.0, 64.0, 68.0, 72.0]
        );
    }

    #[test]
    fn grouped() {
        // Input channels [1, 2, 3, 4], 2 groups, 1x1 weights [[1, 1], [1, -1]]:
        // out 0 sees channels 0, 1: 1 + 2 = 3; out 1 sees 2, 3: 3 - 4 = -1.
        let x = arange(&[1, 4, 1, 1], 1.0);
        let c = conv(4, 2, [1, 1], [1, 1], [[0, 0], [0, 0]], [1, 1], 2, false);
        let y = conv2d(&x, &[1.0, 1.0, 1.0, -1.0], None, &c).unwrap();
        assert_eq!(y.data(), &[3.0, -1.0]);
    }

    /// The definition, seven nested loops.
    fn reference(x: &Tensor, w: &[f32], b: Option<&[f32]>, c: &Conv2d) -> Vec<f32> {
        let [n, cin, h, wd] = nchw("Conv2d", x).unwrap();
        let (cin_g, cout_g) = (cin / c.groups, c.out_channels / c.groups);
        let [kh, kw] = c.kernel;
        let oh = (h + c.padding[0][0] + c.padding[0][1] - c.dilation[0] * (kh - 1) - 1)
            / c.stride[0]
            + 1;
        let ow = (wd + c.padding[1][0] + c.padding[1][1] - c.dilation[1] * (kw - 1) - 1)
            / c.stride[1]
            + 1;
        let mut out = Vec::new();
        for s in 0..n {
            for oc in 0..c.out_channels {
                let g = oc / cout_g;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b.map_or(0.0, |b| b[oc]);
                        for icg in 0..cin_g {
                            let ic = g * cin_g + icg;
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * c.stride[0] + ky * c.dilation[0]) as isize
                                        - c.padding[0][0] as isize;
                                    let ix = (ox * c.stride[1] + kx * c.dilation[1]) as isize
                                        - c.padding[1][0] as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let xv = x.data()
                                        [((s * cin + ic) * h + iy as usize) * wd + ix as usize];
                                    let wv = w[((oc * cin_g + icg) * kh + ky) * kw + kx];
                                    acc += xv * wv;
                                }
                            }
                        }
                        out.push(acc);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn both_strategies_match_the_definition() {
        // (cin, cout, k, stride, padding, dilation, groups, h, w, batch): covers the
        // packed matrix product (row and column tails, K > KC, P > NC, 1x1 fast
        // path) and the direct path (depthwise, strided, dilated).
        let cases = [
            (3, 6, [3, 3], [1, 1], [[1, 1], [1, 1]], [1, 1], 1, 9, 11, 2),
            (8, 5, [1, 1], [1, 1], [[0, 0], [0, 0]], [1, 1], 1, 17, 19, 1),
            (
                40,
                9,
                [3, 3],
                [2, 2],
                [[1, 0], [2, 1]],
                [1, 1],
                1,
                13,
                12,
                1,
            ),
            (16, 8, [3, 2], [1, 2], [[2, 2], [1, 0]], [2, 1], 2, 10, 9, 2),
            (6, 6, [3, 3], [1, 1], [[1, 1], [1, 1]], [1, 1], 6, 7, 8, 2),
            (6, 12, [5, 5], [2, 2], [[2, 2], [2, 2]], [1, 1], 6, 9, 9, 1),
            (4, 4, [3, 3], [1, 3], [[2, 2], [0, 3]], [2, 2], 4, 6, 7, 1),
            (
                300,
                4,
                [1, 1],
                [1, 1],
                [[0, 0], [0, 0]],
                [1, 1],
                1,
                20,
                20,
                1,
            ),
        ];
        for (cin, cout, k, s, p, d, g, h, w, n) in cases {
            let c = conv(cin, cout, k, s, p, d, g, true);
            let x = Tensor::new(
                &[n, cin, h, w],
                (0..n * cin * h * w)
                    .map(|i| ((i * 7919) % 23) as f32 / 11.0 - 1.0)
                    .collect(),
            )
            .unwrap();
            let wt: Vec<f32> = (0..cout * cin / g * k[0] * k[1])
                .map(|i| ((i * 104_729) % 17) as f32 / 8.0 - 1.0)
                .collect();
            let b: Vec<f32> = (0..cout).map(|i| i as f32 * 0.25).collect();
            let y = conv2d(&x, &wt, Some(&b), &c).unwrap();
            let r = reference(&x, &wt, Some(&b), &c);
            assert_eq!(y.len(), r.len());
            let err = y
                .data()
                .iter()
                .zip(&r)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(err < 1e-3, "case {cin}->{cout} k{k:?} g{g}: error {err}");
        }
    }

    #[test]
    fn empty_input_gives_the_bias() {
        // Zero-width input, padding 1 on each side: a 1x1 conv sees only padding.
        let x = Tensor::zeros(&[1, 2, 1, 0]).unwrap();
        let c = conv(2, 1, [1, 1], [1, 1], [[0, 0], [1, 1]], [1, 1], 1, true);
        let y = conv2d(&x, &[1.0, 1.0], Some(&[0.5]), &c).unwrap();
        assert_eq!((y.shape(), y.data()), (&[1, 1, 1, 2][..], &[0.5, 0.5][..]));
    }

    #[test]
    fn errors_name_the_numbers() {
        let x = Tensor::zeros(&[1, 3, 4, 4]).unwrap();
        let c = conv(4, 8, [3, 3], [1, 1], [[0, 0], [0, 0]], [1, 1], 1, false);
        assert_eq!(
            conv2d(&x, &[0.0; 288], None, &c).unwrap_err().to_string(),
            "Conv2d: expects 4 input channels, found 3"
        );
        let c = conv(3, 8, [5, 5], [1, 1], [[0, 0], [0, 0]], [1, 1], 1, false);
        assert_eq!(
            conv2d(&x, &[0.0; 600], None, &c).unwrap_err().to_string(),
            "Conv2d: kernel extent 5 along the height is larger than the padded input 4"
        );
    }

    #[test]
    fn conv1d_by_hand() {
        // x = [1, 2, 3, 4, 5], kernel [1, 0, -1], padding 1 each side, stride 2,
        // bias 0.5: padded [0, 1, 2, 3, 4, 5, 0], L_out = (5 + 2 - 3) / 2 + 1 = 3,
        // windows at 0, 2, 4: [0 - 2, 2 - 4, 4 - 0] + 0.5 = [-1.5, -1.5, 4.5].
        let x = arange(&[1, 1, 5], 1.0);
        let c = conv(1, 1, [1, 3], [1, 2], [[0, 0], [1, 1]], [1, 1], 1, true);
        let y = conv1d(&x, &[1.0, 0.0, -1.0], Some(&[0.5]), &c).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3]);
        assert_eq!(y.data(), &[-1.5, -1.5, 4.5]);
        // Two groups, kernel 2 with dilation 2 (taps j and j + 2), L_out = 4 - 2 = 2:
        // channel 0 [1 2 3 4] with [1, 1] -> [1 + 3, 2 + 4] = [4, 6];
        // channel 1 [10 20 30 40] with [1, -1] -> [10 - 30, 20 - 40] = [-20, -20].
        let x = Tensor::new(&[1, 2, 4], vec![1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]).unwrap();
        let c = conv(2, 2, [1, 2], [1, 1], [[0, 0], [0, 0]], [1, 2], 2, false);
        let y = conv1d(&x, &[1.0, 1.0, 1.0, -1.0], None, &c).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2]);
        assert_eq!(y.data(), &[4.0, 6.0, -20.0, -20.0]);
        // Errors speak of the 1-D layer.
        assert_eq!(
            conv1d(&x, &[1.0; 3], None, &c).unwrap_err().to_string(),
            "Conv1d: weight must have shape [2, 1, 2] (4 values), found 3 values"
        );
        let c3 = conv(2, 2, [1, 9], [1, 1], [[0, 0], [0, 0]], [1, 1], 2, false);
        assert_eq!(
            conv1d(&x, &[0.0; 18], None, &c3).unwrap_err().to_string(),
            "Conv1d: kernel extent 9 along the length is larger than the padded input 4"
        );
        let c2 = conv(2, 2, [3, 2], [1, 1], [[0, 0], [0, 0]], [1, 1], 2, false);
        assert!(conv1d(&x, &[0.0; 12], None, &c2).is_err());
        let x4 = Tensor::zeros(&[1, 2, 1, 4]).unwrap();
        assert_eq!(
            conv1d(&x4, &[1.0; 4], None, &c).unwrap_err().to_string(),
            "Conv1d: expects a [N, C, L] tensor, found [1, 2, 1, 4]"
        );
    }
}
