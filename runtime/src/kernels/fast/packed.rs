//! What the packed convolutions of every rank share ([`super::PackedConv`]
//! for 2-D, [`super::PackedConvNd`] for 3-D and transposed ones): the
//! weights by output channel with their epilogue (bias, a folded batch
//! norm, the activation), and the products that run them on the 3-D
//! geometry every rank is read as (`conv_nd::Geom`, a `[N, C, H, W]` input as
//! `[N, C, 1, H, W]`).
//!
//! For each sample and group, with `K = k_d·k_h·k_w`:
//! - convolution: `out[C_out/g, S_out] = W[C_out/g, C_in/g·K] · cols[C_in/g·K, S_out]`,
//!   `cols` the im2col matrix built tile by tile (columns that fit in the
//!   L2 cache) in a per-thread workspace reused from call to call, each
//!   tile's epilogue run while its outputs are in cache; the input itself
//!   for a 1x1x1 stride-1 unpadded convolution;
//! - transposed: `cols[C_out/g·K, S_in] = Wᵀ[C_out/g·K, C_in/g] · x[C_in/g, S_in]`
//!   by tiles of input positions, each tile scattered into the output at
//!   once (col2im: column `i` of row `(o, t)` adds to output channel `o` at
//!   `i·s + t·d − p`), the epilogue after the last tile.
//!
//! Threads: with at least as many (sample, group) products as threads,
//! each thread takes whole products; otherwise the products run one after
//! the other, each split by blocks of output channels over the threads
//! when there are enough of them, else spread by the GEMM crate.

use super::gemm::{matmul, MatMut, MatRef};
use crate::error::Error;
use crate::kernels::activation::activation_slice;
use crate::kernels::conv::valid_range;
use crate::kernels::conv_nd::Geom;
use crate::kernels::{check_len, norm};
use netspec_model::Activation;
use rayon::prelude::*;
use std::cell::RefCell;

/// A convolution ready to run, of any rank: its configuration `C`
/// ([`Conv2d`](netspec_model::Conv2d) for a [`PackedConv`](super::PackedConv),
/// [`ConvNd`](netspec_model::ConvNd) for a
/// [`PackedConvNd`](super::PackedConvNd)), and its weights, bias and
/// epilogue in the layout its kernel reads.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedLayer<C> {
    pub(crate) conv: C,
    pub(crate) packed: Packed,
}

impl<C> PackedLayer<C> {
    /// Folds an inference batch norm that follows the convolution into its
    /// weights and bias: with `s = gamma / sqrt(var + eps)` (in f64), every
    /// weight of output channel `c` times `s[c]`, and
    /// `b' = s·(b − mean) + beta`.
    pub fn fold_batch_norm(
        mut self,
        gamma: &[f32],
        beta: &[f32],
        mean: &[f32],
        var: &[f32],
        eps: f64,
    ) -> Result<Self, Error> {
        self.packed.fold_batch_norm([gamma, beta, mean, var], eps)?;
        Ok(self)
    }

    /// Applies `act` to every output in the epilogue, after the bias.
    pub fn with_activation(mut self, act: Activation) -> Self {
        self.packed.activation = Some(act);
        self
    }

    /// The configuration.
    pub fn conv(&self) -> &C {
        &self.conv
    }

    /// Floats held: packed weights and bias.
    pub fn packed_len(&self) -> usize {
        self.packed.weight.len() + self.packed.bias.len()
    }

    /// Whether a batch norm is folded in.
    pub fn folded(&self) -> bool {
        self.packed.folded
    }

    /// The activation of the epilogue.
    pub fn activation(&self) -> Option<Activation> {
        self.packed.activation
    }
}

/// A convolution's weights as its products read them, and its epilogue.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Packed {
    /// Output channel `c` owns the `weight.len() / C_out` values from
    /// `c · weight.len() / C_out` (the layout within is the kernel's), which
    /// a folded batch norm scales.
    pub weight: Vec<f32>,
    /// `[C_out]`: the convolution's bias (0 without one), then a folded
    /// batch norm's shift.
    pub bias: Vec<f32>,
    /// Applied after the bias, in the same pass.
    pub activation: Option<Activation>,
    /// Whether a batch norm was folded in.
    pub folded: bool,
    /// What errors call the batch norm folded in.
    pub batch_norm: &'static str,
}

impl Packed {
    /// Weights already in the kernel's layout, and the bias (`[channels]`,
    /// checked by the caller; zeros without one); `batch_norm` names a
    /// batch norm folded in later in its errors.
    pub fn new(
        weight: Vec<f32>,
        bias: Option<&[f32]>,
        channels: usize,
        batch_norm: &'static str,
    ) -> Packed {
        Packed {
            weight,
            bias: bias.map_or_else(|| vec![0.0; channels], <[f32]>::to_vec),
            activation: None,
            folded: false,
            batch_norm,
        }
    }

    /// [`PackedLayer::fold_batch_norm`], the four tensors in
    /// [`norm::check_batch_norm`]'s order.
    fn fold_batch_norm(
        &mut self,
        [gamma, beta, mean, var]: [&[f32]; 4],
        eps: f64,
    ) -> Result<(), Error> {
        let op = self.batch_norm;
        let c = self.bias.len();
        norm::check_batch_norm(op, c, [gamma, beta, mean, var])?;
        let per_out = self.weight.len() / c.max(1);
        for ch in 0..c {
            let s = norm::batch_norm_scale(op, ch, gamma, var, eps)?;
            for wv in &mut self.weight[ch * per_out..(ch + 1) * per_out] {
                *wv = (f64::from(*wv) * s) as f32;
            }
            self.bias[ch] =
                ((f64::from(self.bias[ch]) - f64::from(mean[ch])) * s + f64::from(beta[ch])) as f32;
        }
        self.folded = true;
        Ok(())
    }

    /// Runs every (sample, group) product of `g` from `x` (`[N, C_in,
    /// *input]`) into `out` (`[N, C_out, *output]`, stale contents), a
    /// transposed convolution's when `transposed`, epilogue included, on
    /// `threads` threads; `op` names the layer in errors.
    pub fn run(
        &self,
        op: &'static str,
        x: &[f32],
        g: &Geom,
        out: &mut [f32],
        transposed: bool,
        threads: usize,
    ) -> Result<(), Error> {
        let chunk = g.cout_g * g.out_plane();
        if x.len() != g.n * g.cin * g.in_plane() || out.len() != g.n * g.cout * g.out_plane() {
            return Err(Error::Kernel {
                op,
                message: format!(
                    "input of {} values and output of {} values do not fit the geometry {g:?}",
                    x.len(),
                    out.len()
                ),
            });
        }
        if chunk == 0 {
            return Ok(());
        }
        let product =
            |t: usize, o: &mut [f32], threads: usize| self.product(x, g, t, o, transposed, threads);
        if threads > 1 && g.n * g.groups >= threads {
            out.par_chunks_mut(chunk)
                .enumerate()
                .try_for_each(|(t, o)| product(t, o, 1))
        } else {
            out.chunks_exact_mut(chunk)
                .enumerate()
                .try_for_each(|(t, o)| product(t, o, threads))
        }
    }

    /// Product `t = sample · groups + group` into `o` (`[C_out/g, S_out]`),
    /// by blocks of output channels over the threads when there are enough.
    fn product(
        &self,
        x: &[f32],
        g: &Geom,
        t: usize,
        o: &mut [f32],
        transposed: bool,
        threads: usize,
    ) -> Result<(), Error> {
        let (s, gi) = (t / g.groups, t % g.groups);
        let in_plane = g.in_plane();
        let xg = &x[(s * g.cin + gi * g.cin_g) * in_plane..][..g.cin_g * in_plane];
        let first = gi * g.cout_g;
        let plane = g.out_plane();
        if threads > 1 && g.cout_g >= MIN_ROWS_PER_THREAD * threads {
            let rows = g.cout_g.div_ceil(threads);
            o.par_chunks_mut(rows * plane)
                .enumerate()
                .try_for_each(|(b, ob)| self.block(xg, g, first + b * rows, ob, transposed, 1))
        } else {
            self.block(xg, g, first, o, transposed, threads)
        }
    }

    /// Output channels `first..first + o.len() / S_out` of one (sample,
    /// group), from the group's input `xg`, into `o`, epilogue included.
    fn block(
        &self,
        xg: &[f32],
        g: &Geom,
        first: usize,
        o: &mut [f32],
        transposed: bool,
        threads: usize,
    ) -> Result<(), Error> {
        let plane = g.out_plane();
        let channels = o.len() / plane.max(1);
        let per_out = g.cin_g * g.taps();
        let weight = &self.weight[first * per_out..(first + channels) * per_out];
        let bias = &self.bias[first..first + channels];
        // Columns `j0..j0 + n` of every output row through the epilogue.
        let finish = |o: &mut [f32], j0: usize, n: usize| {
            for (r, &b) in bias.iter().enumerate() {
                epilogue(
                    &mut o[r * plane + j0..r * plane + j0 + n],
                    b,
                    self.activation,
                );
            }
        };
        if transposed {
            transposed_block(xg, g, weight, channels, o, threads)?;
            finish(o, 0, plane);
            return Ok(());
        }
        let k = per_out;
        let a = MatRef::row_major(weight, channels, k, k);
        if pointwise(g) {
            let c = MatMut::row_major(o, channels, plane, plane);
            matmul(c, a, MatRef::row_major(xg, k, plane, plane), false, threads)?;
            finish(o, 0, plane);
            return Ok(());
        }
        let tile = tile_columns(k, plane);
        with_workspace(k * tile, |cols| {
            for j0 in (0..plane).step_by(tile) {
                let n = tile.min(plane - j0);
                let cols = &mut cols[..k * n];
                im2col(xg, g, cols, j0, n);
                let c = MatMut {
                    data: &mut o[j0..],
                    rows: channels,
                    cols: n,
                    rs: plane,
                    cs: 1,
                };
                matmul(c, a, MatRef::row_major(cols, k, n, n), false, threads)?;
                finish(o, j0, n);
            }
            Ok(())
        })
    }
}

/// Floats of workspace one thread needs for the products of `g`: one tile
/// of the im2col (or, transposed, the product) matrix; 0 for a pointwise
/// convolution, which reads its input in place.
pub(crate) fn workspace_len(g: &Geom, transposed: bool) -> usize {
    if transposed {
        let rows = g.cout_g * g.taps();
        rows * transposed_tile(rows, g.in_plane())
    } else if pointwise(g) {
        0
    } else {
        let k = g.cin_g * g.taps();
        k * tile_columns(k, g.out_plane())
    }
}

/// The rows of one (sample, group) transposed product for `channels`
/// output channels (`weight`, their `[channels · K, C_in/g]` rows), tile by
/// tile of input positions, scattered into `o` (`[channels, S_out]`,
/// cleared first).
fn transposed_block(
    xg: &[f32],
    g: &Geom,
    weight: &[f32],
    channels: usize,
    o: &mut [f32],
    threads: usize,
) -> Result<(), Error> {
    let in_plane = g.in_plane();
    let rows = channels * g.taps();
    let a = MatRef::row_major(weight, rows, g.cin_g, g.cin_g);
    o.fill(0.0);
    let tile = transposed_tile(rows, in_plane);
    with_workspace(rows * tile, |cols| {
        for j0 in (0..in_plane).step_by(tile) {
            let n = tile.min(in_plane - j0);
            let cols = &mut cols[..rows * n];
            let b = MatRef::row_major(&xg[j0..], g.cin_g, n, in_plane);
            matmul(MatMut::row_major(cols, rows, n, n), a, b, false, threads)?;
            col2im(cols, g, channels, o, j0, n);
        }
        Ok(())
    })
}

/// Output channels per thread from which a product is split by channels
/// over the threads (fewer: the GEMM crate splits it).
const MIN_ROWS_PER_THREAD: usize = 16;

/// Floats of im2col tile kept in a core's L2 cache (256 KiB).
const TILE_FLOATS: usize = 1 << 16;

/// Columns per im2col tile for `k` rows over a `plane` of outputs: as many
/// as fit in [`TILE_FLOATS`], a multiple of 16, at least 64.
fn tile_columns(k: usize, plane: usize) -> usize {
    let t = (TILE_FLOATS / k.max(1)) / 16 * 16;
    t.max(64).min(plane)
}

/// Input columns per tile of a transposed product with `rows` rows: four
/// convolution tiles' worth (the product's result is consumed at once by
/// the scatter, and wider tiles repack the weights less often), at least 64.
fn transposed_tile(rows: usize, plane: usize) -> usize {
    let t = (4 * TILE_FLOATS / rows.max(1)) / 16 * 16;
    t.max(64).min(plane)
}

/// Whether a convolution is a plain product with its input (1x1x1, stride
/// 1, no padding).
fn pointwise(g: &Geom) -> bool {
    g.kernel == [1, 1, 1] && g.stride == [1, 1, 1] && g.pad == [0, 0, 0] && g.output == g.input
}

/// `row = act(row + b)` in one pass for the common activations.
pub(crate) fn epilogue(row: &mut [f32], b: f32, act: Option<Activation>) {
    match act {
        Some(Activation::ReLU) => row.iter_mut().for_each(|v| *v = (*v + b).max(0.0)),
        Some(Activation::ReLU6) => row.iter_mut().for_each(|v| *v = (*v + b).clamp(0.0, 6.0)),
        other => {
            if b != 0.0 {
                row.iter_mut().for_each(|v| *v += b);
            }
            if let Some(a) = other {
                activation_slice(row, a);
            }
        }
    }
}

thread_local! {
    /// Each thread's im2col workspace, grown to the largest size asked for.
    static WORKSPACE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a workspace of `len` floats (contents unspecified): this
/// thread's reused buffer, or a fresh one if it is already in use (a nested
/// call through work stealing).
fn with_workspace<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    WORKSPACE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// Writes columns `j0..j0 + n` of the 3-D im2col matrix of one group into
/// `cols` (`[C_in/g · K, n]`): row `(i, t)`, column `j` (output position
/// `(z, y, x)`) holds `x[i, z·s_d + t_d·d_d − p_d, ...]`, or 0 outside.
fn im2col(xg: &[f32], g: &Geom, cols: &mut [f32], j0: usize, n: usize) {
    let [id, ih, iw] = g.input;
    let [_, oh, ow] = g.output;
    let in_plane = g.in_plane();
    let taps = g.taps();
    let first = position(j0, oh, ow);
    let taps_at = tap_offsets(g, ow, iw);
    for (r, dst) in cols.chunks_exact_mut(n).enumerate() {
        let (ic, t) = (r / taps, r % taps);
        let xp = &xg[ic * in_plane..(ic + 1) * in_plane];
        let ([offd, offh, offw], lo, hi) = taps_at[t];
        // Walk the tile's columns one output row segment at a time.
        let mut at = first;
        let mut j = 0;
        while j < n {
            let (z, y, x0) = at;
            let x1 = ow.min(x0 + (n - j));
            let d = &mut dst[j..j + (x1 - x0)];
            j += x1 - x0;
            at = next_row(at, oh);
            let zi = (z * g.stride[0]) as isize + offd;
            let yi = (y * g.stride[1]) as isize + offh;
            let (a, b) = (lo.max(x0), hi.min(x1));
            if zi < 0 || zi >= id as isize || yi < 0 || yi >= ih as isize || a >= b {
                d.fill(0.0);
                continue;
            }
            d[..a - x0].fill(0.0);
            d[b - x0..].fill(0.0);
            let row = &xp[(zi as usize * ih + yi as usize) * iw..][..iw];
            let start = (a as isize * g.stride[2] as isize + offw) as usize;
            super::gather(&mut d[a - x0..b - x0], &row[start..], g.stride[2]);
        }
    }
}

/// For each kernel tap of `g`: its offsets ([`Geom::offset`]) and the
/// columns `lo..hi` of a row of `from` positions whose image `x·s + off`
/// falls inside a row of `to` ones (im2col: output into input; col2im:
/// input into output), computed once per tile rather than per row.
fn tap_offsets(g: &Geom, from: usize, to: usize) -> Vec<([isize; 3], usize, usize)> {
    (0..g.taps())
        .map(|t| {
            let off = g.offset(g.tap(t));
            let (lo, hi) = valid_range(from, to, g.stride[2], off[2]);
            (off, lo, hi)
        })
        .collect()
}

/// Position `j` of a `[D, h, w]` grid, row-major, as `(z, y, x)`.
#[inline]
fn position(j: usize, h: usize, w: usize) -> (usize, usize, usize) {
    let row = j / w.max(1);
    (row / h.max(1), row % h.max(1), j % w.max(1))
}

/// The start `(z, y + 1, 0)` of the row after position `(z, y, _)` of a
/// grid of `h` rows per plane (the next plane's first row after the last):
/// a tile walks its rows without dividing.
#[inline]
fn next_row((z, y, _): (usize, usize, usize), h: usize) -> (usize, usize, usize) {
    if y + 1 >= h {
        (z + 1, 0, 0)
    } else {
        (z, y + 1, 0)
    }
}

/// Scatters a tile of a transposed product (`cols`, `[channels · K, n]`,
/// input positions `j0..j0 + n`) into `o` (`[channels, S_out]`): row
/// `(c, t)`, column `j` (input position `(z, y, x)`) adds to output channel
/// `c` at `(z·s_d + t_d·d_d − p_d, ...)` when that lies inside the output.
fn col2im(cols: &[f32], g: &Geom, channels: usize, o: &mut [f32], j0: usize, n: usize) {
    let [_, ih, iw] = g.input;
    let [od, oh, ow] = g.output;
    let plane = g.out_plane();
    let taps = g.taps();
    let sw = g.stride[2];
    let first = position(j0, ih, iw);
    let taps_at = tap_offsets(g, iw, ow);
    for (r, src) in cols.chunks_exact(n).enumerate().take(channels * taps) {
        let (c, t) = (r / taps, r % taps);
        let op = &mut o[c * plane..(c + 1) * plane];
        let ([offd, offh, offw], lo, hi) = taps_at[t];
        let mut at = first;
        let mut j = 0;
        while j < n {
            let (z, y, x0) = at;
            let x1 = iw.min(x0 + (n - j));
            let s = &src[j..j + (x1 - x0)];
            j += x1 - x0;
            at = next_row(at, ih);
            let zo = (z * g.stride[0]) as isize + offd;
            let yo = (y * g.stride[1]) as isize + offh;
            let (a, b) = (lo.max(x0), hi.min(x1));
            if zo < 0 || zo >= od as isize || yo < 0 || yo >= oh as isize || a >= b {
                continue;
            }
            let row = &mut op[(zo as usize * oh + yo as usize) * ow..][..ow];
            let start = (a as isize * sw as isize + offw) as usize;
            let s = &s[a - x0..b - x0];
            if sw == 1 {
                for (d, &v) in row[start..start + s.len()].iter_mut().zip(s) {
                    *d += v;
                }
            } else {
                for (d, &v) in row[start..].iter_mut().step_by(sw).zip(s) {
                    *d += v;
                }
            }
        }
    }
}

/// Checks a bias against `channels` (for `op`'s errors), if there is one.
pub(crate) fn check_bias(
    op: &'static str,
    bias: Option<&[f32]>,
    channels: usize,
) -> Result<(), Error> {
    match bias {
        Some(b) => check_len(op, "bias", b, &[channels]),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_nd::geometry;
    use crate::kernels::conv_nd::tests::conv_of;

    /// Columns `j0..j0 + n` of a `[rows, plane]` matrix.
    fn columns(m: &[f32], plane: usize, j0: usize, n: usize) -> Vec<f32> {
        m.chunks_exact(plane)
            .flat_map(|row| row[j0..j0 + n].to_vec())
            .collect()
    }

    #[test]
    fn tiles_that_start_inside_a_row_or_a_plane_match_the_whole_matrix() {
        // 3-D, 5x4x3 input, kernel 2, stride 2, padding 1, dilation 1:
        // output 3x3x2, 18 positions; tiles of 5 start inside rows (x 1, 0)
        // and cross planes (9 positions per depth).
        for transposed in [false, true] {
            let c = conv_of(3, transposed, 2, 2, 2, 2, 1, 0, 1, 1);
            let g = geometry(&c, &[1, 2, 5, 4, 3]).unwrap();
            let x: Vec<f32> = (0..2 * g.in_plane()).map(|i| (i % 7) as f32).collect();
            if transposed {
                // Scatter every input position of a [rows, S_in] product at
                // once, then tile by tile: the same sums (integers, exact).
                let rows = 2 * g.taps();
                let plane = g.in_plane();
                let prod: Vec<f32> = (0..rows * plane).map(|i| (i % 5) as f32).collect();
                let mut whole = vec![0.0; 2 * g.out_plane()];
                col2im(&prod, &g, 2, &mut whole, 0, plane);
                let mut tiled = vec![0.0; 2 * g.out_plane()];
                for j0 in (0..plane).step_by(7) {
                    let n = 7.min(plane - j0);
                    col2im(&columns(&prod, plane, j0, n), &g, 2, &mut tiled, j0, n);
                }
                assert_eq!(tiled, whole);
                assert!(whole.iter().any(|&v| v != 0.0));
            } else {
                let plane = g.out_plane();
                assert_eq!((g.output, plane), ([3, 3, 2], 18));
                let k = 2 * g.taps();
                let mut whole = vec![f32::NAN; k * plane];
                im2col(&x, &g, &mut whole, 0, plane);
                for j0 in (0..plane).step_by(5) {
                    let n = 5.min(plane - j0);
                    let mut tile = vec![f32::NAN; k * n];
                    im2col(&x, &g, &mut tile, j0, n);
                    assert_eq!(tile, columns(&whole, plane, j0, n), "tile at {j0}");
                }
                // Row (channel 1, tap (1, 1, 1)), output (z, y, x) reads
                // x[1, 2z, 2y, 2x] (offset 1 − 1 = 0 on every axis), or 0
                // past the 5x4x3 input.
                let row = g.taps() + 7;
                for (j, &v) in whole[row * plane..(row + 1) * plane].iter().enumerate() {
                    let (z, y, xo) = (2 * (j / 6), 2 * ((j / 2) % 3), 2 * (j % 2));
                    let want = if z < 5 && y < 4 && xo < 3 {
                        x[g.in_plane() + (z * 4 + y) * 3 + xo]
                    } else {
                        0.0
                    };
                    assert_eq!(v, want, "position {j}");
                }
            }
        }
    }
}
