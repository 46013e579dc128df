//! 2-D convolution as a packed matrix product, with the weights prepared once.
//!
//! For each sample and group, with `K = C_in/groups · k_h · k_w` and
//! `P = H_out · W_out`:
//! `out[C_out/groups, P] = W[C_out/groups, K] · cols[K, P]`, where `cols` is
//! the input itself for a 1x1 stride-1 unpadded convolution and otherwise the
//! im2col matrix, built in a per-thread workspace that is reused from call to
//! call. Bias, a folded batch norm and the activation are applied to each
//! output row right after the product (one pass, while the row is in cache).
//! Groups with fewer than [`GEMM_MIN_COUT`] output channels (depthwise) run
//! the direct kernel of [`super::depthwise`] instead.
//!
//! Threads: with at least as many (sample, group) products as threads, each
//! thread takes whole products; otherwise the products run one after the
//! other, each spread over every thread by the GEMM crate (and the im2col
//! copy by rows).

use super::depthwise;
use super::gemm::{matmul, MatMut, MatRef};
use crate::error::{kernel, Error};
use crate::kernels::activation::activation_slice;
use crate::kernels::conv::{out_len, valid_range};
use crate::kernels::{check_len, nchw};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::{Activation, Conv2d};
use rayon::prelude::*;
use std::cell::RefCell;

/// Output channels per group from which a group runs as a matrix product
/// (fewer: the direct kernel).
pub const GEMM_MIN_COUT: usize = 4;

/// A convolution ready to run: its configuration, and weights and bias in
/// the layout the kernel reads.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedConv {
    conv: Conv2d,
    /// `[C_out, C_in / groups · k_h · k_w]`, row-major (PyTorch's
    /// `[C_out, C_in / groups, k_h, k_w]` with the taps flattened), scaled by
    /// a folded batch norm.
    weight: Vec<f32>,
    /// `[C_out]`: the convolution's bias (0 without one), then the folded
    /// batch norm's shift.
    bias: Vec<f32>,
    /// Applied after the bias, in the same pass.
    activation: Option<Activation>,
    /// Whether a batch norm was folded in.
    folded: bool,
}

/// One convolution's geometry for one input shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geom {
    pub n: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub groups: usize,
    pub cin_g: usize,
    pub cout_g: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub pt: usize,
    pub pl: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    /// Output pixels per channel.
    pub fn plane(&self) -> usize {
        self.oh * self.ow
    }

    /// For each kernel column `kx`: the output columns `lo..hi` whose input
    /// column `ox·s_w + off` is inside the image, and `off = kx·d_w - pad_left`.
    pub fn column_ranges(&self) -> Vec<(usize, usize, isize)> {
        (0..self.kw)
            .map(|kx| {
                let off = (kx * self.dw) as isize - self.pl as isize;
                let (lo, hi) = valid_range(self.ow, self.w, self.sw, off);
                (lo, hi, off)
            })
            .collect()
    }

    /// The input row read by output row `oy` at kernel row `ky`, if inside.
    #[inline]
    pub fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        let iy = (oy * self.sh + ky * self.dh).checked_sub(self.pt)?;
        (iy < self.h).then_some(iy)
    }

    /// Whether the convolution is a plain product with the input (1x1, stride 1, no padding).
    fn pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.pt == 0
            && self.pl == 0
            && self.oh == self.h
            && self.ow == self.w
    }
}

impl PackedConv {
    /// Checks and stores a convolution's weights (`[C_out, C_in / groups, k_h, k_w]`,
    /// PyTorch layout) and optional bias (`[C_out]`).
    pub fn new(c: &Conv2d, weight: &[f32], bias: Option<&[f32]>) -> Result<PackedConv, Error> {
        let groups = c.groups;
        if groups == 0
            || !c.in_channels.is_multiple_of(groups)
            || !c.out_channels.is_multiple_of(groups)
        {
            return kernel(
                "Conv2d",
                format!(
                    "groups = {groups} must divide both {} input and {} output channels",
                    c.in_channels, c.out_channels
                ),
            );
        }
        let [kh, kw] = c.kernel;
        check_len(
            "Conv2d",
            "weight",
            weight,
            &[c.out_channels, c.in_channels / groups, kh, kw],
        )?;
        let bias = match bias {
            Some(b) => {
                check_len("Conv2d", "bias", b, &[c.out_channels])?;
                b.to_vec()
            }
            None => vec![0.0; c.out_channels],
        };
        Ok(PackedConv {
            conv: *c,
            weight: weight.to_vec(),
            bias,
            activation: None,
            folded: false,
        })
    }

    /// Folds an inference batch norm that follows the convolution into its
    /// weights and bias: with `s = gamma / sqrt(var + eps)`, `W' = s·W` per
    /// output channel and `b' = s·(b - mean) + beta` (computed in f64).
    pub fn fold_batch_norm(
        mut self,
        gamma: &[f32],
        beta: &[f32],
        mean: &[f32],
        var: &[f32],
        eps: f64,
    ) -> Result<PackedConv, Error> {
        let c = self.conv.out_channels;
        for (what, p) in [
            ("weight", gamma),
            ("bias", beta),
            ("running_mean", mean),
            ("running_var", var),
        ] {
            check_len("BatchNorm2d", what, p, &[c])?;
        }
        let per_out = self.weight.len() / c.max(1);
        for ch in 0..c {
            let v = f64::from(var[ch]) + eps;
            if v < 0.0 {
                return kernel(
                    "BatchNorm2d",
                    format!("running_var[{ch}] + eps = {v} is negative"),
                );
            }
            let s = f64::from(gamma[ch]) / v.sqrt();
            for wv in &mut self.weight[ch * per_out..(ch + 1) * per_out] {
                *wv = (f64::from(*wv) * s) as f32;
            }
            self.bias[ch] =
                ((f64::from(self.bias[ch]) - f64::from(mean[ch])) * s + f64::from(beta[ch])) as f32;
        }
        self.folded = true;
        Ok(self)
    }

    /// Applies `act` to every output in the epilogue.
    pub fn with_activation(mut self, act: Activation) -> PackedConv {
        self.activation = Some(act);
        self
    }

    /// The configuration.
    pub fn conv(&self) -> &Conv2d {
        &self.conv
    }

    /// Floats held: packed weights and bias.
    pub fn packed_len(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    /// Whether a batch norm is folded in.
    pub fn folded(&self) -> bool {
        self.folded
    }

    /// The activation of the epilogue.
    pub fn activation(&self) -> Option<Activation> {
        self.activation
    }

    /// The geometry for input `[n, c_in, h, w]`, or why it does not fit.
    pub(crate) fn geometry(&self, shape: [usize; 4]) -> Result<Geom, Error> {
        let c = &self.conv;
        let [n, cin, h, w] = shape;
        if cin != c.in_channels {
            return kernel(
                "Conv2d",
                format!("expects {} input channels, found {cin}", c.in_channels),
            );
        }
        let oh = out_len(
            "height",
            h,
            c.padding[0],
            c.kernel[0],
            c.stride[0],
            c.dilation[0],
        )?;
        let ow = out_len(
            "width",
            w,
            c.padding[1],
            c.kernel[1],
            c.stride[1],
            c.dilation[1],
        )?;
        Ok(Geom {
            n,
            cin,
            h,
            w,
            cout: c.out_channels,
            groups: c.groups,
            cin_g: cin / c.groups,
            cout_g: c.out_channels / c.groups,
            kh: c.kernel[0],
            kw: c.kernel[1],
            sh: c.stride[0],
            sw: c.stride[1],
            dh: c.dilation[0],
            dw: c.dilation[1],
            pt: c.padding[0][0],
            pl: c.padding[1][0],
            oh,
            ow,
        })
    }

    /// Output shape `[N, C_out, H_out, W_out]` for input `shape`.
    pub fn output_shape(&self, shape: &[usize]) -> Result<[usize; 4], Error> {
        let [n, c, h, w] = *shape else {
            return kernel(
                "Conv2d",
                format!("expects a [N, C, H, W] input, found rank {}", shape.len()),
            );
        };
        let g = self.geometry([n, c, h, w])?;
        Ok([n, g.cout, g.oh, g.ow])
    }

    /// Floats of im2col workspace one thread needs for input `shape`: one
    /// tile (0 when the convolution reads its input in place or runs
    /// directly).
    pub fn workspace_len(&self, shape: [usize; 4]) -> usize {
        match self.geometry(shape) {
            Ok(g) if g.cout_g >= GEMM_MIN_COUT && !g.pointwise() => {
                let k = g.cin_g * g.kh * g.kw;
                k * tile_columns(k, g.plane())
            }
            _ => 0,
        }
    }

    /// The convolution of `x` (`[N, C_in, H, W]`): `[N, C_out, H_out, W_out]`.
    pub fn run(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.run_reusing(x, Tensor::from_parts(vec![0], Vec::new()))
    }

    /// [`PackedConv::run`], writing the output into `buffer`'s allocation
    /// (any shape, contents ignored): a forward pass that keeps its buffers
    /// allocates nothing here.
    pub fn run_reusing(&self, x: &Tensor, buffer: Tensor) -> Result<Tensor, Error> {
        let shape = nchw("Conv2d", x)?;
        let g = self.geometry(shape)?;
        let mut out = buffer.into_data();
        out.resize(g.n * g.cout * g.plane(), 0.0);
        self.run_into(x.data(), &g, &mut out)?;
        Ok(Tensor::from_parts(vec![g.n, g.cout, g.oh, g.ow], out))
    }

    /// The convolution of `x` (laid out as `g` says) into `out`
    /// (`[N, C_out, H_out, W_out]`, overwritten).
    pub(crate) fn run_into(&self, x: &[f32], g: &Geom, out: &mut [f32]) -> Result<(), Error> {
        let plane = g.plane();
        if x.len() != g.n * g.cin * g.h * g.w || out.len() != g.n * g.cout * plane {
            return kernel(
                "Conv2d",
                format!(
                    "input of {} values and output of {} values do not fit the geometry {g:?}",
                    x.len(),
                    out.len()
                ),
            );
        }
        if out.is_empty() {
            return Ok(());
        }
        if x.is_empty() {
            // Every tap reads padding: the output is the epilogue of zero.
            for (row, &b) in out.chunks_exact_mut(plane).zip(self.bias.iter().cycle()) {
                row.fill(0.0);
                epilogue(row, b, self.activation);
            }
            return Ok(());
        }
        if g.cout_g < GEMM_MIN_COUT {
            depthwise::run(x, g, &self.weight, &self.bias, self.activation, out);
            return Ok(());
        }
        threads::install(|threads| self.gemm_path(x, g, out, threads))
    }

    fn gemm_path(&self, x: &[f32], g: &Geom, out: &mut [f32], threads: usize) -> Result<(), Error> {
        let plane = g.plane();
        let tasks = g.n * g.groups;
        let chunk = g.cout_g * plane;
        if threads > 1 && tasks >= threads {
            out.par_chunks_mut(chunk)
                .enumerate()
                .try_for_each(|(t, o)| self.product(x, g, t, o, 1))
        } else {
            out.chunks_exact_mut(chunk)
                .enumerate()
                .try_for_each(|(t, o)| self.product(x, g, t, o, threads))
        }
    }

    /// Product `t = sample · groups + group` into `o` (`[C_out / groups, P]`),
    /// on `threads` threads: split by output channels into one block per
    /// thread when there are enough of them, else spread by the GEMM crate.
    fn product(
        &self,
        x: &[f32],
        g: &Geom,
        t: usize,
        o: &mut [f32],
        threads: usize,
    ) -> Result<(), Error> {
        let (s, gi) = (t / g.groups, t % g.groups);
        let plane = g.plane();
        let in_len = g.cin_g * g.h * g.w;
        let xg = &x[(s * g.cin + gi * g.cin_g) * g.h * g.w..][..in_len];
        let first = gi * g.cout_g;
        if threads > 1 && g.cout_g >= MIN_ROWS_PER_THREAD * threads {
            let rows = g.cout_g.div_ceil(threads);
            o.par_chunks_mut(rows * plane)
                .enumerate()
                .try_for_each(|(b, ob)| self.block(xg, g, first + b * rows, ob, 1))
        } else {
            self.block(xg, g, first, o, threads)
        }
    }

    /// Output channels `first..first + o.len() / P` of one (sample, group),
    /// from the group's input `xg`, into `o`, epilogue included. The im2col
    /// matrix is built and consumed by tiles of columns that fit in the L2
    /// cache, and each tile's epilogue runs while its outputs are in cache.
    fn block(
        &self,
        xg: &[f32],
        g: &Geom,
        first: usize,
        o: &mut [f32],
        threads: usize,
    ) -> Result<(), Error> {
        let plane = g.plane();
        let rows = o.len() / plane;
        let k = g.cin_g * g.kh * g.kw;
        let a = MatRef::row_major(&self.weight[first * k..(first + rows) * k], rows, k, k);
        let bias = &self.bias[first..first + rows];
        let act = self.activation;
        if g.pointwise() {
            let c = MatMut::row_major(o, rows, plane, plane);
            matmul(c, a, MatRef::row_major(xg, k, plane, plane), false, threads)?;
            for (row, &b) in o.chunks_exact_mut(plane).zip(bias) {
                epilogue(row, b, act);
            }
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
                    rows,
                    cols: n,
                    rs: plane,
                    cs: 1,
                };
                matmul(c, a, MatRef::row_major(cols, k, n, n), false, threads)?;
                for (r, &b) in bias.iter().enumerate() {
                    epilogue(&mut o[r * plane + j0..r * plane + j0 + n], b, act);
                }
            }
            Ok(())
        })
    }
}

/// Output channels per thread from which a product is split by channels
/// over the threads (fewer: the GEMM crate splits it).
pub(crate) const MIN_ROWS_PER_THREAD: usize = 16;

/// Floats of im2col tile kept in a core's L2 cache (256 KiB).
pub(crate) const TILE_FLOATS: usize = 1 << 16;

/// Columns per im2col tile for `k` rows over a `plane` of outputs: as many
/// as fit in [`TILE_FLOATS`], a multiple of 16, at least 64.
pub(crate) fn tile_columns(k: usize, plane: usize) -> usize {
    let t = (TILE_FLOATS / k.max(1)) / 16 * 16;
    t.max(64).min(plane)
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
pub(crate) fn with_workspace<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
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

/// Writes columns `j0..j0 + n` of the im2col matrix of one group into
/// `cols` (`[K, n]`): row `k = (ic·k_h + ky)·k_w + kx`, column
/// `j = oy·W_out + ox`, value `x[ic, oy·s_h + ky·d_h - pad_top,
/// ox·s_w + kx·d_w - pad_left]`, or 0 in the padding.
fn im2col(xg: &[f32], g: &Geom, cols: &mut [f32], j0: usize, n: usize) {
    let ranges = g.column_ranges();
    let taps = g.kh * g.kw;
    for (kidx, dst) in cols.chunks_exact_mut(n).enumerate() {
        let (ic, ky, kx) = (kidx / taps, (kidx % taps) / g.kw, kidx % g.kw);
        let xp = &xg[ic * g.h * g.w..(ic + 1) * g.h * g.w];
        let (lo, hi, off) = ranges[kx];
        // Walk the tile's columns one output row segment at a time.
        let mut j = j0;
        while j < j0 + n {
            let (oy, ox0) = (j / g.ow, j % g.ow);
            let ox1 = g.ow.min(ox0 + (j0 + n - j));
            let d = &mut dst[j - j0..j - j0 + (ox1 - ox0)];
            j += ox1 - ox0;
            let (a, b) = (lo.max(ox0), hi.min(ox1));
            let Some(iy) = g.input_row(oy, ky).filter(|_| a < b) else {
                d.fill(0.0);
                continue;
            };
            d[..a - ox0].fill(0.0);
            d[b - ox0..].fill(0.0);
            let xrow = &xp[iy * g.w..(iy + 1) * g.w];
            let start = (a as isize * g.sw as isize + off) as usize;
            let d = &mut d[a - ox0..b - ox0];
            super::gather(d, &xrow[start..], g.sw);
        }
    }
}
