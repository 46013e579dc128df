//! The roofline formula, once: a layer that does `F` FLOPs and moves `B`
//! bytes takes at least `max(F / peak, B / bandwidth)` seconds, and work
//! that runs layer after layer takes at least the sum of its layers' bounds.
//!
//! The `latency(<device>)` budget ([`crate::presets::Preset::roofline_seconds`])
//! and the runtime's per-layer estimates (`netspec::roofline`) both use
//! [`layer_times`].

use crate::info::{Graph, LayerInfo};

/// `peak / bandwidth`, FLOP per byte (0 when the bandwidth is not positive):
/// the arithmetic intensity where a layer stops being memory-bound.
pub fn ridge_point(peak: f64, bandwidth: f64) -> f64 {
    if bandwidth > 0.0 {
        peak / bandwidth
    } else {
        0.0
    }
}

/// `min(peak, intensity · bandwidth)`, FLOP/s.
pub fn attainable(intensity: f64, peak: f64, bandwidth: f64) -> f64 {
    peak.min(intensity * bandwidth)
}

/// `amount / rate` seconds; 0 for no work, infinite for a rate that is not positive.
fn seconds(amount: u64, rate: f64) -> f64 {
    if amount == 0 {
        0.0
    } else if rate > 0.0 {
        amount as f64 / rate
    } else {
        f64::INFINITY
    }
}

/// One layer's two roofline terms, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerTimes {
    /// `flops / peak`.
    pub compute: f64,
    /// `bytes / bandwidth`.
    pub memory: f64,
}

impl LayerTimes {
    /// `max(compute, memory)`: the layer's lower-bound latency.
    pub fn latency(&self) -> f64 {
        self.compute.max(self.memory)
    }

    /// Whether the compute term binds (at the ridge point both are equal:
    /// compute-bound). A layer without FLOPs is never compute-bound.
    pub fn compute_bound(&self, flops: u64) -> bool {
        flops > 0 && self.compute >= self.memory
    }
}

/// The roofline terms of a layer doing `flops` FLOPs and moving `bytes`
/// bytes on a device of `peak` FLOP/s and `bandwidth` bytes/s.
pub fn layer_times(flops: u64, bytes: u64, peak: f64, bandwidth: f64) -> LayerTimes {
    LayerTimes {
        compute: seconds(flops, peak),
        memory: seconds(bytes, bandwidth),
    }
}

/// The lower bound, in seconds, of `layers` (each `(flops, bytes)`) run one
/// after another: the sum of their [`layer_times`] latencies.
pub fn seconds_layer_by_layer(
    layers: impl IntoIterator<Item = (u64, u64)>,
    peak: f64,
    bandwidth: f64,
) -> f64 {
    layers
        .into_iter()
        .map(|(flops, bytes)| layer_times(flops, bytes, peak, bandwidth).latency())
        .sum()
}

/// What the backward pass of `layer` does for a batch of `batch`:
/// `(FLOPs, bytes)`. FLOPs are its backward FLOPs; bytes are what it must
/// move at least, in f32: it reads the output's gradient, reads what it kept
/// for backward ([`crate::training::Training::saved_bytes`]), writes the
/// input's gradient when it computes one, and reads its weights and writes
/// their gradients. A layer without backward work (no FLOPs, nothing kept:
/// views, adds, concatenation, layers before the first one with weights)
/// moves nothing: PyTorch routes those gradients without copying.
pub fn backward_flops_and_bytes(layer: &LayerInfo<'_>, batch: u64) -> (u64, u64) {
    let t = &layer.training;
    let flops = t.backward_flops().saturating_mul(batch);
    let saved = t.saved_bytes(batch);
    if flops == 0 && saved == 0 {
        return (0, 0);
    }
    let elements = |shape: &[usize]| shape.iter().fold(1u64, |a, &d| a.saturating_mul(d as u64));
    let grad_output = elements(layer.output);
    let grad_input = if t.grad_input_flops > 0 {
        layer
            .inputs
            .iter()
            .fold(0u64, |a, s| a.saturating_add(elements(s)))
    } else {
        0
    };
    let bytes = grad_output
        .saturating_add(grad_input)
        .saturating_mul(4)
        .saturating_mul(batch)
        .saturating_add(saved)
        .saturating_add(layer.costs.params.saturating_mul(8));
    (flops, bytes)
}

/// The work of one training step at `batch`, as the roofline sees it: every
/// layer's forward `(FLOPs, bytes)` in execution order, then every layer's
/// backward ([`backward_flops_and_bytes`]) in reverse order. The optimizer
/// update is not included.
pub fn training_step(graph: &Graph<'_>, batch: u64) -> Vec<(u64, u64)> {
    let forward = graph.layers.iter().enumerate().map(|(i, l)| {
        (
            l.costs.flops.saturating_mul(batch),
            graph.batch_bytes(i, batch),
        )
    });
    let backward = graph
        .layers
        .iter()
        .rev()
        .map(|l| backward_flops_and_bytes(l, batch));
    forward.chain(backward).collect()
}

/// The roofline lower bound of one training step at `batch` on a device of
/// `peak` FLOP/s and `bandwidth` bytes/s, layer by layer ([`training_step`]).
pub fn training_step_seconds(graph: &Graph<'_>, batch: u64, peak: f64, bandwidth: f64) -> f64 {
    seconds_layer_by_layer(training_step(graph, batch), peak, bandwidth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // peak 100 FLOP/s, 10 B/s: ridge 10 FLOP/B
        let t = layer_times(1000, 100, 100.0, 10.0);
        assert_eq!((t.compute, t.memory, t.latency()), (10.0, 10.0, 10.0));
        assert!(t.compute_bound(1000));
        assert!(!layer_times(0, 0, 100.0, 10.0).compute_bound(0));
        assert_eq!(
            seconds_layer_by_layer([(1000, 100), (10, 200)], 100.0, 10.0),
            30.0
        );
        assert_eq!(ridge_point(100.0, 10.0), 10.0);
        assert_eq!(attainable(2.0, 100.0, 10.0), 20.0);
    }

    #[test]
    fn a_training_step_by_hand() {
        use crate::convention::Counts;
        use crate::cost::Costs;
        use crate::training::Training;
        // A first conv (no grad-input): 10 params, 1,000 FLOPs, 100 bytes
        // forward; backward 1,000 FLOPs, keeps its 16-value input.
        let conv = LayerInfo::new(
            "conv",
            "Conv2d",
            true,
            &[&[1, 4, 4]],
            &[2, 2, 2],
            Costs::new(10, 0, 500, 1_000, 100, 8),
            Counts::ZERO,
            Training::new(0, 500, 0, 1_000, 500, 16, 0, 0),
        );
        let graph = Graph {
            name: "Toy",
            input: &[1, 4, 4],
            nodes: &[],
            layers: &[conv],
            output: 1,
            outputs: &[1],
            scopes: &[],
            constants: &[],
            totals: crate::info::Totals::ZERO,
        };
        // Batch 2. Forward: 2,000 FLOPs, 2·(100 − 40) + 40 = 160 bytes.
        // Backward: 2,000 FLOPs; output gradient 2·4·8 = 64, no input
        // gradient, saved 2·4·16 = 128, weights and gradients 8·10 = 80: 272.
        assert_eq!(training_step(&graph, 2), [(2_000, 160), (2_000, 272)]);
        // peak 100 FLOP/s, 10 B/s: max(20, 16) + max(20, 27.2)
        let t = training_step_seconds(&graph, 2, 100.0, 10.0);
        assert!((t - 47.2).abs() < 1e-9, "{t}");
    }
}
