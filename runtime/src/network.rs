//! The `Network` trait every generated type implements.

use crate::model::Model;
use netspec_model::{Convention, Graph, LayerInfo, Optimizer, Precision};

/// A network declared with `network!`. Every const is also available as an
/// inherent const (`ResNet18::PARAMS`) with no import. Counts are per sample:
/// for a batch of N, MACs, FLOPs, activations and the activation part of memory
/// access scale by N; params and weight bytes do not.
pub trait Network {
    /// Type name.
    const NAME: &'static str;
    /// Input shape per sample (`[C, H, W]`).
    const INPUT_SHAPE: &'static [usize];
    /// Output shape per sample (the first output's, for a network returning
    /// a tuple).
    const OUTPUT_SHAPE: &'static [usize];
    /// Every output's shape per sample, in order: one for a network that
    /// returns a tensor, one per item for one that returns a tuple
    /// (`(out, aux)`; its `forward` returns a tuple of tensors, and
    /// [`Model::forward_outputs`] a `Vec`).
    const OUTPUT_SHAPES: &'static [&'static [usize]];
    /// Learnable parameters (batch-norm running statistics are buffers, not params).
    const PARAMS: u64;
    /// Buffer elements (batch-norm running statistics).
    const BUFFERS: u64;
    /// Multiply-accumulates of every matrix product (convolutions, linear layers, matmuls, attention's products), bias excluded.
    const MACS: u64;
    /// Floating-point operations of every layer.
    const FLOPS: u64;
    /// Bytes of every layer's inputs, output and parameters, as f32.
    const MEMORY_ACCESS_BYTES: u64;
    /// Elements of all layer outputs.
    const ACTIVATIONS: u64;
    /// `4 · PARAMS`.
    const WEIGHT_BYTES: u64;
    /// Most f32 activation bytes alive at once in one forward pass.
    const PEAK_ACTIVATION_BYTES: u64;
    /// Backward MACs of a training step (grad-input + grad-weight).
    const BACKWARD_MACS: u64;
    /// `MACS + BACKWARD_MACS`.
    const TRAIN_MACS: u64;
    /// `FLOPS` + backward FLOPs.
    const TRAIN_FLOPS: u64;
    /// One record per layer, in execution order.
    const LAYERS: &'static [LayerInfo<'static>];
    /// The whole graph: operations, wiring, records, scopes and totals.
    const GRAPH: &'static Graph<'static>;
    /// The text report.
    const REPORT: &'static str;

    /// The runnable model (graph and weights) behind this network.
    fn model(&self) -> &Model;

    /// The network's count under `convention`, per sample: torchvision's
    /// MACs, what fvcore, thop or ptflops report, or netspec's FLOPs (see
    /// [`Convention`]). The generated type also has it as an inherent
    /// `const fn`, usable in `const` context.
    fn count_as(convention: Convention) -> u64 {
        Self::GRAPH.totals.count_as(convention)
    }

    /// Bytes autograd keeps for the backward pass of a batch of `batch`, in
    /// f32 (`netspec::training`).
    fn saved_bytes(batch: u64) -> u64 {
        Self::GRAPH.totals.saved_bytes(batch)
    }

    /// The memory of a training step at `batch` with `optimizer` in
    /// `precision`: weights + gradients + optimizer state + saved activations.
    fn train_memory(batch: u64, optimizer: Optimizer, precision: Precision) -> u64 {
        Self::GRAPH.totals.train_memory(batch, optimizer, precision)
    }

    /// Each layer's and the network's roofline lower-bound latency on
    /// `profile` (batch 1), without running anything.
    fn roofline(profile: &crate::hardware::HardwareProfile) -> crate::roofline::Estimate {
        crate::roofline::estimate(Self::GRAPH, profile)
    }

    /// The report as Markdown.
    fn report_markdown() -> String {
        crate::render::markdown(Self::GRAPH)
    }

    /// The report as JSON.
    fn report_json() -> String {
        crate::render::json(Self::GRAPH)
    }

    /// The per-layer records as CSV.
    fn report_csv() -> String {
        crate::render::csv(Self::GRAPH)
    }
}
