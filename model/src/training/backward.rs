//! The backward pass layer by layer: grad-input and grad-weight MACs and
//! FLOPs, and what autograd keeps, storage by storage (views share their
//! input's storage, tracked by strides as PyTorch's `view` does).

use super::{Layer, Training};
use crate::cost::interpolate_weighted_sum;
use crate::op::{Activation, Conv2d, ConvNd, GroupNorm, LayerNorm, Op};
use crate::shape::numel;

fn count(shape: &[usize]) -> Option<u64> {
    u64::try_from(numel(shape)?).ok()
}

/// Per-element FLOPs of an activation's backward.
const fn activation_backward(a: &Activation) -> u64 {
    match a {
        Activation::ReLU => 1,
        Activation::ReLU6
        | Activation::LeakyReLU { .. }
        | Activation::HardSigmoid
        | Activation::Hardtanh { .. } => 2,
        Activation::ELU { .. } => 4,
        Activation::Sigmoid | Activation::Tanh => 3,
        Activation::HardSwish => 4,
        Activation::SiLU => 9,
        Activation::GELU { tanh: false } => 11,
        Activation::GELU { tanh: true } => 17,
    }
}

/// The storages of a graph: which storage each value lives in, and their sizes.
struct Storages {
    of_value: Vec<usize>,
    size: Vec<u64>,
    /// Written by torchvision's `MultiheadAttention` in-projection, which lays
    /// its output out sequence-first (`[L, N, 3·E]`, or `[3, L, N, E]`), so
    /// that the batch and the heads of every view of it merge into one
    /// dimension without a copy.
    seq_first: Vec<bool>,
}

impl Storages {
    fn new_storage(&mut self, elements: u64) -> usize {
        self.size.push(elements);
        self.seq_first.push(false);
        self.size.len() - 1
    }
}

/// Where a value's elements sit in its storage: the strides of its
/// per-sample axes and of the batch (0 for an unbatched value: a parameter
/// or a constant).
#[derive(Clone, Debug)]
pub(super) struct Layout {
    pub(super) strides: Vec<u64>,
    pub(super) batch: u64,
}

impl Layout {
    /// A fresh contiguous tensor of `shape` per sample.
    pub(super) fn contiguous(shape: &[usize], batched: bool) -> Option<Layout> {
        let mut strides = vec![0u64; shape.len()];
        let mut step = 1u64;
        for (st, &n) in strides.iter_mut().zip(shape).rev() {
            *st = step;
            step = step.checked_mul(u64::try_from(n).ok()?)?;
        }
        Some(Layout {
            strides,
            batch: if batched { step } else { 0 },
        })
    }
}

/// PyTorch's `computeStride`: the strides of `new` as a view of a tensor of
/// shape `old` with `strides`, or `None` when `view` would fail and
/// `reshape` copies. The batch axis is left alone (netspec's reshapes are of
/// the per-sample axes).
pub(super) fn view_strides(old: &[usize], strides: &[u64], new: &[usize]) -> Option<Vec<u64>> {
    let mut out = vec![0u64; new.len()];
    if strides.len() != old.len() {
        return None;
    }
    if old.contains(&0) || old.is_empty() {
        // empty or scalar: any strides do
        return Layout::contiguous(new, false).map(|l| l.strides);
    }
    let mut view_d = new.len() as isize - 1;
    let mut chunk_base = *strides.last()?;
    let mut tensor_numel = 1u64;
    let mut view_numel = 1u64;
    for tensor_d in (0..old.len()).rev() {
        tensor_numel = tensor_numel.checked_mul(u64::try_from(old[tensor_d]).ok()?)?;
        let boundary = tensor_d == 0
            || (old[tensor_d - 1] != 1
                && strides[tensor_d - 1] != tensor_numel.checked_mul(chunk_base)?);
        if boundary {
            while view_d >= 0 {
                let n = u64::try_from(new[view_d as usize]).ok()?;
                if !(view_numel < tensor_numel || n == 1) {
                    break;
                }
                out[view_d as usize] = view_numel.checked_mul(chunk_base)?;
                view_numel = view_numel.checked_mul(n)?;
                view_d -= 1;
            }
            if view_numel != tensor_numel {
                return None;
            }
            if tensor_d > 0 {
                chunk_base = strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    (view_d == -1).then_some(out)
}

/// Whether `torch.matmul`'s fold of the batch and the leading axes of an
/// operand (`expand(...).reshape(batch, n, m)`) is a view: every axis before
/// the last two, the batch first, must merge with the next one.
pub(super) fn folds_as_view(shape: &[usize], layout: &Layout) -> bool {
    let r = shape.len();
    let lead = r.saturating_sub(2);
    // (size, stride) of the batch and the leading per-sample axes, size-1 axes dropped
    let mut dims: Vec<(u64, u64)> = vec![(2, layout.batch)];
    for (&n, &stride) in shape.iter().zip(&layout.strides).take(lead) {
        if n != 1 {
            dims.push((n as u64, stride));
        }
    }
    dims.windows(2)
        .all(|w| w[0].1 == w[1].1.saturating_mul(w[1].0))
}

/// Whether `op` returns (a view of) its first input's storage.
fn shares_storage(op: &Op, inplace: bool) -> bool {
    match op {
        Op::Flatten
        | Op::Slice { .. }
        | Op::Select { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Identity
        | Op::Dropout { .. } => true,
        Op::StochasticDepth { p } => *p <= 0.0,
        Op::Activation(a) => inplace && !matches!(a, Activation::GELU { .. }),
        _ => false,
    }
}

/// The layout of `op`'s output when it shares its input's storage (see
/// [`shares_storage`]); `None` for a reshape that is not a view (PyTorch's
/// `reshape` copies then).
fn view_layout(op: &Op, input: &[usize], layout: &Layout, output: &[usize]) -> Option<Layout> {
    let strides = match op {
        Op::Flatten | Op::Reshape { .. } => view_strides(input, &layout.strides, output)?,
        Op::Permute { dims } => dims
            .as_slice()
            .iter()
            .map(|&d| layout.strides.get(d).copied())
            .collect::<Option<_>>()?,
        Op::Select { dim, .. } => {
            let mut s = layout.strides.clone();
            if *dim < s.len() {
                s.remove(*dim);
            }
            s
        }
        _ => layout.strides.clone(),
    };
    Some(Layout {
        strides,
        batch: layout.batch,
    })
}

/// Every layer's training costs, per sample. `values[v]` is the shape of
/// value `v` (`values[0]` the network input, `values[i + 1]` the output of
/// `layers[i]`). `None` if a count overflows or the wiring is inconsistent.
pub fn training(values: &[&[usize]], layers: &[Layer<'_>]) -> Option<Vec<Training>> {
    let elements: Vec<u64> = values.iter().map(|s| count(s)).collect::<Option<_>>()?;
    let mut needs_grad = vec![false; values.len()];
    let mut storages = Storages {
        of_value: vec![0],
        size: vec![*elements.first()?],
        seq_first: vec![false],
    };
    let mut layouts = vec![Layout::contiguous(values.first()?, true)?];
    let mut saved = vec![false; 1];
    let mut out = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let v = i + 1;
        if let Op::Parameter { .. } = layer.op {
            // A learnable leaf: it needs a gradient, and as a parameter it is
            // not part of what autograd saves.
            *needs_grad.get_mut(v)? = true;
            let leaf = storages.new_storage(0);
            storages.of_value.push(leaf);
            layouts.push(Layout::contiguous(values.get(v)?, false)?);
            saved.resize(storages.size.len(), false);
            out.push(Training::ZERO);
            continue;
        }
        if let Op::Constant { .. } = layer.op {
            // Data the network carries: no gradient, nothing saved.
            *needs_grad.get_mut(v)? = false;
            let leaf = storages.new_storage(0);
            storages.of_value.push(leaf);
            layouts.push(Layout::contiguous(values.get(v)?, false)?);
            saved.resize(storages.size.len(), false);
            out.push(Training::ZERO);
            continue;
        }
        let first = *layer.inputs.first()?;
        let first_needs_grad = *needs_grad.get(first)?;
        let has_params = !layer.op.stored_tensors().is_empty();
        let mut grad = has_params;
        for &x in layer.inputs {
            grad |= *needs_grad.get(x)?;
        }
        *needs_grad.get_mut(v)? = grad;
        let view = if shares_storage(layer.op, layer.inplace) {
            view_layout(
                layer.op,
                values.get(first)?,
                layouts.get(first)?,
                values.get(v)?,
            )
        } else {
            None
        };
        let storage = match view {
            Some(layout) => {
                layouts.push(layout);
                *storages.of_value.get(first)?
            }
            None => {
                layouts.push(Layout::contiguous(values.get(v)?, true)?);
                let s = storages.new_storage(*elements.get(v)?);
                if let Op::MhaInProj { .. } = layer.op {
                    *storages.seq_first.get_mut(s)? = true;
                }
                s
            }
        };
        storages.of_value.push(storage);
        saved.resize(storages.size.len(), false);
        let mut t = Training::ZERO;
        if !grad {
            out.push(t);
            continue;
        }
        let e_out = *elements.get(v)?;
        let e_in = *elements.get(first)?;
        // Storages this layer keeps for backward.
        let mut keeps: Vec<usize> = Vec::new();
        let input_storage = *storages.of_value.get(first)?;
        match layer.op {
            Op::Conv2d(Conv2d { bias, groups, .. })
            | Op::Conv1d(Conv2d { bias, groups, .. })
            | Op::Conv3d(ConvNd { bias, groups, .. })
            | Op::ConvTranspose(ConvNd { bias, groups, .. }) => {
                // A transposed convolution's gradients are the convolution's
                // with the roles of input and output swapped: the same
                // products, as many as the forward's.
                t.grad_weight_macs = layer.macs;
                t.grad_weight_flops =
                    layer
                        .macs
                        .checked_mul(2)?
                        .checked_add(if *bias { e_out } else { 0 })?;
                let groups = u64::try_from(*groups).ok()?;
                t.torch_backward_macs = layer.macs.checked_mul(groups)?;
                if first_needs_grad {
                    t.grad_input_macs = layer.macs;
                    t.grad_input_flops = layer.macs.checked_mul(2)?;
                    t.torch_backward_macs = t.torch_backward_macs.checked_add(layer.macs)?;
                }
                keeps.push(input_storage);
            }
            Op::Linear(l) | Op::MhaInProj { linear: l, .. } => {
                t.grad_weight_macs = layer.macs;
                t.grad_weight_flops =
                    layer
                        .macs
                        .checked_mul(2)?
                        .checked_add(if l.bias { e_out } else { 0 })?;
                t.torch_backward_macs = layer.macs;
                if first_needs_grad {
                    t.grad_input_macs = layer.macs;
                    t.grad_input_flops = layer.macs.checked_mul(2)?;
                    t.torch_backward_macs = t.torch_backward_macs.checked_add(layer.macs)?;
                }
                keeps.push(input_storage);
            }
            Op::BatchNorm2d(b) | Op::BatchNorm1d(b) | Op::BatchNorm3d(b) => {
                t.grad_weight_flops = e_out.checked_mul(5)?;
                if first_needs_grad {
                    t.grad_input_flops = e_out.checked_mul(4)?;
                }
                keeps.push(input_storage);
                t.saved_stats = u64::try_from(b.channels).ok()?.checked_mul(4)?;
            }
            Op::Activation(a) => {
                t.grad_input_flops = e_out.checked_mul(activation_backward(a))?;
                match a {
                    Activation::ReLU | Activation::Sigmoid | Activation::Tanh => {
                        keeps.push(storage)
                    }
                    // ELU keeps its input, in place its output: the same storage.
                    Activation::LeakyReLU { .. }
                    | Activation::GELU { .. }
                    | Activation::ELU { .. } => keeps.push(input_storage),
                    Activation::ReLU6
                    | Activation::Hardtanh { .. }
                    | Activation::SiLU
                    | Activation::HardSigmoid
                    | Activation::HardSwish => {
                        if layer.inplace {
                            // autograd saves a copy of the input before overwriting it
                            let copy = storages.new_storage(e_in);
                            saved.resize(storages.size.len(), false);
                            keeps.push(copy);
                        } else {
                            keeps.push(input_storage);
                        }
                    }
                }
            }
            Op::Softmax { .. } => {
                t.grad_input_flops = e_out.checked_mul(4)?;
                keeps.push(storage);
            }
            Op::Matmul { fused, trans_b, .. } => {
                // d(a) = g @ bᵀ and d(b) = aᵀ @ g: one product of the forward's
                // size each, keeping the other operand as the product read it.
                let out_shape = values.get(v)?;
                let lead = out_shape.len().saturating_sub(2);
                // What the product reads of operand `k`: scaled dot-product
                // attention's math backend multiplies q and k by √scale
                // first (new tensors); torch.matmul folds the batch and the
                // leading axes of a batched operand into one, a copy when
                // that is not a view (or the operand is broadcast).
                let mut read: Vec<Option<usize>> = vec![None; layer.inputs.len()];
                for (j, &x) in layer.inputs.iter().enumerate() {
                    if !*needs_grad.get(x)? {
                        continue;
                    }
                    t.grad_input_macs = t.grad_input_macs.checked_add(layer.macs)?;
                    t.grad_input_flops =
                        t.grad_input_flops.checked_add(layer.macs.checked_mul(2)?)?;
                    t.torch_backward_macs = t.torch_backward_macs.checked_add(layer.macs)?;
                    for (k, &other) in layer.inputs.iter().enumerate() {
                        if k == j {
                            continue;
                        }
                        if let Some(s) = read.get(k).copied().flatten() {
                            keeps.push(s);
                            continue;
                        }
                        let shape = values.get(other)?;
                        let layout = layouts.get(other)?;
                        let own = *storages.of_value.get(other)?;
                        let r = shape.len();
                        // the operand as broadcast to the output's leading axes
                        let expanded = if r >= 2 && layout.batch != 0 && out_shape.len() >= 2 {
                            let mut n = 1u64;
                            for &d in out_shape.get(..lead)? {
                                n = n.checked_mul(u64::try_from(d).ok()?)?;
                            }
                            for &d in shape.get(r - 2..)? {
                                n = n.checked_mul(u64::try_from(d).ok()?)?;
                            }
                            Some(n)
                        } else {
                            None
                        };
                        let s = match expanded {
                            Some(n) if *fused && *trans_b => storages.new_storage(n),
                            Some(n)
                                if n != *elements.get(other)?
                                    || !(folds_as_view(shape, layout)
                                        || *storages.seq_first.get(own)?) =>
                            {
                                storages.new_storage(n)
                            }
                            _ => own,
                        };
                        saved.resize(storages.size.len(), false);
                        *read.get_mut(k)? = Some(s);
                        keeps.push(s);
                    }
                }
            }
            Op::LayerNorm(LayerNorm { affine, .. }) | Op::GroupNorm(GroupNorm { affine, .. }) => {
                // `native_layer_norm` / `native_group_norm` keep the input and
                // two statistics (mean, 1/σ) per normalised group, which, unlike
                // batch norm's, are per sample. With affine parameters the
                // weight's gradient recomputes `x̂` from them.
                if *affine {
                    t.grad_weight_flops = e_out.checked_mul(2)?;
                }
                if first_needs_grad {
                    t.grad_input_flops = e_out.checked_mul(8)?;
                }
                keeps.push(input_storage);
                let groups = match layer.op {
                    Op::LayerNorm(n) => e_out / count(n.shape.as_slice())?.max(1),
                    Op::GroupNorm(g) => u64::try_from(g.groups).ok()?,
                    _ => 0,
                };
                // per sample: two new storages (mean and 1/σ) of `groups` each
                t.saved_floats = groups.checked_mul(2)?;
            }
            Op::Affine { scale, .. } => {
                if *scale != 1.0 {
                    t.grad_input_flops = e_out;
                }
            }
            Op::Sub => {
                if let Some(&b) = layer.inputs.get(1) {
                    if *needs_grad.get(b)? {
                        t.grad_input_flops = e_out;
                    }
                }
            }
            Op::MaxPool2d(_) | Op::MaxPoolNd(_) => {
                t.grad_input_flops = e_out;
                keeps.push(input_storage);
                t.saved_indices = e_out;
            }
            Op::AvgPool2d(_) | Op::AvgPoolNd(_) => {
                t.grad_input_flops = layer.flops;
                keeps.push(input_storage);
            }
            Op::AdaptiveAvgPool2d { output } => {
                t.grad_input_flops = layer.flops;
                if *output != [1, 1] {
                    keeps.push(input_storage);
                }
            }
            Op::AdaptiveAvgPoolNd { output, .. } => {
                // An output of one element is computed as a mean, which keeps
                // nothing (the unused leading entries are 1 too).
                t.grad_input_flops = layer.flops;
                if *output != [1, 1, 1] {
                    keeps.push(input_storage);
                }
            }
            Op::Interpolate(interp) => {
                // Each output's gradient goes back to its taps: weighted and
                // added (nearest: one add). Only the sizes are kept.
                t.grad_input_flops = e_out.checked_mul(interpolate_weighted_sum(interp)?)?;
            }
            Op::PReLU { .. } => {
                // dx = dy where x > 0, else w·dy (compare, multiply);
                // dw = Σ dy·x over x < 0 (multiply, add). Keeps the input
                // (and the weight, a parameter).
                t.grad_weight_flops = e_out.checked_mul(2)?;
                if first_needs_grad {
                    t.grad_input_flops = e_out.checked_mul(2)?;
                }
                keeps.push(input_storage);
            }
            Op::Mean { .. } => t.grad_input_flops = e_in,
            Op::Mul | Op::Div | Op::Maximum | Op::Minimum => {
                for (j, &x) in layer.inputs.iter().enumerate() {
                    if !*needs_grad.get(x)? {
                        continue;
                    }
                    let own = *elements.get(x)?;
                    let flops = e_out.checked_add(e_out.saturating_sub(own))?;
                    t.grad_input_flops = t.grad_input_flops.checked_add(flops)?;
                    for (k, &other) in layer.inputs.iter().enumerate() {
                        if k != j {
                            keeps.push(*storages.of_value.get(other)?);
                        }
                    }
                }
            }
            Op::Gather { shape, .. } => {
                // The gradient is added back into the table at the indices
                // (`index_put_` with accumulation): one add per output
                // element. Autograd keeps the int64 indices (a buffer, whatever
                // the batch: counted as two f32 statistics each), once per
                // gather, as each of torchvision's blocks has its own buffer.
                if first_needs_grad {
                    t.grad_input_flops = e_out;
                    t.saved_stats = count(shape.as_slice())?.checked_mul(2)?;
                }
            }
            Op::StochasticDepth { p } if *p > 0.0 => t.saved_floats = 1,
            Op::StochasticDepth { .. }
            | Op::Add
            | Op::Concat { .. }
            | Op::Slice { .. }
            | Op::Select { .. }
            | Op::Reshape { .. }
            | Op::Permute { .. }
            | Op::Roll { .. }
            | Op::Pad { .. }
            | Op::Parameter { .. }
            | Op::Constant { .. }
            | Op::ChannelShuffle { .. }
            | Op::Flatten
            | Op::Dropout { .. }
            | Op::Identity => {}
        }
        for s in keeps {
            let slot = saved.get_mut(s)?;
            if !*slot {
                *slot = true;
                t.saved_floats = t.saved_floats.checked_add(*storages.size.get(s)?)?;
            }
        }
        out.push(t);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::{Layer, Training};
    use super::training;
    use crate::cost::costs;
    use crate::op::{
        Activation, BatchNorm2d, Conv2d, ConvNd, Interpolate, InterpolationMode, Op, PoolNd,
    };
    use crate::shape::output_shape;

    /// A chain of `(op, inplace)` on `input`: every shape by the shape rules,
    /// every forward count by the cost model, then the training costs.
    fn chain(input: &[usize], ops: &[(Op, bool)]) -> Vec<Training> {
        let mut shapes = vec![input.to_vec()];
        let mut counts = Vec::new();
        for (op, _) in ops {
            let x = shapes.last().unwrap().clone();
            let y = output_shape(op, &[&x]).unwrap();
            counts.push(costs(op, &[&x], &y).unwrap());
            shapes.push(y);
        }
        let inputs: Vec<[usize; 1]> = (0..ops.len()).map(|i| [i]).collect();
        let layers: Vec<Layer<'_>> = ops
            .iter()
            .zip(&counts)
            .zip(&inputs)
            .map(|(((op, inplace), c), inputs)| Layer {
                op,
                inputs,
                inplace: *inplace,
                macs: c.macs,
                flops: c.flops,
            })
            .collect();
        let values: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        training(&values, &layers).unwrap()
    }

    fn saved(t: &[Training]) -> Vec<(u64, u64, u64)> {
        t.iter()
            .map(|t| (t.saved_floats, t.saved_indices, t.saved_stats))
            .collect()
    }

    #[test]
    fn three_d_chain_matches_autograd_and_flop_counter() {
        // x [2, 4, 4, 4] -> Conv3d(2, 4, 3, padding=1) -> BatchNorm3d -> ELU
        // -> MaxPool3d(2) -> ConvTranspose3d(4, 2, 2, stride=2, groups=2)
        // -> Hardtanh(-1, 1, inplace) -> Upsample(2, trilinear) -> AdaptiveAvgPool3d(1)
        let ops = [
            (
                Op::Conv3d(ConvNd::symmetric(
                    3, false, 2, 4, [3; 3], [1; 3], [1; 3], [0; 3], [1; 3], 1,
                )),
                false,
            ),
            (
                Op::BatchNorm3d(BatchNorm2d {
                    channels: 4,
                    eps: 1e-5,
                }),
                false,
            ),
            (Op::Activation(Activation::ELU { alpha: 1.0 }), false),
            (
                Op::MaxPoolNd(PoolNd::new(3, [2; 3], [2; 3], [0; 3], [1; 3], false, true)),
                false,
            ),
            (
                Op::ConvTranspose(ConvNd::symmetric(
                    3, true, 4, 2, [2; 3], [2; 3], [0; 3], [0; 3], [1; 3], 2,
                )),
                false,
            ),
            (
                Op::Activation(Activation::Hardtanh {
                    min: -1.0,
                    max: 1.0,
                }),
                true,
            ),
            (
                Op::Interpolate(Interpolate {
                    mode: InterpolationMode::Linear,
                    rank: 3,
                    size: [8; 3],
                    scale: [2.0; 3],
                    align_corners: false,
                    upsample: true,
                }),
                false,
            ),
            (
                Op::AdaptiveAvgPoolNd {
                    rank: 3,
                    output: [1; 3],
                },
                false,
            ),
        ];
        let t = chain(&[2, 4, 4, 4], &ops);
        // What autograd saves (measured with saved_tensors_hooks, torch 2.15,
        // training mode): the conv its input (128); batch norm its input (256)
        // and 4·4 statistics; ELU its input (256); the pool its input (256) and
        // 32 int64 indices; the transposed conv its input (32); the in-place
        // Hardtanh a copy of its input (128); the resampling and the 1x1x1
        // adaptive pool (a mean) nothing.
        assert_eq!(
            saved(&t),
            [
                (128, 0, 0),
                (256, 0, 16),
                (256, 0, 0),
                (256, 32, 0),
                (32, 0, 0),
                (128, 0, 0),
                (0, 0, 0),
                (0, 0, 0)
            ]
        );
        // Forward MACs 256·2·27 + 4·8·1·8 = 14,080; FlopCounterMode's backward:
        // the conv's grad-weight 13,824 (no grad-input: the network input needs
        // none), the transposed conv's grad-weight counted groups = 2 times
        // (512) and its grad-input 256: 14,592 MACs.
        let torch: u64 = t.iter().map(|t| t.torch_backward_macs).sum();
        assert_eq!(torch, 14_592);
        assert_eq!((t[0].grad_input_macs, t[0].grad_weight_macs), (0, 13_824));
        assert_eq!((t[4].grad_input_macs, t[4].grad_weight_macs), (256, 256));
        // grad-weight FLOPs: 2·MACs + the bias's sum of dy (128 outputs)
        assert_eq!(t[4].grad_weight_flops, 2 * 256 + 128);
        // ELU 4 per element, Hardtanh 2; trilinear 15 per output element
        // (8·8·8·2 = 1,024); the adaptive pool its forward FLOPs (2·512)
        assert_eq!(t[2].grad_input_flops, 4 * 256);
        assert_eq!(t[5].grad_input_flops, 2 * 128);
        assert_eq!(t[6].grad_input_flops, 15 * 1_024);
        assert_eq!(t[7].grad_input_flops, 1_024);
        // batch norm 3-D as 2-D: 4 and 5 per element
        assert_eq!(
            (t[1].grad_input_flops, t[1].grad_weight_flops),
            (1_024, 1_280)
        );
    }

    #[test]
    fn one_d_chain_matches_autograd_and_flop_counter() {
        // x [3, 8] -> BatchNorm1d(3) -> PReLU(3) -> AvgPool1d(2) -> AdaptiveAvgPool1d(3)
        // -> ConvTranspose1d(3, 6, 3, stride=3, padding=1, output_padding=2, groups=3)
        // -> Upsample(2) -> ELU(inplace) -> Conv1d(6, 2, 1)
        let ops = [
            (
                Op::BatchNorm1d(BatchNorm2d {
                    channels: 3,
                    eps: 1e-5,
                }),
                false,
            ),
            (
                Op::PReLU {
                    num_parameters: 3,
                    init: 0.25,
                },
                false,
            ),
            (
                Op::AvgPoolNd(PoolNd::new(
                    1,
                    [1, 1, 2],
                    [1, 1, 2],
                    [0; 3],
                    [1; 3],
                    false,
                    true,
                )),
                false,
            ),
            (
                Op::AdaptiveAvgPoolNd {
                    rank: 1,
                    output: [1, 1, 3],
                },
                false,
            ),
            (
                Op::ConvTranspose(ConvNd::symmetric(
                    1,
                    true,
                    3,
                    6,
                    [1, 1, 3],
                    [1, 1, 3],
                    [0, 0, 1],
                    [0, 0, 2],
                    [1; 3],
                    3,
                )),
                false,
            ),
            (
                Op::Interpolate(Interpolate {
                    mode: InterpolationMode::Nearest,
                    rank: 1,
                    size: [1, 1, 18],
                    scale: [0.0, 0.0, 2.0],
                    align_corners: false,
                    upsample: true,
                }),
                false,
            ),
            (Op::Activation(Activation::ELU { alpha: 1.0 }), true),
            (
                Op::Conv1d(Conv2d::new(
                    6,
                    2,
                    [1, 1],
                    [1, 1],
                    [[0, 0], [0, 0]],
                    [1, 1],
                    1,
                    true,
                )),
                false,
            ),
        ];
        let t = chain(&[3, 8], &ops);
        // Measured: batch norm its input (24) and 4·3 statistics; PReLU its
        // input (24); the pools their inputs (24, 12); the transposed conv its
        // input [3, 3] (9); nearest resampling nothing; the in-place ELU its
        // output, the resampling's storage [6, 18] (108), which the conv then
        // reads (already saved).
        assert_eq!(
            saved(&t),
            [
                (24, 0, 12),
                (24, 0, 0),
                (24, 0, 0),
                (12, 0, 0),
                (9, 0, 0),
                (0, 0, 0),
                (108, 0, 0),
                (0, 0, 0)
            ]
        );
        // Forward MACs 3·3·2·3 + 2·18·6 = 270; FlopCounterMode's backward:
        // 3·54 + 54 (groups 3) + 216 + 216 = 648
        let torch: u64 = t.iter().map(|t| t.torch_backward_macs).sum();
        assert_eq!(torch, 648);
        // PReLU: grad-input and grad-weight 2 per element each
        assert_eq!((t[1].grad_input_flops, t[1].grad_weight_flops), (48, 48));
        // nearest: one add per output element (108)
        assert_eq!(t[5].grad_input_flops, 108);
        // the first layer has no grad-input
        assert_eq!(t[0].grad_input_flops, 0);
    }

    #[test]
    fn transposed_conv_after_a_conv_has_both_gradients() {
        // x [3, 5, 7] -> Conv2d(3, 4, 1) -> ConvTranspose2d(4, 6, 3, stride=2,
        // padding=1, output_padding=1, dilation=2, groups=2): FlopCounterMode's
        // backward 420 + 2·3,780 + 3,780 = 11,760 MACs; saved 105 and 140.
        let ops = [
            (
                Op::Conv2d(Conv2d::new(
                    3,
                    4,
                    [1, 1],
                    [1, 1],
                    [[0, 0], [0, 0]],
                    [1, 1],
                    1,
                    true,
                )),
                false,
            ),
            (
                Op::ConvTranspose(ConvNd::symmetric(
                    2,
                    true,
                    4,
                    6,
                    [1, 3, 3],
                    [1, 2, 2],
                    [0, 1, 1],
                    [0, 1, 1],
                    [1, 2, 2],
                    2,
                )),
                false,
            ),
        ];
        let t = chain(&[3, 5, 7], &ops);
        assert_eq!(t[0].torch_backward_macs + t[1].torch_backward_macs, 11_760);
        assert_eq!(
            (t[1].grad_input_macs, t[1].grad_weight_macs),
            (3_780, 3_780)
        );
        assert_eq!((t[0].saved_floats, t[1].saved_floats), (105, 140));
    }
}
