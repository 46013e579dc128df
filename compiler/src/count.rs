//! Counting: network totals from the instantiated graph, with checked
//! arithmetic and the liveness-based peak activation memory.

use crate::eval::{Instance, NodeRec};
use netspec_model::info::peak_live_elements;
use netspec_model::shape::numel;
use netspec_model::{Counts, Totals};

/// One layer's counts under every counting convention (torchvision, fvcore,
/// thop, ptflops, netspec FLOPs), or `None` if one overflows `u64`.
pub fn layer_counts(node: &NodeRec) -> Option<Counts> {
    let inputs: Vec<&[usize]> = node.input_shapes.iter().map(Vec::as_slice).collect();
    Counts::of(&node.op, &inputs, &node.output, node.module)
}

/// Totals of `inst`, or `None` if a count overflows `u64`.
pub fn totals(inst: &Instance) -> Option<Totals> {
    let mut sum = netspec_model::Costs::default();
    let mut counts = Counts::ZERO;
    for node in &inst.nodes {
        sum = sum.checked_add(&node.costs)?;
        counts = counts.checked_add(&layer_counts(node)?)?;
    }
    let mut values = Vec::with_capacity(inst.nodes.len() + 1);
    values.push(u64::try_from(numel(&inst.input)?).ok()?);
    for node in &inst.nodes {
        values.push(node.costs.activations);
    }
    let reads: Vec<Vec<usize>> = inst.nodes.iter().map(|n| n.inputs.clone()).collect();
    let peak = peak_live_elements(&values, &reads, inst.output)?;
    Some(Totals {
        params: sum.params,
        buffers: sum.buffers,
        macs: sum.macs,
        flops: sum.flops,
        memory_access_bytes: sum.memory_access_bytes,
        activations: sum.activations,
        weight_bytes: sum.params.checked_mul(4)?,
        buffer_bytes: sum.buffers.checked_mul(4)?,
        peak_activation_bytes: peak.checked_mul(4)?,
        counts,
    })
}
