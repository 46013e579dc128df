//! Counting: every layer's counts and the network's totals, computed once
//! from the instantiated graph, with checked arithmetic and the
//! liveness-based peak activation memory. Budgets, the report and the
//! emitted records all read the result.

use crate::eval::{Instance, NodeRec};
use netspec_model::info::peak_live_elements;
use netspec_model::shape::numel;
use netspec_model::{Costs, Counts, Totals};

/// What one layer costs: its [`Costs`] and its count under every convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerCounts {
    /// Params, buffers, MACs, FLOPs, bytes moved and output elements.
    pub costs: Costs,
    /// The count under every counting convention.
    pub counts: Counts,
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

/// Every layer's counts and the totals of `inst`, or `None` if a count
/// overflows `u64`.
pub fn count(inst: &Instance) -> Option<Counted> {
    let mut layers = Vec::with_capacity(inst.nodes.len());
    let mut sum = Costs::ZERO;
    let mut counts = Counts::ZERO;
    for node in &inst.nodes {
        let layer = LayerCounts {
            costs: node.costs,
            counts: layer_counts(node)?,
        };
        sum = sum.checked_add(&layer.costs)?;
        counts = counts.checked_add(&layer.counts)?;
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
    };
    Some(Counted { layers, totals })
}
