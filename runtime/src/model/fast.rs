//! The fast backend: the kernels of [`crate::kernels::fast`], prepared once
//! per model (weights packed, batch norms folded into the convolution before
//! them, activations fused into the layer before them), writing every output
//! into its plan slot's reused buffer, on
//! [`num_threads`](crate::threads::num_threads) threads.
//!
//! Fusion never changes what a layer reports: a folded batch norm or fused
//! activation still runs as its own step (passing its input through, in
//! place) and is still timed and observed under its own name; its work is
//! counted in the time of the layer it was fused into, whose observed output
//! is then the fused result. Layers without a fast kernel (average pooling
//! other than global, concat, slices, shuffles, products, softmax) run the
//! reference kernel.

use super::reference;
use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::broadcast::{self, BinaryOp};
use crate::kernels::fast::elementwise::{self as fel, PackedBatchNorm};
use crate::kernels::fast::{pool, PackedConv, PackedLinear};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Activation, Graph, Op, Pool2d};

/// What the fast backend runs for one node.
#[derive(Clone, Debug)]
pub(crate) enum FastLayer {
    /// A convolution, with the batch norm and activation after it folded in.
    Conv(PackedConv),
    /// A linear layer, with the activation after it fused.
    Linear(PackedLinear),
    /// A batch norm that could not be folded, with the activation after it.
    BatchNorm(PackedBatchNorm, Option<Activation>),
    /// An activation that could not be fused.
    Activation(Activation),
    /// A residual add, with the activation after it fused.
    Add(Option<Activation>),
    /// Max pooling.
    MaxPool(Pool2d),
    /// The spatial mean of each channel (adaptive average pooling to 1x1,
    /// or `mean`), flattened to `[N, C]` unless `keepdim`.
    GlobalMean {
        /// Keep the `[N, C, 1, 1]` shape.
        keepdim: bool,
    },
    /// Done by node `into` (a folded batch norm or fused activation): passes
    /// its input through.
    Folded {
        /// The node that does this one's work.
        into: usize,
    },
    /// The reference kernel.
    Reference,
}

/// The fast layers of one model, one per node.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub layers: Vec<FastLayer>,
}

impl Prepared {
    /// Packs the weights of `layers` (one per node of `graph`) and decides
    /// the fusions.
    pub fn new(graph: &Graph<'static>, layers: &[Layer]) -> Result<Prepared, Error> {
        let n = graph.nodes.len();
        // Readers of each value; the graph's output counts as one more.
        let mut readers = vec![0usize; n + 1];
        let mut reader = vec![usize::MAX; n + 1];
        for (i, node) in graph.nodes.iter().enumerate() {
            for &v in node.inputs {
                if let Some(r) = readers.get_mut(v) {
                    *r += 1;
                    reader[v] = i;
                }
            }
        }
        if let Some(r) = readers.get_mut(graph.output) {
            *r += 1;
        }
        // The node that alone reads value `v`, as its only input.
        let sole = |v: usize| -> Option<usize> {
            let r = *reader.get(v)?;
            (readers[v] == 1 && graph.nodes.get(r)?.inputs == [v]).then_some(r)
        };
        let activation_after = |node: usize| -> Option<(usize, Activation)> {
            let k = sole(node + 1)?;
            match graph.nodes[k].op {
                Op::Activation(a) => Some((k, a)),
                _ => None,
            }
        };
        let mut out = vec![FastLayer::Reference; n];
        let mut done = vec![false; n];
        for i in 0..n {
            if done[i] {
                continue;
            }
            let (Some(node), Some(layer)) = (graph.nodes.get(i), layers.get(i)) else {
                break;
            };
            out[i] = match (&node.op, layer) {
                (Op::Conv2d(c), Layer::Conv2d(l)) => {
                    let mut p =
                        PackedConv::new(c, l.weight.data(), l.bias.as_ref().map(Tensor::data))?;
                    let mut last = i;
                    if let Some(j) = sole(i + 1) {
                        if let (Op::BatchNorm2d(_), Some(Layer::BatchNorm2d(b))) =
                            (&graph.nodes[j].op, layers.get(j))
                        {
                            p = p.fold_batch_norm(
                                b.weight.data(),
                                b.bias.data(),
                                b.running_mean.data(),
                                b.running_var.data(),
                                b.eps,
                            )?;
                            done[j] = true;
                            out[j] = FastLayer::Folded { into: i };
                            last = j;
                        }
                    }
                    if let Some((k, a)) = activation_after(last) {
                        p = p.with_activation(a);
                        done[k] = true;
                        out[k] = FastLayer::Folded { into: i };
                    }
                    FastLayer::Conv(p)
                }
                (Op::Linear(c), Layer::Linear(l))
                | (Op::MhaInProj { linear: c, .. }, Layer::InProj(l)) => {
                    let mut p =
                        PackedLinear::new(c, l.weight.data(), l.bias.as_ref().map(Tensor::data))?;
                    if let Some((k, a)) = activation_after(i) {
                        p = p.with_activation(a);
                        done[k] = true;
                        out[k] = FastLayer::Folded { into: i };
                    }
                    FastLayer::Linear(p)
                }
                (Op::BatchNorm2d(_), Layer::BatchNorm2d(b)) => {
                    let p = PackedBatchNorm::new(
                        b.weight.data(),
                        b.bias.data(),
                        b.running_mean.data(),
                        b.running_var.data(),
                        b.eps,
                    )?;
                    let act = activation_after(i).map(|(k, a)| {
                        done[k] = true;
                        out[k] = FastLayer::Folded { into: i };
                        a
                    });
                    FastLayer::BatchNorm(p, act)
                }
                // Broadcasting sums (position embeddings) run the reference kernel.
                (Op::Add, _)
                    if graph
                        .layers
                        .get(i)
                        .is_some_and(|r| r.inputs.windows(2).all(|w| w[0] == w[1])) =>
                {
                    let act = activation_after(i).map(|(k, a)| {
                        done[k] = true;
                        out[k] = FastLayer::Folded { into: i };
                        a
                    });
                    FastLayer::Add(act)
                }
                (Op::Activation(a), _) => FastLayer::Activation(*a),
                (Op::MaxPool2d(p), _) => FastLayer::MaxPool(*p),
                (Op::AdaptiveAvgPool2d { output: [1, 1] }, _) => {
                    FastLayer::GlobalMean { keepdim: true }
                }
                (Op::Mean { dims, keepdim }, _)
                    if dims.as_slice() == [1, 2]
                        && graph
                            .layers
                            .get(i)
                            .is_some_and(|r| r.inputs.first().is_some_and(|x| x.len() == 3)) =>
                {
                    FastLayer::GlobalMean { keepdim: *keepdim }
                }
                _ => FastLayer::Reference,
            };
        }
        Ok(Prepared { layers: out })
    }
}

impl Prepared {
    /// The node that does node `i`'s work, if `i` was fused into it.
    pub fn fused_into(&self, i: usize) -> Option<usize> {
        match self.layers.get(i) {
            Some(FastLayer::Folded { into }) => Some(*into),
            _ => None,
        }
    }

    /// Bytes of packed weights.
    pub fn weight_bytes(&self) -> usize {
        let floats: usize = self
            .layers
            .iter()
            .map(|l| match l {
                FastLayer::Conv(p) => p.packed_len(),
                FastLayer::Linear(p) => p.packed_len(),
                FastLayer::BatchNorm(p, _) => p.packed_len(),
                _ => 0,
            })
            .sum();
        floats * 4
    }

    /// Bytes of im2col workspace at batch `n` on `threads` threads: the
    /// largest tile any convolution of `graph` asks for, per thread.
    pub fn workspace_bytes(&self, graph: &Graph<'_>, n: usize, threads: usize) -> usize {
        let largest = self
            .layers
            .iter()
            .zip(graph.layers)
            .filter_map(|(l, info)| match (l, info.inputs.first()) {
                (FastLayer::Conv(p), Some(&&[c, h, w])) => Some(p.workspace_len([n, c, h, w])),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        largest * 4 * threads.max(1)
    }
}

/// Runs node `op` with its fast layer `fast` (and built `layer`, for the
/// reference fallback) on `operands`.
pub(crate) fn execute(
    op: &Op,
    fast: &FastLayer,
    layer: &Layer,
    operands: Operands<'_>,
) -> Result<Tensor, Error> {
    let own = |owned: Option<Tensor>| {
        owned.ok_or_else(|| Error::Kernel {
            op: op.kind(),
            message: "runs in place but was given no input".to_string(),
        })
    };
    fn one<'t>(op: &Op, inputs: &[&'t Tensor]) -> Result<&'t Tensor, Error> {
        match inputs {
            [x] => Ok(*x),
            _ => kernel(
                op.kind(),
                format!("takes one input, found {}", inputs.len()),
            ),
        }
    }
    match fast {
        FastLayer::Conv(p) => p.run_reusing(one(op, &operands.inputs)?, operands.out),
        FastLayer::Linear(p) => p.run_reusing(one(op, &operands.inputs)?, operands.out),
        FastLayer::BatchNorm(p, act) => {
            let mut t = own(operands.owned)?;
            p.run_in_place(&mut t, *act)?;
            Ok(t)
        }
        FastLayer::Activation(a) => {
            let mut t = own(operands.owned)?;
            fel::activation_in_place(&mut t, *a);
            Ok(t)
        }
        FastLayer::Add(act) => {
            let mut acc = own(operands.owned)?;
            // A per-sample sum can still broadcast over the batch at run
            // time (a position embedding has one sample for every batch):
            // then the broadcasting kernel, and the activation after it.
            if operands.inputs.iter().any(|x| x.shape() != acc.shape()) {
                for x in &operands.inputs {
                    acc = broadcast::binary(&acc, x, BinaryOp::Add)?;
                }
                if let Some(a) = act {
                    fel::activation_in_place(&mut acc, *a);
                }
                return Ok(acc);
            }
            let last = operands.inputs.len();
            for (k, x) in operands.inputs.iter().enumerate() {
                fel::add_assign(&mut acc, x, if k + 1 == last { *act } else { None })?;
            }
            if last == 0 {
                if let Some(a) = act {
                    fel::activation_in_place(&mut acc, *a);
                }
            }
            Ok(acc)
        }
        FastLayer::MaxPool(p) => pool::max_pool2d(one(op, &operands.inputs)?, p, operands.out),
        FastLayer::GlobalMean { keepdim } => {
            let y = pool::global_avg_pool(one(op, &operands.inputs)?, operands.out)?;
            if *keepdim {
                Ok(y)
            } else {
                crate::kernels::elementwise::flatten(y)
            }
        }
        FastLayer::Folded { .. } => own(operands.owned),
        FastLayer::Reference => reference::execute(op, layer, operands),
    }
}
