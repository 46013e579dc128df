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
//! other than global, concat, slices, shuffles, products, softmax, pooling
//! over one or three axes, interpolation, PReLU, batch norms over other
//! than two axes) run the reference kernel. 3-D and transposed convolutions
//! run as packed products ([`PackedConvNd`]) with the batch norm (when it
//! runs in place) and activation after them folded in.

use super::reference;
use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::broadcast::{self, BinaryOp};
use crate::kernels::fast::elementwise::{self as fel, PackedBatchNorm};
use crate::kernels::fast::{pool, PackedConv, PackedConvNd, PackedLinear};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Activation, Graph, Op, Pool2d};

/// What the fast backend runs for one node.
#[derive(Clone, Debug)]
pub(crate) enum FastLayer {
    /// A convolution, with the batch norm and activation after it folded in.
    Conv(PackedConv),
    /// A 3-D or transposed convolution (any rank), with the batch norm and
    /// activation after it folded in.
    ConvNd(PackedConvNd),
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
        // Every output is read once more, at the end: a value the network
        // returns is never fused away.
        for &v in graph.output_values() {
            if let Some(r) = readers.get_mut(v) {
                *r += 1;
            }
        }
        // A later application of a shared module is prepared from its
        // owner's tensors (packed again: what is folded into it may differ).
        let layer_of = |i: usize| layers.get(graph.tensor_owner(i));
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
            let (Some(node), Some(layer)) = (graph.nodes.get(i), layer_of(i)) else {
                break;
            };
            out[i] = match (&node.op, layer) {
                (Op::Conv2d(c), Layer::Conv2d(l)) => {
                    let mut p =
                        PackedConv::new(c, l.weight.data(), l.bias.as_ref().map(Tensor::data))?;
                    let mut last = i;
                    if let Some(j) = sole(i + 1) {
                        if let (Op::BatchNorm2d(_), Some(Layer::BatchNorm2d(b))) =
                            (&graph.nodes[j].op, layer_of(j))
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
                (Op::Conv3d(c) | Op::ConvTranspose(c), Layer::Conv2d(l)) => {
                    let mut p =
                        PackedConvNd::new(c, l.weight.data(), l.bias.as_ref().map(Tensor::data))?;
                    let mut last = i;
                    // A batch norm folds in when the plan hands it its input
                    // (a folded step passes its owned input through).
                    if let Some(j) = sole(i + 1) {
                        let bn = &graph.nodes[j].op;
                        if let (
                            Op::BatchNorm1d(_) | Op::BatchNorm2d(_) | Op::BatchNorm3d(_),
                            Some(Layer::BatchNorm2d(b)),
                        ) = (bn, layer_of(j))
                        {
                            if super::plan::runs_in_place(bn) {
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
                    }
                    if let Some((k, a)) = activation_after(last) {
                        p = p.with_activation(a);
                        done[k] = true;
                        out[k] = FastLayer::Folded { into: i };
                    }
                    FastLayer::ConvNd(p)
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
                FastLayer::ConvNd(p) => p.packed_len(),
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
                (FastLayer::ConvNd(p), Some(shape)) => {
                    let full: Vec<usize> =
                        std::iter::once(n).chain(shape.iter().copied()).collect();
                    Some(p.workspace_len(&full))
                }
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
        FastLayer::ConvNd(p) => p.run_reusing(one(op, &operands.inputs)?, operands.out),
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

#[cfg(test)]
mod tests {
    use crate::kernels::fast::tests::hold_threads;
    use crate::tensor::Tensor;
    use crate::{Backend, Model};
    use netspec_model::{
        Activation, BatchNorm2d, ConvNd, Graph, Interpolate, InterpolationMode, LayerInfo, Node,
        Op, PoolNd, Totals,
    };
    use rand_chacha::rand_core::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const fn info(name: &'static str, kind: &'static str) -> LayerInfo<'static> {
        LayerInfo::from_parts(name, kind, true, &[], &[], [0; 6], [0; 5])
    }

    const BN3: BatchNorm2d = BatchNorm2d {
        channels: 3,
        eps: 1e-5,
    };

    /// x [2, 3, 3] -> ConvTranspose2d(2 -> 3, k 2, s 2) -> BatchNorm2d -> ReLU
    /// -> bilinear to 9x9 -> PReLU(3).
    static DECODER: Graph<'static> = Graph {
        name: "Decoder",
        input: &[2, 3, 3],
        nodes: &[
            Node::new(
                Op::ConvTranspose(ConvNd::new(
                    2,
                    true,
                    2,
                    3,
                    [1, 2, 2],
                    [1, 2, 2],
                    [[0, 0]; 3],
                    [0; 3],
                    [1; 3],
                    1,
                    true,
                )),
                &[0],
            ),
            Node::new(Op::BatchNorm2d(BN3), &[1]),
            Node::new(Op::Activation(Activation::ReLU), &[2]),
            Node::new(
                Op::Interpolate(Interpolate {
                    mode: InterpolationMode::Linear,
                    rank: 2,
                    size: [1, 9, 9],
                    scale: [0.0; 3],
                    align_corners: false,
                    upsample: true,
                }),
                &[3],
            ),
            Node::new(
                Op::PReLU {
                    num_parameters: 3,
                    init: 0.25,
                },
                &[4],
            ),
        ],
        layers: &[
            info("up", "ConvTranspose2d"),
            info("bn", "BatchNorm2d"),
            info("relu", "ReLU"),
            info("resize", "Upsample"),
            info("act", "PReLU"),
        ],
        output: 5,
        outputs: &[],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    /// x [2, 4, 4, 4] -> Conv3d(2 -> 3, k 3, pad 1) -> BatchNorm3d -> ELU ->
    /// MaxPool3d(2) -> AdaptiveAvgPool3d([1, 2, 1]).
    static VOLUME: Graph<'static> = Graph {
        name: "Volume",
        input: &[2, 4, 4, 4],
        nodes: &[
            Node::new(
                Op::Conv3d(ConvNd::new(
                    3,
                    false,
                    2,
                    3,
                    [3; 3],
                    [1; 3],
                    [[1, 1]; 3],
                    [0; 3],
                    [1; 3],
                    1,
                    true,
                )),
                &[0],
            ),
            Node::new(Op::BatchNorm3d(BN3), &[1]),
            Node::new(Op::Activation(Activation::ELU { alpha: 1.0 }), &[2]),
            Node::new(
                Op::MaxPoolNd(PoolNd::new(3, [2; 3], [2; 3], [0; 3], [1; 3], false, false)),
                &[3],
            ),
            Node::new(
                Op::AdaptiveAvgPoolNd {
                    rank: 3,
                    output: [1, 2, 1],
                },
                &[4],
            ),
        ],
        layers: &[
            info("conv", "Conv3d"),
            info("bn", "BatchNorm3d"),
            info("elu", "ELU"),
            info("pool", "MaxPool3d"),
            info("gap", "AdaptiveAvgPool3d"),
        ],
        output: 5,
        outputs: &[],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    /// x [2, 8] -> ConvTranspose1d(2 -> 2, k 3, s 2, p 1, output padding 1)
    /// -> BatchNorm1d -> MaxPool1d(2) -> AvgPool1d(3, s 1, p 1) ->
    /// AdaptiveAvgPool1d(5) -> nearest to 7 -> Hardtanh(-0.5, 0.5).
    static LINE: Graph<'static> = Graph {
        name: "Line",
        input: &[2, 8],
        nodes: &[
            Node::new(
                Op::ConvTranspose(ConvNd::new(
                    1,
                    true,
                    2,
                    2,
                    [1, 1, 3],
                    [1, 1, 2],
                    [[0, 0], [0, 0], [1, 1]],
                    [0, 0, 1],
                    [1; 3],
                    1,
                    false,
                )),
                &[0],
            ),
            Node::new(
                Op::BatchNorm1d(BatchNorm2d {
                    channels: 2,
                    eps: 1e-5,
                }),
                &[1],
            ),
            Node::new(
                Op::MaxPoolNd(PoolNd::new(
                    1,
                    [1, 1, 2],
                    [1, 1, 2],
                    [0; 3],
                    [1; 3],
                    false,
                    false,
                )),
                &[2],
            ),
            Node::new(
                Op::AvgPoolNd(PoolNd::new(
                    1,
                    [1, 1, 3],
                    [1; 3],
                    [0, 0, 1],
                    [1; 3],
                    false,
                    true,
                )),
                &[3],
            ),
            Node::new(
                Op::AdaptiveAvgPoolNd {
                    rank: 1,
                    output: [1, 1, 5],
                },
                &[4],
            ),
            Node::new(
                Op::Interpolate(Interpolate {
                    mode: InterpolationMode::Nearest,
                    rank: 1,
                    size: [1, 1, 7],
                    scale: [0.0; 3],
                    align_corners: false,
                    upsample: false,
                }),
                &[5],
            ),
            Node::new(
                Op::Activation(Activation::Hardtanh {
                    min: -0.5,
                    max: 0.5,
                }),
                &[6],
            ),
        ],
        layers: &[
            info("up", "ConvTranspose1d"),
            info("bn", "BatchNorm1d"),
            info("max", "MaxPool1d"),
            info("avg", "AvgPool1d"),
            info("gap", "AdaptiveAvgPool1d"),
            info("resize", "Interpolate"),
            info("clip", "Hardtanh"),
        ],
        output: 7,
        outputs: &[],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    fn values(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n)
            .map(|_| lo + (hi - lo) * (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32)
            .collect()
    }

    /// A model of `graph` whose batch norms and PReLU have random
    /// statistics and slopes (not the identity of the default init).
    fn model(graph: &'static Graph<'static>) -> Model {
        let mut m = Model::random(graph, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let names: Vec<(String, Vec<usize>)> = m
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec()))
            .filter(|(n, _)| n.starts_with("bn.") || n.starts_with("act."))
            .collect();
        for (name, shape) in names {
            let n = shape.iter().product();
            let (lo, hi) = if name.ends_with("running_var") {
                (0.2, 2.0)
            } else {
                (-1.0, 1.0)
            };
            m.set_tensor(
                &name,
                Tensor::new(&shape, values(&mut rng, n, lo, hi)).unwrap(),
            )
            .unwrap();
        }
        m
    }

    #[test]
    fn the_new_layers_agree_on_both_backends() {
        let _threads = hold_threads();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for graph in [&DECODER, &VOLUME, &LINE] {
            let fast = model(graph);
            let reference = fast.clone().with_backend(Backend::Reference);
            let mut shape = vec![2];
            shape.extend_from_slice(graph.input);
            let x =
                Tensor::new(&shape, values(&mut rng, shape.iter().product(), -2.0, 2.0)).unwrap();
            let a = fast.forward(&x).unwrap();
            let b = reference.forward(&x).unwrap();
            assert_eq!(a.shape(), b.shape(), "{}", graph.name);
            let largest = b.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let diff = a.max_abs_diff(&b).unwrap();
            assert!(
                largest > 0.0 && diff <= 1e-5 * largest,
                "{}: {diff} of {largest}",
                graph.name
            );
        }
    }

    #[test]
    fn batch_norms_fold_into_transposed_convolutions_when_they_run_in_place() {
        // (Setting the statistics dropped the packed layers: pack them again.)
        let m = model(&DECODER).with_backend(Backend::Fast);
        // The batch norm and the ReLU after the transposed convolution run in it.
        assert_eq!((m.fused_into(1), m.fused_into(2)), (Some(0), Some(0)));
        assert_eq!((m.fused_into(3), m.fused_into(4)), (None, None));
        // Packed: the weight (2·3·2·2) and the bias (3), and nothing for the rest.
        assert_eq!(m.packed_weight_bytes(), (2 * 3 * 4 + 3) * 4);
        // A batch norm the plan does not run in place stays its own step.
        let v = model(&VOLUME).with_backend(Backend::Fast);
        let folded = super::super::plan::runs_in_place(&VOLUME.nodes[1].op);
        assert_eq!(v.fused_into(1), folded.then_some(0));
    }
}
