//! 3-D convolution and transposed convolution of any rank as packed matrix
//! products, the weights prepared once (every rank as 3-D, as the reference
//! kernels of [`crate::kernels::conv_nd`] run it).
//!
//! For each sample and group, with `K = k_d·k_h·k_w`:
//! - convolution: `out[C_out/g, S_out] = W[C_out/g, C_in/g·K] · cols[C_in/g·K, S_out]`,
//!   `cols` the 3-D im2col matrix built tile by tile in a per-thread
//!   workspace (the input itself for a 1x1x1 stride-1 unpadded convolution);
//! - transposed: `cols[C_out/g·K, S_in] = Wᵀ[C_out/g·K, C_in/g] · x[C_in/g, S_in]`
//!   by tiles of input positions, each tile scattered into the output at
//!   once (col2im: column `i` of row `(o, t)` adds to output channel `o` at
//!   `i·s + t·d − p`).
//!
//! Bias, a folded batch norm and the activation are applied to each output
//! row after the products. Threads as in [`super::conv`]: whole (sample,
//! group) products per thread when there are enough of them, else blocks of
//! output channels per thread, else the GEMM crate's own split.

use super::conv::{epilogue, tile_columns, with_workspace, MIN_ROWS_PER_THREAD, TILE_FLOATS};
use super::gemm::{matmul, MatMut, MatRef};
use crate::error::{kernel, Error};
use crate::kernels::check_len;
use crate::kernels::conv::valid_range;
use crate::kernels::conv_nd::{check_tensors, geometry, name, Geom};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::{Activation, ConvNd};
use rayon::prelude::*;

/// A 3-D convolution or a transposed convolution ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedConvNd {
    conv: ConvNd,
    /// Convolution: `[C_out, C_in/g · K]` (PyTorch's layout, taps
    /// flattened). Transposed: per group, `[C_out/g · K, C_in/g]` row-major,
    /// row `(o, t)` holding `w[g·C_in/g + i, o, t]` in column `i`. Either way
    /// output channel `c` owns the `C_in/g · K` values from `c·C_in/g·K`,
    /// which a folded batch norm scales.
    weight: Vec<f32>,
    /// `[C_out]`: the bias (0 without one), then a folded batch norm's shift.
    bias: Vec<f32>,
    activation: Option<Activation>,
    folded: bool,
}

impl PackedConvNd {
    /// Checks and stores the weights (`c.weight_shape()`, PyTorch layout) and
    /// optional bias (`[C_out]`).
    pub fn new(c: &ConvNd, weight: &[f32], bias: Option<&[f32]>) -> Result<PackedConvNd, Error> {
        let groups = c.groups;
        if groups == 0
            || !c.in_channels.is_multiple_of(groups)
            || !c.out_channels.is_multiple_of(groups)
        {
            return kernel(
                name(c),
                format!(
                    "groups = {groups} must divide both {} input and {} output channels",
                    c.in_channels, c.out_channels
                ),
            );
        }
        check_tensors(c, weight, bias)?;
        let taps: usize = c.kernel.iter().product();
        let weight = if c.transposed {
            // [C_in, C_out/g, K] -> per group [C_out/g · K, C_in/g].
            let (cin_g, cout_g) = (c.in_channels / groups, c.out_channels / groups);
            let rows = cout_g * taps;
            let mut packed = vec![0.0f32; weight.len()];
            for g in 0..groups {
                let dst = &mut packed[g * rows * cin_g..(g + 1) * rows * cin_g];
                for i in 0..cin_g {
                    let src = &weight[(g * cin_g + i) * rows..(g * cin_g + i + 1) * rows];
                    for (r, &v) in src.iter().enumerate() {
                        dst[r * cin_g + i] = v;
                    }
                }
            }
            packed
        } else {
            weight.to_vec()
        };
        Ok(PackedConvNd {
            conv: *c,
            weight,
            bias: bias.map_or_else(|| vec![0.0; c.out_channels], <[f32]>::to_vec),
            activation: None,
            folded: false,
        })
    }

    /// Folds an inference batch norm that follows into the weights and bias:
    /// `s = gamma / sqrt(var + eps)`, every weight of output channel `c`
    /// times `s[c]`, `b' = s·(b − mean) + beta` (in f64).
    pub fn fold_batch_norm(
        mut self,
        gamma: &[f32],
        beta: &[f32],
        mean: &[f32],
        var: &[f32],
        eps: f64,
    ) -> Result<PackedConvNd, Error> {
        let c = self.conv.out_channels;
        for (what, p) in [
            ("weight", gamma),
            ("bias", beta),
            ("running_mean", mean),
            ("running_var", var),
        ] {
            check_len("BatchNorm", what, p, &[c])?;
        }
        let per_out = self.weight.len() / c.max(1);
        for ch in 0..c {
            let v = f64::from(var[ch]) + eps;
            if v < 0.0 {
                return kernel(
                    "BatchNorm",
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

    /// Applies `act` to every output after the bias.
    pub fn with_activation(mut self, act: Activation) -> PackedConvNd {
        self.activation = Some(act);
        self
    }

    /// The configuration.
    pub fn conv(&self) -> &ConvNd {
        &self.conv
    }

    /// Whether a batch norm is folded in.
    pub fn folded(&self) -> bool {
        self.folded
    }

    /// The fused activation.
    pub fn activation(&self) -> Option<Activation> {
        self.activation
    }

    /// Floats held: packed weights and bias.
    pub fn packed_len(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    /// Floats of workspace one thread needs for input `shape` (`[N, C_in, *spatial]`):
    /// one tile of the im2col (or, transposed, the product) matrix; 0 for a
    /// pointwise convolution or a shape that does not fit.
    pub fn workspace_len(&self, shape: &[usize]) -> usize {
        match geometry(&self.conv, shape) {
            Ok(g) if self.conv.transposed => {
                let rows = g.cout_g * g.taps();
                rows * transposed_tile(rows, g.in_plane())
            }
            Ok(g) if !pointwise(&g) => {
                let k = g.cin_g * g.taps();
                k * tile_columns(k, g.out_plane())
            }
            _ => 0,
        }
    }

    /// Output shape for input `shape`.
    pub fn output_shape(&self, shape: &[usize]) -> Result<Vec<usize>, Error> {
        Ok(geometry(&self.conv, shape)?.output_shape())
    }

    /// The layer on `x` (`[N, C_in, *spatial]`).
    pub fn run(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.run_reusing(x, Tensor::from_parts(vec![0], Vec::new()))
    }

    /// [`PackedConvNd::run`], writing into `buffer`'s allocation (any
    /// shape, contents ignored).
    pub fn run_reusing(&self, x: &Tensor, buffer: Tensor) -> Result<Tensor, Error> {
        let g = geometry(&self.conv, x.shape())?;
        // Stale contents are fine: every output is overwritten (a product)
        // or cleared first (a transposed block).
        let mut out = buffer.into_data();
        out.resize(g.n * g.cout * g.out_plane(), 0.0);
        if !out.is_empty() {
            threads::install(|threads| self.run_into(x.data(), &g, &mut out, threads))?;
        }
        Ok(Tensor::from_parts(g.output_shape(), out))
    }

    fn run_into(&self, x: &[f32], g: &Geom, out: &mut [f32], threads: usize) -> Result<(), Error> {
        let chunk = g.cout_g * g.out_plane();
        let tasks = g.n * g.groups;
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

    /// Product `t = sample · groups + group` into `o` (`[C_out/g, S_out]`),
    /// by blocks of output channels over the threads when there are enough.
    fn product(
        &self,
        x: &[f32],
        g: &Geom,
        t: usize,
        o: &mut [f32],
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
                .try_for_each(|(b, ob)| self.block(xg, g, first + b * rows, ob, 1))
        } else {
            self.block(xg, g, first, o, threads)
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
        threads: usize,
    ) -> Result<(), Error> {
        let plane = g.out_plane();
        let channels = o.len() / plane.max(1);
        if self.conv.transposed {
            self.transposed_block(xg, g, first, channels, o, threads)?;
        } else {
            self.conv_block(xg, g, first, channels, o, threads)?;
        }
        let bias = &self.bias[first..first + channels];
        for (row, &b) in o.chunks_exact_mut(plane).zip(bias) {
            epilogue(row, b, self.activation);
        }
        Ok(())
    }

    fn conv_block(
        &self,
        xg: &[f32],
        g: &Geom,
        first: usize,
        channels: usize,
        o: &mut [f32],
        threads: usize,
    ) -> Result<(), Error> {
        let plane = g.out_plane();
        let k = g.cin_g * g.taps();
        let a = MatRef::row_major(
            &self.weight[first * k..(first + channels) * k],
            channels,
            k,
            k,
        );
        if pointwise(g) {
            let c = MatMut::row_major(o, channels, plane, plane);
            return matmul(c, a, MatRef::row_major(xg, k, plane, plane), false, threads);
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
            }
            Ok(())
        })
    }

    fn transposed_block(
        &self,
        xg: &[f32],
        g: &Geom,
        first: usize,
        channels: usize,
        o: &mut [f32],
        threads: usize,
    ) -> Result<(), Error> {
        let taps = g.taps();
        let in_plane = g.in_plane();
        let rows = channels * taps;
        // Output channel `first`'s rows start at `first · K · C_in/g` (see `weight`).
        let start = first * taps * g.cin_g;
        let a = MatRef::row_major(
            &self.weight[start..start + rows * g.cin_g],
            rows,
            g.cin_g,
            g.cin_g,
        );
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
}

/// Whether a convolution is a plain product with its input (1x1x1, stride
/// 1, no padding).
fn pointwise(g: &Geom) -> bool {
    g.kernel == [1, 1, 1] && g.stride == [1, 1, 1] && g.pad == [0, 0, 0] && g.output == g.input
}

/// Input columns per tile of a transposed product with `rows` rows: four
/// convolution tiles' worth (the product's result is consumed at once by
/// the scatter, and wider tiles repack the weights less often), at least 64.
fn transposed_tile(rows: usize, plane: usize) -> usize {
    let t = (4 * TILE_FLOATS / rows.max(1)) / 16 * 16;
    t.max(64).min(plane)
}

/// Writes columns `j0..j0 + n` of the 3-D im2col matrix of one group into
/// `cols` (`[C_in/g · K, n]`): row `(i, t)`, column `j` (output position
/// `(z, y, x)`) holds `x[i, z·s_d + t_d·d_d − p_d, ...]`, or 0 outside.
fn im2col(xg: &[f32], g: &Geom, cols: &mut [f32], j0: usize, n: usize) {
    let [id, ih, iw] = g.input;
    let [_, oh, ow] = g.output;
    let in_plane = g.in_plane();
    let taps = g.taps();
    for (r, dst) in cols.chunks_exact_mut(n).enumerate() {
        let (ic, t) = (r / taps, r % taps);
        let xp = &xg[ic * in_plane..(ic + 1) * in_plane];
        let [offd, offh, offw] = g.offset(g.tap(t));
        let (lo, hi) = valid_range(ow, iw, g.stride[2], offw);
        let mut j = j0;
        while j < j0 + n {
            let (zy, x0) = (j / ow, j % ow);
            let x1 = ow.min(x0 + (j0 + n - j));
            let d = &mut dst[j - j0..j - j0 + (x1 - x0)];
            j += x1 - x0;
            let (z, y) = (zy / oh, zy % oh);
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
    for (r, src) in cols.chunks_exact(n).enumerate().take(channels * taps) {
        let (c, t) = (r / taps, r % taps);
        let op = &mut o[c * plane..(c + 1) * plane];
        let [offd, offh, offw] = g.offset(g.tap(t));
        let (lo, hi) = valid_range(iw, ow, sw, offw);
        let mut j = j0;
        while j < j0 + n {
            let (zy, x0) = (j / iw, j % iw);
            let x1 = iw.min(x0 + (j0 + n - j));
            let s = &src[j - j0..j - j0 + (x1 - x0)];
            j += x1 - x0;
            let (z, y) = (zy / ih, zy % ih);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_nd::{conv_nd, conv_transpose_nd};
    use crate::kernels::fast::tests::hold_threads;
    use crate::kernels::{activation, norm};
    use rand_chacha::rand_core::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn pick(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
        lo + rng.next_u32() as usize % (hi - lo + 1)
    }

    fn values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
            .collect()
    }

    fn assert_close(fast: &Tensor, reference: &Tensor, what: &str) {
        assert_eq!(fast.shape(), reference.shape(), "{what}: shapes");
        let largest = reference.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = fast.max_abs_diff(reference).unwrap_or(f32::INFINITY);
        assert!(
            diff <= 1e-4 * largest.max(1e-30),
            "{what}: max difference {diff} against largest output {largest}"
        );
    }

    /// A random convolution (or transpose) of random rank, and an input shape it takes.
    fn random(rng: &mut ChaCha8Rng, transposed: bool, big: bool) -> (ConvNd, Vec<usize>) {
        let rank = pick(rng, 1, 3);
        let groups = [1, 1, 2, 3][pick(rng, 0, 3)];
        let per = if big { 40 } else { 6 };
        let (cin, cout) = (groups * pick(rng, 1, per), groups * pick(rng, 1, per));
        let mut c = ConvNd::new(
            rank,
            transposed,
            cin,
            cout,
            [1; 3],
            [1; 3],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            groups,
            pick(rng, 0, 1) == 1,
        );
        let mut shape = vec![pick(rng, 1, 2), cin];
        for a in 3 - rank..3 {
            let (k, s, d) = (pick(rng, 1, 3), pick(rng, 1, 3), pick(rng, 1, 2));
            c.kernel[a] = k;
            c.stride[a] = s;
            c.dilation[a] = d;
            let extent = d * (k - 1) + 1;
            let span = if big { 30 } else { 7 };
            if transposed {
                let p = pick(rng, 0, (extent - 1) / 2);
                c.padding[a] = [p, p];
                c.output_padding[a] = pick(rng, 0, s.max(d) - 1);
                shape.push(pick(rng, 1, span));
            } else {
                c.padding[a] = [pick(rng, 0, 2), pick(rng, 0, 2)];
                shape.push(pick(rng, extent, extent + span));
            }
        }
        (c, shape)
    }

    fn reference(c: &ConvNd, x: &Tensor, w: &[f32], b: Option<&[f32]>) -> Tensor {
        if c.transposed {
            conv_transpose_nd(x, w, b, c).unwrap()
        } else {
            conv_nd(x, w, b, c).unwrap()
        }
    }

    #[test]
    fn conv3d_and_transposed_match_the_reference() {
        let _threads = hold_threads();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for case in 0..120 {
            let transposed = case % 2 == 1;
            threads::set_num_threads(1 + case % 3);
            let (c, shape) = random(&mut rng, transposed, false);
            let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
            let w = values(&mut rng, c.weight_shape().iter().product());
            let b = c.bias.then(|| values(&mut rng, c.out_channels));
            let want = reference(&c, &x, &w, b.as_deref());
            let p = PackedConvNd::new(&c, &w, b.as_deref()).unwrap();
            // A reused buffer of another size and stale contents.
            let got = p.run_reusing(&x, Tensor::full(&[3], 7.0).unwrap()).unwrap();
            assert_close(&got, &want, &format!("case {case}: {c:?} on {shape:?}"));
            assert_eq!(p.output_shape(&shape).unwrap(), want.shape());
        }
        threads::set_num_threads(0);
    }

    #[test]
    fn large_cases_split_over_threads_and_tiles() {
        // Enough channels and positions for several tiles and for blocks of
        // output channels per thread.
        let _threads = hold_threads();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for case in 0..6 {
            threads::set_num_threads(if case < 3 { 1 } else { 2 });
            let (c, shape) = random(&mut rng, case % 2 == 0, true);
            let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
            let w = values(&mut rng, c.weight_shape().iter().product());
            let want = reference(&c, &x, &w, None);
            let got = PackedConvNd::new(&c, &w, None).unwrap().run(&x).unwrap();
            assert_close(&got, &want, &format!("case {case}: {c:?} on {shape:?}"));
        }
        // UNet's up-convolution shape, scaled down: 64 -> 32, k 2, s 2, 24x24.
        threads::set_num_threads(2);
        let c = ConvNd::new(
            2,
            true,
            64,
            32,
            [1, 2, 2],
            [1, 2, 2],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            1,
            true,
        );
        let x = Tensor::new(&[1, 64, 24, 24], values(&mut rng, 64 * 576)).unwrap();
        let w = values(&mut rng, 64 * 32 * 4);
        let b = values(&mut rng, 32);
        let want = reference(&c, &x, &w, Some(&b));
        let got = PackedConvNd::new(&c, &w, Some(&b))
            .unwrap()
            .run(&x)
            .unwrap();
        assert_close(&got, &want, "UNet up-convolution");
        threads::set_num_threads(0);
    }

    #[test]
    fn folded_batch_norm_and_activation_match_the_layers() {
        let _threads = hold_threads();
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        for case in 0..20 {
            let (c, shape) = random(&mut rng, case % 2 == 0, false);
            let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
            let w = values(&mut rng, c.weight_shape().iter().product());
            let b = c.bias.then(|| values(&mut rng, c.out_channels));
            let co = c.out_channels;
            let gamma = values(&mut rng, co);
            let beta = values(&mut rng, co);
            let mean = values(&mut rng, co);
            let var: Vec<f32> = values(&mut rng, co).iter().map(|v| v.abs() + 0.1).collect();
            let act = Activation::ELU { alpha: 1.0 };
            let mut want = reference(&c, &x, &w, b.as_deref());
            norm::batch_norm_nd("BatchNorm", &mut want, &gamma, &beta, &mean, &var, 1e-5).unwrap();
            activation::activation_in_place(&mut want, act);
            let p = PackedConvNd::new(&c, &w, b.as_deref())
                .unwrap()
                .fold_batch_norm(&gamma, &beta, &mean, &var, 1e-5)
                .unwrap()
                .with_activation(act);
            assert!(p.folded() && p.activation() == Some(act));
            let got = p.run(&x).unwrap();
            assert_close(&got, &want, &format!("case {case}: {c:?}"));
        }
    }

    #[test]
    fn errors_name_the_numbers() {
        let c = ConvNd::new(
            3,
            false,
            4,
            6,
            [2; 3],
            [1; 3],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            4,
            false,
        );
        let e = PackedConvNd::new(&c, &[0.0; 48], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Conv3d: groups = 4 must divide both 4 input and 6 output channels"
        );
        let c = ConvNd::new(
            1,
            true,
            2,
            3,
            [1, 1, 2],
            [1, 1, 2],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            1,
            false,
        );
        let e = PackedConvNd::new(&c, &[0.0; 6], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ConvTranspose1d: weight must have shape [2, 3, 2] (12 values), found 6 values"
        );
        let p = PackedConvNd::new(&c, &[0.0; 12], None).unwrap();
        let e = p.run(&Tensor::zeros(&[1, 3, 4]).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ConvTranspose1d: expects 2 input channels, found 3"
        );
    }
}
