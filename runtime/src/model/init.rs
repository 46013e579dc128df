//! Random initialisation, as PyTorch does it, deterministic in a seed.

use super::Model;
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Graph, Op};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A uniform sample in `[-bound, bound)` from 24 random bits: defined here,
/// not by a distribution crate, so a seed gives the same weights everywhere
/// and across dependency upgrades.
fn uniform(rng: &mut ChaCha8Rng, bound: f32) -> f32 {
    let u = (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32);
    bound * (2.0 * u - 1.0)
}

impl Model {
    /// A model with PyTorch's default initialisation, deterministic in `seed`
    /// (ChaCha8; identical on every platform):
    /// conv and linear weights and biases uniform in `±1 / sqrt(fan_in)`
    /// (`kaiming_uniform_(a = √5)`), with `fan_in = C_in / groups · K`
    /// (`K` the product of the kernel sizes), for a transposed convolution
    /// (weight `[C_in, C_out / groups, k...]`) PyTorch's `weight.size(1) · K =
    /// C_out / groups · K`, or `in_features`; batch-norm (1-D, 2-D, 3-D)
    /// weight 1, bias 0, running mean 0, running variance 1; layer and group
    /// norms weight 1, bias 0; PReLU's weight its `init`; declared parameters
    /// uniform in `±0.02`. Tensors are drawn in graph order, weight before
    /// bias.
    pub fn random(graph: &'static Graph<'static>, seed: u64) -> Model {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let layers = graph
            .nodes
            .iter()
            // A shared module's later applications use their owner's
            // tensors: nothing drawn for them.
            .map(|node| match node.shares {
                Some(_) => Layer::Stateless,
                None => initial_layer(&node.op, &mut rng),
            })
            .collect();
        Model::new(graph, layers)
    }
}

/// PyTorch's `fan_in` of `op`'s weight (0 for layers without one drawn from it).
fn fan_in(op: &Op) -> usize {
    match op {
        Op::Conv2d(c) | Op::Conv1d(c) => {
            c.in_channels / c.groups.max(1) * c.kernel[0] * c.kernel[1]
        }
        Op::Conv3d(c) => c.in_channels / c.groups.max(1) * c.kernel.iter().product::<usize>(),
        // `weight.size(1) · K` of the `[C_in, C_out / groups, k...]` weight.
        Op::ConvTranspose(c) => {
            c.out_channels / c.groups.max(1) * c.kernel.iter().product::<usize>()
        }
        Op::Linear(l) | Op::MhaInProj { linear: l, .. } => l.in_features,
        _ => 0,
    }
}

/// The layer of `op` with its tensors initialised as [`Model::random`] says,
/// drawing from `rng` in state-dict order.
fn initial_layer(op: &Op, rng: &mut ChaCha8Rng) -> Layer {
    let fan_in = fan_in(op);
    let bound = if fan_in == 0 {
        0.0
    } else {
        1.0 / (fan_in as f32).sqrt()
    };
    let tensors = op
        .stored_tensors()
        .into_iter()
        .map(|s| {
            let n: usize = s.shape.iter().product();
            let data = match (op, s.suffix) {
                (
                    Op::BatchNorm2d(_) | Op::BatchNorm1d(_) | Op::BatchNorm3d(_),
                    "weight" | "running_var",
                ) => vec![1.0; n],
                (Op::BatchNorm2d(_) | Op::BatchNorm1d(_) | Op::BatchNorm3d(_), _) => vec![0.0; n],
                (Op::PReLU { init, .. }, _) => vec![*init as f32; n],
                (Op::LayerNorm(_) | Op::GroupNorm(_), "weight") => vec![1.0; n],
                (Op::LayerNorm(_) | Op::GroupNorm(_), _) => vec![0.0; n],
                // Class tokens, position embeddings, layer
                // scales: small values (timm's trunc_normal_(std=.02)
                // scale), uniform for determinism.
                (Op::Parameter { .. }, _) => (0..n).map(|_| uniform(rng, 0.02)).collect(),
                _ => (0..n).map(|_| uniform(rng, bound)).collect(),
            };
            Tensor::from_parts(s.shape, data)
        })
        .collect();
    // `stored_tensors` gives exactly the tensors `build` takes.
    Layer::build(op, tensors).unwrap_or(Layer::Stateless)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_nd::tests::conv_of;
    use netspec_model::{BatchNorm2d, ConvNd};

    /// The largest magnitude among `layer`'s tensor `suffix`.
    fn largest(layer: &Layer, suffix: &str) -> f32 {
        let t = layer.tensor(suffix).unwrap();
        t.data().iter().fold(0.0f32, |m, v| m.max(v.abs()))
    }

    #[test]
    fn transposed_and_3d_convolutions_use_pytorchs_fan_in() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // ConvTranspose2d(8, 4, k 3, groups 2): weight [8, 2, 3, 3], PyTorch's
        // fan_in = weight.size(1) · 9 = 18 (not C_in / g · 9 = 36): bound 1/√18.
        let t = ConvNd {
            bias: true,
            ..conv_of(2, true, 8, 4, 3, 1, 0, 0, 1, 2)
        };
        let layer = initial_layer(&Op::ConvTranspose(t), &mut rng);
        let bound = 1.0 / 18f32.sqrt();
        assert_eq!(layer.tensor("weight").unwrap().shape(), &[8, 2, 3, 3]);
        // 144 draws: within the bound and reaching past 1/√36 (where the wrong
        // fan-in would stop).
        let w = largest(&layer, "weight");
        assert!(w <= bound && w > 1.0 / 36f32.sqrt(), "{w}");
        assert!(largest(&layer, "bias") <= bound);
        // Conv3d(2, 3, k 2): fan_in 2 · 8 = 16, bound 0.25.
        let c = conv_of(3, false, 2, 3, 2, 1, 0, 0, 1, 1);
        let layer = initial_layer(&Op::Conv3d(c), &mut rng);
        let w = largest(&layer, "weight");
        assert!(w <= 0.25 && w > 0.2, "{w}");
        assert!(layer.tensor("bias").is_none());
    }

    #[test]
    fn prelu_and_batch_norms() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let layer = initial_layer(
            &Op::PReLU {
                num_parameters: 4,
                init: 0.25,
            },
            &mut rng,
        );
        assert_eq!(layer.tensor("weight").unwrap().data(), &[0.25; 4]);
        let bn = BatchNorm2d {
            channels: 3,
            eps: 1e-5,
        };
        for op in [Op::BatchNorm1d(bn), Op::BatchNorm3d(bn)] {
            let layer = initial_layer(&op, &mut rng);
            assert_eq!(layer.tensor("weight").unwrap().data(), &[1.0; 3]);
            assert_eq!(layer.tensor("bias").unwrap().data(), &[0.0; 3]);
            assert_eq!(layer.tensor("running_mean").unwrap().data(), &[0.0; 3]);
            assert_eq!(layer.tensor("running_var").unwrap().data(), &[1.0; 3]);
        }
    }
}
