//! 3-D convolution and transposed convolution of any rank as packed matrix
//! products, the weights prepared once (every rank as 3-D, as the reference
//! kernels of [`crate::kernels::conv_nd`] run it): the im2col product of
//! a convolution, and the transposed product with its col2im scatter, are
//! [`super::packed`]'s, with the threads and the epilogue (bias, a folded
//! batch norm, the activation) they share with [`super::PackedConv`].

use super::packed::{self, Packed, PackedLayer};
use crate::error::Error;
use crate::kernels::conv::check_groups;
use crate::kernels::conv_nd::{check_tensors, geometry, name};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::ConvNd;

/// A 3-D convolution or a transposed convolution (any rank) ready to run.
/// Weights: for a convolution `[C_out, C_in/g · K]` (PyTorch's layout,
/// taps flattened); transposed, per group `[C_out/g · K, C_in/g]`
/// row-major, row `(o, t)` holding `w[g·C_in/g + i, o, t]` in column `i`.
/// Either way output channel `c` owns the `C_in/g · K` values from
/// `c·C_in/g·K`. Bias `[C_out]` (0 without one, then a folded batch norm's
/// shift); the activation after it.
pub type PackedConvNd = PackedLayer<ConvNd>;

impl PackedLayer<ConvNd> {
    /// Checks and stores the weights (`c.weight_shape()`, PyTorch layout) and
    /// optional bias (`[C_out]`).
    pub fn new(c: &ConvNd, weight: &[f32], bias: Option<&[f32]>) -> Result<PackedConvNd, Error> {
        let groups = c.groups;
        check_groups(name(c), c.in_channels, c.out_channels, groups)?;
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
        Ok(PackedLayer {
            conv: *c,
            packed: Packed::new(weight, bias, c.out_channels, "BatchNorm"),
        })
    }

    /// Floats of workspace one thread needs for input `shape` (`[N, C_in, *spatial]`):
    /// one tile of the im2col (or, transposed, the product) matrix; 0 for a
    /// pointwise convolution or a shape that does not fit.
    pub fn workspace_len(&self, shape: &[usize]) -> usize {
        geometry(&self.conv, shape).map_or(0, |g| packed::workspace_len(&g, self.conv.transposed))
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
        let (op, transposed) = (name(&self.conv), self.conv.transposed);
        threads::install(|threads| {
            self.packed
                .run(op, x.data(), &g, &mut out, transposed, threads)
        })?;
        Ok(Tensor::from_parts(g.output_shape(), out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_nd::conv_any;
    use crate::kernels::conv_nd::tests::conv_of;
    use crate::kernels::fast::tests::{assert_close, hold_threads, pick, values};
    use crate::kernels::{activation, norm};
    use netspec_model::Activation;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A random convolution (or transpose) of random rank, and an input shape it takes.
    fn random(rng: &mut ChaCha8Rng, transposed: bool, big: bool) -> (ConvNd, Vec<usize>) {
        let rank = pick(rng, 1, 3);
        let groups = [1, 1, 2, 3][pick(rng, 0, 3)];
        let per = if big { 40 } else { 6 };
        let (cin, cout) = (groups * pick(rng, 1, per), groups * pick(rng, 1, per));
        let mut c = ConvNd {
            bias: pick(rng, 0, 1) == 1,
            ..conv_of(rank, transposed, cin, cout, 1, 1, 0, 0, 1, groups)
        };
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
        conv_any(x, w, b, c).unwrap()
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
        let c = ConvNd {
            bias: true,
            ..conv_of(2, true, 64, 32, 2, 2, 0, 0, 1, 1)
        };
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
        let c = conv_of(3, false, 4, 6, 2, 1, 0, 0, 1, 4);
        let e = PackedConvNd::new(&c, &[0.0; 48], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Conv3d: groups = 4 must divide both 4 input and 6 output channels"
        );
        let c = conv_of(1, true, 2, 3, 2, 2, 0, 0, 1, 1);
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
