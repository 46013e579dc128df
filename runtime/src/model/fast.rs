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
//!
//! A later application of a shared module runs the packed layer of an
//! earlier application of it ([`FastLayer::Shared`]) when the same layers
//! fold into both (the same batch norm's tensors, the same activation), so
//! its weights are packed once; an application that folds in something
//! else (another batch norm, or nothing where the first folds one) packs
//! its own copy, since the folded weights differ.

use super::reference;
use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::broadcast::{self, BinaryOp};
use crate::kernels::fast::elementwise::{self as fel, PackedBatchNorm};
use crate::kernels::fast::{pool, PackedConv, PackedConvNd, PackedLayer, PackedLinear};
use crate::layers::{BatchNorm2d, Layer};
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
    /// A later application of a shared module: runs node `with`'s packed
    /// layer, an earlier application of the same module whose fusions are
    /// the same (the same batch norm's tensors folded in, the same
    /// activation), so the weights are packed once.
    Shared {
        /// The node whose packed layer this one runs.
        with: usize,
    },
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

/// What a packed layer is made of: the node whose tensors it packs (a
/// shared module's owner), the node whose batch-norm tensors are folded in,
/// and the activation fused. Two applications with one recipe share one
/// packed layer.
type Recipe = (usize, Option<usize>, Option<Activation>);

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
        // owner's tensors.
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
        // The batch norm that alone reads node `i`'s output, to fold into
        // its convolution (a 2-D one takes a BatchNorm2d, a 3-D or
        // transposed one, `any_rank`, every rank's) when the plan hands the
        // batch norm its input (a folded step passes its owned input on).
        let batch_norm_after = |i: usize, any_rank: bool| {
            let j = sole(i + 1)?;
            let op = &graph.nodes.get(j)?.op;
            let fits = match op {
                Op::BatchNorm2d(_) => true,
                Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => any_rank,
                _ => false,
            };
            match layer_of(j) {
                Some(Layer::BatchNorm2d(b)) if fits && super::plan::runs_in_place(op) => {
                    Some((j, b))
                }
                _ => None,
            }
        };
        let mut out = vec![FastLayer::Reference; n];
        let mut done = vec![false; n];
        // The packed layers made so far, by recipe, with their nodes.
        let mut packed: Vec<(Recipe, usize)> = Vec::new();
        for i in 0..n {
            if done[i] {
                continue;
            }
            let (Some(node), Some(layer)) = (graph.nodes.get(i), layer_of(i)) else {
                break;
            };
            // Broadcasting sums (position embeddings) run the reference kernel.
            let add = matches!(node.op, Op::Add)
                && graph
                    .layers
                    .get(i)
                    .is_some_and(|r| r.inputs.windows(2).all(|w| w[0] == w[1]));
            // Whether the node packs weights, and the batch norm it folds in.
            let (packs, bn) = match (&node.op, layer) {
                (Op::Conv2d(_), Layer::Conv2d(_)) => (true, batch_norm_after(i, false)),
                (Op::Conv3d(_) | Op::ConvTranspose(_), Layer::Conv2d(_)) => {
                    (true, batch_norm_after(i, true))
                }
                (Op::Linear(_), Layer::Linear(_))
                | (Op::MhaInProj { .. }, Layer::InProj(_))
                | (Op::BatchNorm2d(_), Layer::BatchNorm2d(_)) => (true, None),
                _ => (false, None),
            };
            let act = if packs || add {
                activation_after(bn.map_or(i, |(j, _)| j))
            } else {
                None
            };
            for k in [bn.map(|(j, _)| j), act.map(|(k, _)| k)]
                .into_iter()
                .flatten()
            {
                done[k] = true;
                out[k] = FastLayer::Folded { into: i };
            }
            let act = act.map(|(_, a)| a);
            if packs {
                let recipe = (
                    graph.tensor_owner(i),
                    bn.map(|(j, _)| graph.tensor_owner(j)),
                    act,
                );
                if let Some(&(_, with)) = packed.iter().find(|(r, _)| *r == recipe) {
                    out[i] = FastLayer::Shared { with };
                    continue;
                }
                packed.push((recipe, i));
            }
            let bn = bn.map(|(_, b)| b);
            out[i] = match (&node.op, layer) {
                (Op::Conv2d(c), Layer::Conv2d(l)) => FastLayer::Conv(fuse(
                    PackedConv::new(c, l.weight.data(), l.bias_data())?,
                    bn,
                    act,
                )?),
                (Op::Conv3d(c) | Op::ConvTranspose(c), Layer::Conv2d(l)) => {
                    FastLayer::ConvNd(fuse(
                        PackedConvNd::new(c, l.weight.data(), l.bias_data())?,
                        bn,
                        act,
                    )?)
                }
                (Op::Linear(c), Layer::Linear(l))
                | (Op::MhaInProj { linear: c, .. }, Layer::InProj(l)) => {
                    let p = PackedLinear::new(c, l.weight.data(), l.bias_data())?;
                    FastLayer::Linear(match act {
                        Some(a) => p.with_activation(a),
                        None => p,
                    })
                }
                (Op::BatchNorm2d(_), Layer::BatchNorm2d(b)) => {
                    let [gamma, beta, mean, var] = b.stats();
                    FastLayer::BatchNorm(PackedBatchNorm::new(gamma, beta, mean, var, b.eps)?, act)
                }
                (Op::Add, _) if add => FastLayer::Add(act),
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

/// Folds the batch norm `bn` after a convolution into its packed weights,
/// and fuses the activation `act` after that.
fn fuse<C>(
    mut p: PackedLayer<C>,
    bn: Option<&BatchNorm2d>,
    act: Option<Activation>,
) -> Result<PackedLayer<C>, Error> {
    if let Some(b) = bn {
        let [gamma, beta, mean, var] = b.stats();
        p = p.fold_batch_norm(gamma, beta, mean, var, b.eps)?;
    }
    Ok(match act {
        Some(a) => p.with_activation(a),
        None => p,
    })
}

impl Prepared {
    /// Node `i`'s fast layer: its own, or for a later application of a
    /// shared module the packed layer of the application it reuses.
    pub fn layer(&self, i: usize) -> Option<&FastLayer> {
        match self.layers.get(i)? {
            FastLayer::Shared { with } => self.layers.get(*with),
            own => Some(own),
        }
    }

    /// The node that does node `i`'s work, if `i` was fused into it.
    pub fn fused_into(&self, i: usize) -> Option<usize> {
        match self.layers.get(i) {
            Some(FastLayer::Folded { into }) => Some(*into),
            _ => None,
        }
    }

    /// Bytes of packed weights (a shared module's, once for each distinct
    /// set of fusions).
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
    /// largest tile any convolution of `graph` asks for (every application
    /// of a shared one on its own input), per thread.
    pub fn workspace_bytes(&self, graph: &Graph<'_>, n: usize, threads: usize) -> usize {
        let largest = (0..self.layers.len())
            .zip(graph.layers)
            .filter_map(|(i, info)| match (self.layer(i)?, info.inputs.first()) {
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
        // `Prepared::layer` resolves a shared layer to the one it reuses.
        FastLayer::Shared { .. } | FastLayer::Reference => reference::execute(op, layer, operands),
    }
}

#[cfg(test)]
mod tests {
    use crate::kernels::conv_nd::tests::conv_of;
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
                Op::ConvTranspose(ConvNd {
                    bias: true,
                    ..conv_of(2, true, 2, 3, 2, 2, 0, 0, 1, 1)
                }),
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
                Op::Conv3d(ConvNd {
                    bias: true,
                    ..conv_of(3, false, 2, 3, 3, 1, 1, 0, 1, 1)
                }),
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
                Op::ConvTranspose(conv_of(1, true, 2, 2, 3, 2, 1, 1, 1, 1)),
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

    /// `conv` (4 -> 4, 3x3, padding 1, no bias) on `[4, 6, 6]`, as a node.
    const CONV: Op = Op::Conv2d(netspec_model::Conv2d {
        in_channels: 4,
        out_channels: 4,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [[1, 1], [1, 1]],
        dilation: [1, 1],
        groups: 1,
        bias: false,
    });
    const BN4: Op = Op::BatchNorm2d(BatchNorm2d {
        channels: 4,
        eps: 1e-5,
    });
    const RELU: Op = Op::Activation(Activation::ReLU);
    const MAP: &[usize] = &[4, 6, 6];

    const fn on_map(name: &'static str, kind: &'static str) -> LayerInfo<'static> {
        LayerInfo::from_parts(name, kind, true, &[MAP], MAP, [0; 6], [0; 5])
    }

    /// A block module `conv -> bn -> ReLU` applied twice (the second
    /// application's conv and bn share the first's tensors).
    static TWICE: Graph<'static> = Graph {
        name: "Twice",
        input: MAP,
        nodes: &[
            Node::new(CONV, &[0]),
            Node::new(BN4, &[1]),
            Node::new(RELU, &[2]),
            Node::shared(CONV, &[3], 0),
            Node::shared(BN4, &[4], 1),
            Node::new(RELU, &[5]),
        ],
        layers: &[
            on_map("conv", "Conv2d"),
            on_map("bn", "BatchNorm2d"),
            on_map("relu", "ReLU"),
            on_map("conv", "Conv2d"),
            on_map("bn", "BatchNorm2d"),
            on_map("relu", "ReLU"),
        ],
        output: 6,
        outputs: &[],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    /// [`TWICE`] unrolled: the second application's own tensors.
    static TWIN: Graph<'static> = Graph {
        name: "Twin",
        nodes: &[
            Node::new(CONV, &[0]),
            Node::new(BN4, &[1]),
            Node::new(RELU, &[2]),
            Node::new(CONV, &[3]),
            Node::new(BN4, &[4]),
            Node::new(RELU, &[5]),
        ],
        layers: &[
            on_map("conv", "Conv2d"),
            on_map("bn", "BatchNorm2d"),
            on_map("relu", "ReLU"),
            on_map("conv2", "Conv2d"),
            on_map("bn2", "BatchNorm2d"),
            on_map("relu2", "ReLU"),
        ],
        ..TWICE
    };

    /// A shared conv whose applications fold differently: the first takes
    /// the batch norm and ReLU after it, the second (the output) nothing.
    static DIVERGING: Graph<'static> = Graph {
        name: "Diverging",
        input: MAP,
        nodes: &[
            Node::new(CONV, &[0]),
            Node::new(BN4, &[1]),
            Node::new(RELU, &[2]),
            Node::shared(CONV, &[3], 0),
        ],
        layers: &[
            on_map("conv", "Conv2d"),
            on_map("bn", "BatchNorm2d"),
            on_map("relu", "ReLU"),
            on_map("conv", "Conv2d"),
        ],
        output: 4,
        outputs: &[],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    /// The fast backend's output on `m` against the reference backend's.
    fn assert_backends_agree(m: &Model, what: &str) {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x = Tensor::new(&[2, 4, 6, 6], values(&mut rng, 288, -2.0, 2.0)).unwrap();
        let a = m.clone().with_backend(Backend::Fast).forward(&x).unwrap();
        let b = m
            .clone()
            .with_backend(Backend::Reference)
            .forward(&x)
            .unwrap();
        let largest = b.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = a.max_abs_diff(&b).unwrap();
        assert!(
            largest > 0.0 && diff <= 1e-5 * largest,
            "{what}: {diff} of {largest}"
        );
    }

    #[test]
    fn a_shared_module_is_packed_once() {
        let _threads = hold_threads();
        // SHARED (conv, relu, the conv again, add): the conv's weight and
        // bias (1 + 1 floats) once, as the conv alone would be.
        let single = Graph {
            nodes: &crate::model::tests::SHARED.nodes[..1],
            layers: &crate::model::tests::SHARED.layers[..1],
            output: 1,
            outputs: &[],
            ..crate::model::tests::SHARED
        };
        let single = Box::leak(Box::new(single));
        let shared = Model::random(&crate::model::tests::SHARED, 1);
        assert_eq!(Model::random(single, 1).packed_weight_bytes(), 2 * 4);
        assert_eq!(shared.packed_weight_bytes(), 2 * 4);
        let prepared = shared.prepared().unwrap();
        assert!(matches!(
            prepared.layers[2],
            super::FastLayer::Shared { with: 0 }
        ));
        assert!(matches!(prepared.layer(2), Some(super::FastLayer::Conv(_))));

        // A block module applied twice: one packed conv (4·4·9 weights and 4
        // biases, its batch norm folded in), half of the unrolled twin's;
        // each application's batch norm and ReLU fold into its own conv.
        // (Setting the statistics dropped the packed layers: pack them again.)
        let m = model(&TWICE).with_backend(Backend::Fast);
        let one = (4 * 4 * 9 + 4) * 4;
        assert_eq!(m.packed_weight_bytes(), one);
        assert_eq!(Model::random(&TWIN, 1).packed_weight_bytes(), 2 * one);
        let fused: Vec<Option<usize>> = (0..6).map(|i| m.fused_into(i)).collect();
        assert_eq!(fused, [None, Some(0), Some(0), None, Some(3), Some(3)]);
        // The workspace is the largest tile of either application, as the twin's.
        assert_eq!(
            m.workspace_bytes(2, 1),
            Model::random(&TWIN, 1).workspace_bytes(2, 1)
        );
        assert!(m.workspace_bytes(2, 1) > 0);
        assert_backends_agree(&m, "Twice");

        // Applications that fold different layers cannot share a packing:
        // the first has the batch norm folded in, the second is plain.
        let d = model(&DIVERGING).with_backend(Backend::Fast);
        assert_eq!(d.packed_weight_bytes(), 2 * one);
        assert_eq!((d.fused_into(1), d.fused_into(2)), (Some(0), Some(0)));
        assert_backends_agree(&d, "Diverging");
    }
}
