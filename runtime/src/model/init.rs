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
    /// (`kaiming_uniform_(a = √5)`), with `fan_in = C_in / groups · k_h · k_w`
    /// or `in_features`; batch-norm weight 1, bias 0, running mean 0, running
    /// variance 1; layer and group norms weight 1, bias 0; declared
    /// parameters uniform in `±0.02`. Tensors are drawn in graph order,
    /// weight before bias.
    pub fn random(graph: &'static Graph<'static>, seed: u64) -> Model {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let layers = graph
            .nodes
            .iter()
            .map(|node| {
                let fan_in = match &node.op {
                    Op::Conv2d(c) | Op::Conv1d(c) => {
                        c.in_channels / c.groups.max(1) * c.kernel[0] * c.kernel[1]
                    }
                    Op::Linear(l) | Op::MhaInProj { linear: l, .. } => l.in_features,
                    _ => 0,
                };
                let bound = if fan_in == 0 {
                    0.0
                } else {
                    1.0 / (fan_in as f32).sqrt()
                };
                let tensors = node
                    .op
                    .stored_tensors()
                    .into_iter()
                    .map(|s| {
                        let n: usize = s.shape.iter().product();
                        let data = match (&node.op, s.suffix) {
                            (Op::BatchNorm2d(_), "weight" | "running_var") => vec![1.0; n],
                            (Op::BatchNorm2d(_), _) => vec![0.0; n],
                            (Op::LayerNorm(_) | Op::GroupNorm(_), "weight") => vec![1.0; n],
                            (Op::LayerNorm(_) | Op::GroupNorm(_), _) => vec![0.0; n],
                            // Class tokens, position embeddings, layer
                            // scales: small values (timm's trunc_normal_(std=.02)
                            // scale), uniform for determinism.
                            (Op::Parameter { .. }, _) => {
                                (0..n).map(|_| uniform(&mut rng, 0.02)).collect()
                            }
                            _ => (0..n).map(|_| uniform(&mut rng, bound)).collect(),
                        };
                        Tensor::from_parts(s.shape, data)
                    })
                    .collect();
                // `stored_tensors` gives exactly the tensors `build` takes.
                Layer::build(&node.op, tensors).unwrap_or(Layer::Stateless)
            })
            .collect();
        Model::new(graph, layers)
    }
}
