//! A network graph with its weights: random init, safetensors I/O, forward pass.

use crate::error::{kernel, Error, WeightProblem};
use crate::kernels::{activation, conv, elementwise, linear, norm, pool};
use crate::tensor::Tensor;
use netspec_model::{Graph, LayerInfo, Node, Op};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::{Dtype, SafeTensors};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Tensors in a safetensors file that [`Model::from_safetensors`] skips: the
/// reference input and output that the test fixtures carry.
pub const IGNORED_TENSORS: [&str; 2] = ["__input__", "__output__"];

/// What [`Model::forward_observed`] reports after each layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerEvent<'a> {
    /// Node index in the graph (`graph.nodes[index]`).
    pub index: usize,
    /// The layer's record: name, kind, shapes and costs per sample.
    pub info: &'static LayerInfo<'static>,
    /// Wall time of the layer's kernel (the observer's own time excluded).
    pub elapsed: Duration,
    /// The layer's output, batched: `[N, info.output...]`.
    pub output: &'a Tensor,
}

/// A network ready to run: a `&'static` [`Graph`] (as the `network!` macro
/// emits it) and the tensors of every layer, named as in a PyTorch state dict
/// (`{graph.layers[i].name}.{suffix}`, see [`Op::stored_tensors`]) and stored
/// in PyTorch layout (conv weight `[C_out, C_in / groups, k_h, k_w]`, linear
/// weight `[out, in]`, biases and batch-norm statistics `[C]`).
#[derive(Clone)]
pub struct Model {
    graph: &'static Graph<'static>,
    /// `tensors[i]` holds node `i`'s tensors in `stored_tensors()` order.
    tensors: Vec<Vec<Tensor>>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("graph", &self.graph.name)
            .field("nodes", &self.graph.nodes.len())
            .field("tensors", &self.tensors.iter().map(Vec::len).sum::<usize>())
            .finish()
    }
}

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
    /// variance 1. Tensors are drawn in graph order, weight before bias.
    pub fn random(graph: &'static Graph<'static>, seed: u64) -> Model {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let tensors = graph
            .nodes
            .iter()
            .map(|node| {
                let fan_in = match &node.op {
                    Op::Conv2d(c) => c.in_channels / c.groups.max(1) * c.kernel[0] * c.kernel[1],
                    Op::Linear(l) => l.in_features,
                    _ => 0,
                };
                let bound = if fan_in == 0 {
                    0.0
                } else {
                    1.0 / (fan_in as f32).sqrt()
                };
                node.op
                    .stored_tensors()
                    .into_iter()
                    .map(|s| {
                        let n: usize = s.shape.iter().product();
                        let data = match (&node.op, s.suffix) {
                            (Op::BatchNorm2d(_), "weight" | "running_var") => vec![1.0; n],
                            (Op::BatchNorm2d(_), _) => vec![0.0; n],
                            _ => (0..n).map(|_| uniform(&mut rng, bound)).collect(),
                        };
                        Tensor::from_parts(s.shape, data)
                    })
                    .collect()
            })
            .collect();
        Model { graph, tensors }
    }

    /// The graph this model runs.
    pub fn graph(&self) -> &'static Graph<'static> {
        self.graph
    }

    fn layer_name(&self, index: usize) -> &str {
        self.graph.layers.get(index).map_or("", |l| l.name)
    }

    fn full_name(&self, index: usize, suffix: &str) -> String {
        match self.layer_name(index) {
            "" => suffix.to_string(),
            name => format!("{name}.{suffix}"),
        }
    }

    fn check_layers(graph: &Graph<'_>) -> Result<(), Error> {
        if graph.layers.len() != graph.nodes.len() {
            return Err(Error::Graph {
                network: graph.name.to_string(),
                message: format!(
                    "{} nodes but {} layer records",
                    graph.nodes.len(),
                    graph.layers.len()
                ),
            });
        }
        Ok(())
    }

    /// Every tensor with its state-dict name, in graph order.
    pub fn tensors(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for (i, node) in self.graph.nodes.iter().enumerate() {
            for (s, t) in node.op.stored_tensors().iter().zip(&self.tensors[i]) {
                out.push((self.full_name(i, s.suffix), t));
            }
        }
        out
    }

    /// Finds `(node, position)` of a state-dict name.
    fn locate(&self, name: &str) -> Option<(usize, usize)> {
        for (i, node) in self.graph.nodes.iter().enumerate() {
            let layer = self.layer_name(i);
            let suffix = if layer.is_empty() {
                Some(name)
            } else {
                name.strip_prefix(layer).and_then(|r| r.strip_prefix('.'))
            };
            if let Some(suffix) = suffix {
                if let Some(j) = node
                    .op
                    .stored_tensors()
                    .iter()
                    .position(|s| s.suffix == suffix)
                {
                    return Some((i, j));
                }
            }
        }
        None
    }

    /// The tensor named `name` (`features.0.weight`), if the model has one.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.locate(name).map(|(i, j)| &self.tensors[i][j])
    }

    /// Replaces the tensor named `name`; `value` must have the same shape.
    pub fn set_tensor(&mut self, name: &str, value: Tensor) -> Result<(), Error> {
        let Some((i, j)) = self.locate(name) else {
            return Err(Error::UnknownTensor {
                network: self.graph.name.to_string(),
                name: name.to_string(),
            });
        };
        let slot = &mut self.tensors[i][j];
        if slot.shape() != value.shape() {
            return Err(Error::Weights {
                network: self.graph.name.to_string(),
                problems: vec![WeightProblem::Shape {
                    name: name.to_string(),
                    expected: slot.shape().to_vec(),
                    found: value.shape().to_vec(),
                }],
            });
        }
        *slot = value;
        Ok(())
    }

    /// Loads weights from the bytes of a safetensors file holding a PyTorch
    /// state dict (f32, PyTorch layout).
    ///
    /// Strict: every tensor the graph needs must be present with its exact
    /// shape and dtype `F32`, and no other tensor may be present; all
    /// offenders are reported together in one [`Error::Weights`]. Skipped
    /// without complaint: `{batch_norm_layer}.num_batches_tracked` (a training
    /// counter) and the tensors named in [`IGNORED_TENSORS`] (`__input__`,
    /// `__output__`, which the test fixtures carry).
    pub fn from_safetensors(graph: &'static Graph<'static>, bytes: &[u8]) -> Result<Model, Error> {
        Self::check_layers(graph)?;
        let st = SafeTensors::deserialize(bytes)?;
        let mut model = Model {
            graph,
            tensors: Vec::with_capacity(graph.nodes.len()),
        };
        let mut problems = Vec::new();
        let mut known: HashSet<String> = IGNORED_TENSORS.iter().map(|s| s.to_string()).collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            if matches!(node.op, Op::BatchNorm2d(_)) {
                known.insert(model.full_name(i, "num_batches_tracked"));
            }
            let mut layer = Vec::new();
            for s in node.op.stored_tensors() {
                let name = model.full_name(i, s.suffix);
                known.insert(name.clone());
                let Ok(view) = st.tensor(&name) else {
                    problems.push(WeightProblem::Missing {
                        name,
                        shape: s.shape,
                    });
                    continue;
                };
                if view.dtype() != Dtype::F32 {
                    problems.push(WeightProblem::Dtype {
                        name,
                        found: format!("{:?}", view.dtype()),
                    });
                } else if view.shape() != s.shape.as_slice() {
                    problems.push(WeightProblem::Shape {
                        name,
                        expected: s.shape,
                        found: view.shape().to_vec(),
                    });
                } else {
                    let data = view
                        .data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    layer.push(Tensor::from_parts(s.shape, data));
                }
            }
            model.tensors.push(layer);
        }
        let mut unexpected: Vec<(&str, Vec<usize>)> = st
            .iter()
            .filter(|(name, _)| !known.contains(*name))
            .map(|(name, view)| (name, view.shape().to_vec()))
            .collect();
        unexpected.sort();
        problems.extend(
            unexpected
                .into_iter()
                .map(|(name, shape)| WeightProblem::Unexpected {
                    name: name.to_string(),
                    shape,
                }),
        );
        if !problems.is_empty() {
            return Err(Error::Weights {
                network: graph.name.to_string(),
                problems,
            });
        }
        Ok(model)
    }

    /// Reads a safetensors file and loads it as [`Model::from_safetensors`] does.
    pub fn load_safetensors(
        graph: &'static Graph<'static>,
        path: impl AsRef<Path>,
    ) -> Result<Model, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Model::from_safetensors(graph, &bytes)
    }

    /// The weights as a safetensors file (state-dict names, f32, PyTorch
    /// layout), which [`Model::from_safetensors`] and PyTorch's
    /// `safetensors.torch.load_file` read back.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, Error> {
        Self::check_layers(self.graph)?;
        let named = self.tensors();
        let bytes: Vec<Vec<u8>> = named
            .iter()
            .map(|(_, t)| t.data().iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let mut views = Vec::with_capacity(named.len());
        for ((name, t), b) in named.iter().zip(&bytes) {
            views.push((
                name.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, t.shape().to_vec(), b)?,
            ));
        }
        Ok(safetensors::serialize(views, None)?)
    }

    /// Writes [`Model::to_safetensors`] to `path`.
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let bytes = self.to_safetensors()?;
        std::fs::write(path, bytes).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Runs the network on a batch `x` of shape `[N, graph.input...]`, `N >= 1`,
    /// and returns `[N, output...]`. Each intermediate value is freed after its
    /// last use.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.forward_observed(x, &mut |_| {})
    }

    /// [`Model::forward`], calling `observer` after each layer with the layer's
    /// index, record, kernel time and output (for per-layer timing or checks).
    pub fn forward_observed(
        &self,
        x: &Tensor,
        observer: &mut dyn FnMut(LayerEvent<'_>),
    ) -> Result<Tensor, Error> {
        let g = self.graph;
        Self::check_layers(g)?;
        let s = x.shape();
        if s.len() != g.input.len() + 1 || s[0] == 0 || s[1..] != *g.input {
            return Err(Error::InputShape {
                network: g.name.to_string(),
                expected: g.input.to_vec(),
                found: s.to_vec(),
            });
        }
        let malformed = |message: String| Error::Graph {
            network: g.name.to_string(),
            message,
        };
        // Remaining reads of each value; the output is pinned.
        let mut uses = vec![0usize; g.nodes.len() + 1];
        for (i, node) in g.nodes.iter().enumerate() {
            for &v in node.inputs {
                if v > i {
                    return Err(malformed(format!(
                        "node {i} reads value {v}, which is not computed before it"
                    )));
                }
                uses[v] += 1;
            }
        }
        if g.output > g.nodes.len() {
            return Err(malformed(format!(
                "output value {} does not exist ({} nodes)",
                g.output,
                g.nodes.len()
            )));
        }
        uses[g.output] += 1;
        let mut values: Vec<Option<Cow<'_, Tensor>>> = vec![None; g.nodes.len() + 1];
        values[0] = Some(Cow::Borrowed(x));
        for (i, node) in g.nodes.iter().enumerate() {
            let start = Instant::now();
            let out = self
                .run(i, node, &mut values, &mut uses)
                .map_err(|e| Error::Layer {
                    index: i,
                    name: self.layer_name(i).to_string(),
                    source: Box::new(e),
                })?;
            let elapsed = start.elapsed();
            observer(LayerEvent {
                index: i,
                info: &g.layers[i],
                elapsed,
                output: &out,
            });
            if uses[i + 1] > 0 {
                values[i + 1] = Some(Cow::Owned(out));
            }
        }
        match values[g.output].take() {
            Some(t) => Ok(t.into_owned()),
            None => Err(malformed(format!(
                "output value {} was never computed",
                g.output
            ))),
        }
    }

    /// Runs node `i`, consuming one read of each input (freeing inputs read for
    /// the last time; taking them over for in-place operations).
    fn run(
        &self,
        i: usize,
        node: &Node<'_>,
        values: &mut [Option<Cow<'_, Tensor>>],
        uses: &mut [usize],
    ) -> Result<Tensor, Error> {
        let params = &self.tensors[i];
        let p = |j: usize| params.get(j).map(Tensor::data);
        let w = || p(0).unwrap_or(&[]);
        let one = || match node.inputs {
            [v] => Ok(*v),
            _ => Err(Error::Kernel {
                op: node.op.kind(),
                message: format!("takes one input, found {}", node.inputs.len()),
            }),
        };
        let out = match &node.op {
            // In-place operations own their (first) input.
            Op::BatchNorm2d(b) => {
                let mut t = take(values, uses, one()?)?;
                let [g, b_, m, v] = [0, 1, 2, 3].map(|j| p(j).unwrap_or(&[]));
                norm::batch_norm(&mut t, g, b_, m, v, b.eps)?;
                return Ok(t);
            }
            Op::Activation(a) => {
                let mut t = take(values, uses, one()?)?;
                activation::activation_in_place(&mut t, *a);
                return Ok(t);
            }
            Op::Softmax => {
                let mut t = take(values, uses, one()?)?;
                activation::softmax_in_place(&mut t)?;
                return Ok(t);
            }
            Op::Flatten => return elementwise::flatten(take(values, uses, one()?)?),
            Op::Dropout { .. } | Op::Identity | Op::StochasticDepth { .. } => {
                return take(values, uses, one()?)
            }
            Op::Mean { keepdim } => {
                // The spatial mean is adaptive average pooling to 1x1 (flattened
                // unless the dimensions are kept).
                let pooled = pool::adaptive_avg_pool2d(input(values, one()?)?, [1, 1])?;
                if *keepdim {
                    pooled
                } else {
                    elementwise::flatten(pooled)?
                }
            }
            Op::Add => {
                let [first, rest @ ..] = node.inputs else {
                    return kernel("Add", "needs at least one input".to_string());
                };
                let mut acc = take(values, uses, *first)?;
                for &v in rest {
                    elementwise::add_assign(&mut acc, input(values, v)?)?;
                }
                release(rest, values, uses);
                return Ok(acc);
            }
            Op::Conv2d(c) => conv::conv2d(input(values, one()?)?, w(), p(1), c)?,
            Op::Linear(l) => linear::linear(input(values, one()?)?, w(), p(1), l)?,
            Op::MaxPool2d(pl) => pool::max_pool2d(input(values, one()?)?, pl)?,
            Op::AvgPool2d(pl) => pool::avg_pool2d(input(values, one()?)?, pl)?,
            Op::AdaptiveAvgPool2d { output } => {
                pool::adaptive_avg_pool2d(input(values, one()?)?, *output)?
            }
            Op::Slice { start, len } => {
                elementwise::slice_channels(input(values, one()?)?, *start, *len)?
            }
            Op::ChannelShuffle { groups } => {
                elementwise::channel_shuffle(input(values, one()?)?, *groups)?
            }
            Op::Concat => {
                let inputs = node
                    .inputs
                    .iter()
                    .map(|&v| input(values, v))
                    .collect::<Result<Vec<_>, _>>()?;
                elementwise::concat(&inputs)?
            }
            Op::Mul => match node.inputs {
                [a, b] => elementwise::mul(input(values, *a)?, input(values, *b)?)?,
                _ => {
                    return kernel(
                        "Mul",
                        format!("takes two inputs, found {}", node.inputs.len()),
                    )
                }
            },
        };
        release(node.inputs, values, uses);
        Ok(out)
    }
}

/// The value `v`, borrowed.
fn input<'v>(values: &'v [Option<Cow<'_, Tensor>>], v: usize) -> Result<&'v Tensor, Error> {
    values
        .get(v)
        .and_then(Option::as_deref)
        .ok_or_else(|| missing(v))
}

/// The value `v`, owned: moved out if this is its last read, cloned otherwise.
fn take(
    values: &mut [Option<Cow<'_, Tensor>>],
    uses: &mut [usize],
    v: usize,
) -> Result<Tensor, Error> {
    let (Some(slot), Some(u)) = (values.get_mut(v), uses.get_mut(v)) else {
        return Err(missing(v));
    };
    *u = u.saturating_sub(1);
    let t = if *u == 0 {
        slot.take().map(Cow::into_owned)
    } else {
        slot.as_deref().cloned()
    };
    t.ok_or_else(|| missing(v))
}

/// Consumes one read of each of `inputs`, freeing values read for the last time.
fn release(inputs: &[usize], values: &mut [Option<Cow<'_, Tensor>>], uses: &mut [usize]) {
    for &v in inputs {
        if let Some(u) = uses.get_mut(v) {
            *u = u.saturating_sub(1);
            if *u == 0 {
                values[v] = None;
            }
        }
    }
}

fn missing(v: usize) -> Error {
    Error::Kernel {
        op: "graph",
        message: format!("value {v} is not available"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netspec_model::{Activation, BatchNorm2d, Conv2d, Linear, Totals};

    const NO_TOTALS: Totals = Totals::ZERO;

    const fn info(name: &'static str, kind: &'static str) -> LayerInfo<'static> {
        LayerInfo::from_parts(name, kind, true, &[], &[], [0; 6], [0; 5])
    }

    const fn conv(cin: usize, cout: usize, k: usize, pad: usize, bias: bool) -> Op {
        Op::Conv2d(Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: [k, k],
            stride: [1, 1],
            padding: [[pad, pad], [pad, pad]],
            dilation: [1, 1],
            groups: 1,
            bias,
        })
    }

    /// x -> conv1x1(2 -> 2) -> bn -> relu -> (+ x) -> relu
    static RESIDUAL: Graph<'static> = Graph {
        name: "Residual",
        input: &[2, 2, 2],
        nodes: &[
            Node {
                op: conv(2, 2, 1, 0, true),
                inputs: &[0],
            },
            Node {
                op: Op::BatchNorm2d(BatchNorm2d {
                    channels: 2,
                    eps: 0.0,
                }),
                inputs: &[1],
            },
            Node {
                op: Op::Activation(Activation::ReLU),
                inputs: &[2],
            },
            Node {
                op: Op::Add,
                inputs: &[3, 0],
            },
            Node {
                op: Op::Activation(Activation::ReLU),
                inputs: &[4],
            },
        ],
        layers: &[
            info("block.conv", "Conv2d"),
            info("block.bn", "BatchNorm2d"),
            info("block.relu", "ReLU"),
            info("block.add", "Add"),
            info("relu", "ReLU"),
        ],
        output: 5,
        scopes: &[],
        totals: NO_TOTALS,
    };

    /// Fire-like: x -> (conv1x1 1 -> 2, conv3x3 1 -> 1) -> cat -> avgpool(1) -> flatten -> linear(3 -> 1)
    static CONCAT: Graph<'static> = Graph {
        name: "Concat",
        input: &[1, 2, 2],
        nodes: &[
            Node {
                op: conv(1, 2, 1, 0, false),
                inputs: &[0],
            },
            Node {
                op: conv(1, 1, 3, 1, false),
                inputs: &[0],
            },
            Node {
                op: Op::Concat,
                inputs: &[1, 2],
            },
            Node {
                op: Op::AdaptiveAvgPool2d { output: [1, 1] },
                inputs: &[3],
            },
            Node {
                op: Op::Flatten,
                inputs: &[4],
            },
            Node {
                op: Op::Linear(Linear {
                    in_features: 3,
                    out_features: 1,
                    bias: true,
                }),
                inputs: &[5],
            },
        ],
        layers: &[
            info("expand1x1", "Conv2d"),
            info("expand3x3", "Conv2d"),
            info("cat", "Concat"),
            info("pool", "AdaptiveAvgPool2d"),
            info("flatten", "Flatten"),
            info("fc", "Linear"),
        ],
        output: 6,
        scopes: &[],
        totals: NO_TOTALS,
    };

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn residual_block() {
        let mut m = Model::random(&RESIDUAL, 0);
        // conv: y0 = 2·x0 + 1, y1 = 2·x1 - 1; batch norm with eps 0 is the identity.
        m.set_tensor("block.conv.weight", t(&[2, 2, 1, 1], &[2.0, 0.0, 0.0, 2.0]))
            .unwrap();
        m.set_tensor("block.conv.bias", t(&[2], &[1.0, -1.0]))
            .unwrap();
        // x: channel 0 [1, -2, 3, -4], channel 1 [0.5, 0.5, -3, 1].
        // conv: [3, -3, 7, -7], [0, 0, -7, 1]; relu: [3, 0, 7, 0], [0, 0, 0, 1];
        // + x: [4, -2, 10, -4], [0.5, 0.5, -3, 2]; relu: [4, 0, 10, 0], [0.5, 0.5, 0, 2].
        let sample = [1.0, -2.0, 3.0, -4.0, 0.5, 0.5, -3.0, 1.0];
        let expect = [4.0, 0.0, 10.0, 0.0, 0.5, 0.5, 0.0, 2.0];
        let x = t(&[2, 2, 2, 2], &[sample, sample].concat());
        let mut seen = Vec::new();
        let y = m
            .forward_observed(&x, &mut |e| {
                seen.push((e.index, e.info.name, e.output.shape().to_vec()))
            })
            .unwrap();
        assert_eq!(y.shape(), &[2, 2, 2, 2]);
        assert_eq!(y.data(), &[expect, expect].concat()[..]);
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[3], (3, "block.add", vec![2, 2, 2, 2]));
        // The input is not consumed by the in-place layers.
        assert_eq!(x.data()[..8], sample);
    }

    #[test]
    fn concat_branches() {
        let mut m = Model::random(&CONCAT, 0);
        m.set_tensor("expand1x1.weight", t(&[2, 1, 1, 1], &[1.0, -1.0]))
            .unwrap();
        m.set_tensor("expand3x3.weight", t(&[1, 1, 3, 3], &[1.0; 9]))
            .unwrap();
        m.set_tensor("fc.weight", t(&[1, 3], &[1.0, 1.0, 1.0]))
            .unwrap();
        m.set_tensor("fc.bias", t(&[1], &[0.5])).unwrap();
        // x = [1, 2, 3, 4]: 1x1 branch [1, 2, 3, 4] and [-1, -2, -3, -4]; the 3x3
        // window with padding 1 covers the whole 2x2 input: [10, 10, 10, 10].
        // Means [2.5, -2.5, 10]; fc: 2.5 - 2.5 + 10 + 0.5 = 10.5.
        let y = m.forward(&t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0])).unwrap();
        assert_eq!((y.shape(), y.data()), (&[1, 1][..], &[10.5][..]));
    }

    #[test]
    fn bad_input_shape_names_expected_and_found() {
        let m = Model::random(&RESIDUAL, 0);
        let e = m.forward(&Tensor::zeros(&[2, 2, 2]).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`Residual` expects input [N, 2, 2, 2] with N >= 1, found [2, 2, 2]"
        );
        let e = m
            .forward(&Tensor::zeros(&[0, 2, 2, 2]).unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`Residual` expects input [N, 2, 2, 2] with N >= 1, found [0, 2, 2, 2]"
        );
    }

    fn file(entries: &[(&str, Dtype, &[usize])]) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = entries
            .iter()
            .map(|(_, d, s)| vec![0u8; s.iter().product::<usize>() * d.bitsize() / 8])
            .collect();
        let views: Vec<_> = entries
            .iter()
            .zip(&bytes)
            .map(|((n, d, s), b)| {
                (
                    n.to_string(),
                    safetensors::tensor::TensorView::new(*d, s.to_vec(), b).unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    #[test]
    fn bad_weights_list_every_offender() {
        let bytes = file(&[
            ("block.conv.weight", Dtype::F32, &[2, 2, 3, 3]),
            ("block.bn.weight", Dtype::F16, &[2]),
            ("block.bn.bias", Dtype::F32, &[2]),
            ("block.bn.running_mean", Dtype::F32, &[2]),
            ("block.bn.running_var", Dtype::F32, &[2]),
            ("block.bn.num_batches_tracked", Dtype::I64, &[]),
            ("__input__", Dtype::F32, &[1, 2, 2, 2]),
            ("head.weight", Dtype::F32, &[10, 2]),
        ]);
        let e = Model::from_safetensors(&RESIDUAL, &bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "weights do not match `Residual` (4 problems): \
             `block.conv.weight`: expected shape [2, 2, 1, 1], found [2, 2, 3, 3]; \
             `block.conv.bias`: missing (expected shape [2]); \
             `block.bn.weight`: expected dtype F32, found F16; \
             `head.weight`: unexpected tensor (shape [10, 2])"
        );
        let Error::Weights { problems, .. } = e else {
            panic!("not a weights error")
        };
        assert_eq!(problems.len(), 4);
        let e = Model::from_safetensors(&RESIDUAL, b"not a file").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid safetensors data: "),
            "{e}"
        );
        let e = Model::load_safetensors(&RESIDUAL, "/nonexistent/w.safetensors").unwrap_err();
        assert!(
            e.to_string().starts_with("/nonexistent/w.safetensors: "),
            "{e}"
        );
    }

    #[test]
    fn safetensors_round_trip() {
        let m = Model::random(&CONCAT, 3);
        let bytes = m.to_safetensors().unwrap();
        let back = Model::from_safetensors(&CONCAT, &bytes).unwrap();
        assert_eq!(m.tensors(), back.tensors());
        let x = t(
            &[3, 1, 2, 2],
            &(0..12).map(|i| i as f32).collect::<Vec<_>>(),
        );
        assert_eq!(m.forward(&x).unwrap(), back.forward(&x).unwrap());
        let path =
            std::env::temp_dir().join(format!("netspec-rt-{}.safetensors", std::process::id()));
        m.save_safetensors(&path).unwrap();
        let loaded = Model::load_safetensors(&CONCAT, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(m.tensors(), loaded.tensors());
    }

    #[test]
    fn random_init_is_deterministic_and_pytorch_like() {
        let a = Model::random(&RESIDUAL, 42);
        assert_eq!(a.tensors(), Model::random(&RESIDUAL, 42).tensors());
        assert_ne!(a.tensors(), Model::random(&RESIDUAL, 43).tensors());
        // fan_in of a 1x1 conv over 2 channels is 2: bound 1/sqrt(2).
        let w = a.tensor("block.conv.weight").unwrap();
        assert!(w
            .data()
            .iter()
            .all(|v| v.abs() <= std::f32::consts::FRAC_1_SQRT_2));
        assert_eq!(a.tensor("block.bn.weight").unwrap().data(), &[1.0, 1.0]);
        assert_eq!(a.tensor("block.bn.bias").unwrap().data(), &[0.0, 0.0]);
        assert_eq!(
            a.tensor("block.bn.running_mean").unwrap().data(),
            &[0.0, 0.0]
        );
        assert_eq!(
            a.tensor("block.bn.running_var").unwrap().data(),
            &[1.0, 1.0]
        );
        // Pinned values: the same seed must give the same weights on every
        // platform and after dependency upgrades.
        let first: Vec<f32> = w.data().to_vec();
        assert_eq!(first, PINNED_SEED_42);
        assert!(a.tensor("nope.weight").is_none());
        let mut b = a.clone();
        let e = b
            .set_tensor("block.conv.bias", Tensor::zeros(&[3]).unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "weights do not match `Residual` (1 problem): `block.conv.bias`: expected shape [2], found [3]"
        );
    }

    const PINNED_SEED_42: [f32; 4] = [-0.390_208_75, 0.257_24, -0.500_085_4, 0.636_785_5];
}
