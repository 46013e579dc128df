//! Counting: every layer's counts and the network's totals, computed once
//! from the instantiated graph, with checked arithmetic and the
//! liveness-based peak activation memory. Budgets, the report and the
//! emitted records all read the result.

use crate::eval::{Instance, NodeRec};
use netspec_model::info::peak_live_elements;
use netspec_model::shape::numel;
use netspec_model::training::{training, Layer};
use netspec_model::{Costs, Counts, Totals, Training};

/// What one layer costs: its [`Costs`], its count under every convention
/// and its training costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCounts {
    /// Params, buffers, MACs, FLOPs, bytes moved and output elements.
    pub costs: Costs,
    /// The count under every counting convention.
    pub counts: Counts,
    /// Backward MACs and FLOPs, what it keeps for backward.
    pub training: Training,
}

/// The counts of a whole network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    /// One entry per node, in execution order.
    pub layers: Vec<LayerCounts>,
    /// The network's totals.
    pub totals: Totals,
}

impl Counted {
    /// Each layer's `(FLOPs, bytes moved)`, the roofline's input.
    pub fn flops_and_bytes(&self) -> Vec<(u64, u64)> {
        self.layers
            .iter()
            .map(|l| (l.costs.flops, l.costs.memory_access_bytes))
            .collect()
    }
}

/// One layer's counts under every counting convention (torchvision, fvcore,
/// thop, ptflops, netspec FLOPs), or `None` if one overflows `u64`.
pub fn layer_counts(node: &NodeRec) -> Option<Counts> {
    let inputs: Vec<&[usize]> = node.input_shapes.iter().map(Vec::as_slice).collect();
    Counts::of(&node.op, &inputs, &node.output, node.module)
}

/// Every layer's training costs (`netspec_model::training`).
fn layer_training(inst: &Instance) -> Option<Vec<Training>> {
    let mut values: Vec<&[usize]> = Vec::with_capacity(inst.nodes.len() + 1);
    values.push(&inst.input);
    values.extend(inst.nodes.iter().map(|n| n.output.as_slice()));
    let layers: Vec<Layer<'_>> = inst
        .nodes
        .iter()
        .map(|n| Layer {
            op: &n.op,
            inputs: &n.inputs,
            inplace: n.inplace,
            macs: n.costs.macs,
            flops: n.costs.flops,
        })
        .collect();
    training(&values, &layers)
}

/// Every layer's counts and the totals of `inst`, or `None` if a count
/// overflows `u64`.
pub fn count(inst: &Instance) -> Option<Counted> {
    let training = layer_training(inst)?;
    let mut layers = Vec::with_capacity(inst.nodes.len());
    let mut sum = Costs::ZERO;
    let mut counts = Counts::ZERO;
    let mut train = Training::ZERO;
    for (node, training) in inst.nodes.iter().zip(training) {
        let layer = LayerCounts {
            costs: node.costs,
            counts: layer_counts(node)?,
            training,
        };
        sum = sum.checked_add(&layer.costs)?;
        counts = counts.checked_add(&layer.counts)?;
        train = train.checked_add(&layer.training)?;
        layers.push(layer);
    }
    let mut values = Vec::with_capacity(inst.nodes.len() + 1);
    values.push(u64::try_from(numel(&inst.input)?).ok()?);
    for node in &inst.nodes {
        values.push(node.costs.activations);
    }
    let reads: Vec<Vec<usize>> = inst.nodes.iter().map(|n| n.inputs.clone()).collect();
    let peak = peak_live_elements(&values, &reads, inst.output)?;
    let totals = Totals {
        costs: sum,
        weight_bytes: sum.params.checked_mul(4)?,
        buffer_bytes: sum.buffers.checked_mul(4)?,
        peak_activation_bytes: peak.checked_mul(4)?,
        counts,
        training: train,
    };
    Some(Counted { layers, totals })
}
