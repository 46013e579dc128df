//! The graph's constants (attention masks, relative-position indices, which
//! the compiler computed from the network's configuration): decoded into
//! the layers that read them when a model is built, checked against the
//! buffers of the same name a state dict may carry, and written back as
//! those buffers.

use crate::error::WeightProblem;
use crate::layers::{Gather, Layer};
use crate::tensor::Tensor;
use netspec_model::info::Constant;
use netspec_model::{Graph, Op};
use safetensors::{Dtype, SafeTensors};

/// Gives every [`Op::Constant`] and [`Op::Gather`] node of `graph` its
/// decoded data. A constant that does not decode (a graph not made by the
/// `network!` macro) leaves its layer stateless, which the kernel reports
/// when the layer runs.
pub(crate) fn attach(graph: &Graph<'_>, layers: &mut [Layer]) {
    for (i, (node, layer)) in graph.nodes.iter().zip(layers.iter_mut()).enumerate() {
        match node.op {
            Op::Constant { index, shape } => {
                let values = graph.constants.get(index).and_then(|c| c.values().ok());
                if let Some(v) = values
                    .filter(|v| Some(v.len()) == netspec_model::shape::numel(shape.as_slice()))
                {
                    *layer = Layer::Constant(Tensor::from_parts(shape.as_slice().to_vec(), v));
                }
            }
            Op::Gather { dim, index, shape } => {
                let rank = graph
                    .layers
                    .get(i)
                    .and_then(|l| l.inputs.first())
                    .map(|s| s.len());
                let indices = graph.constants.get(index).and_then(|c| indices(c));
                if let (Some(rank), Some(indices)) = (rank, indices) {
                    if rank > dim
                        && Some(indices.len()) == netspec_model::shape::numel(shape.as_slice())
                    {
                        *layer = Layer::Gather(Gather {
                            indices,
                            from_end: rank - dim,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// The values of `c` as indices: non-negative integers.
fn indices(c: &Constant<'_>) -> Option<Vec<usize>> {
    let values = c.values().ok()?;
    values
        .iter()
        .map(|&v| (v >= 0.0 && v.fract() == 0.0 && v < 16_777_216.0).then_some(v as usize))
        .collect()
}

/// The named constants of `graph` (its buffers), with their values.
pub(crate) fn buffers<'g>(graph: &Graph<'g>) -> Vec<(&'g Constant<'g>, Result<Vec<f32>, String>)> {
    graph
        .constants
        .iter()
        .filter(|c| !c.name.is_empty())
        .map(|c| (c, c.values()))
        .collect()
}

/// The values of a safetensors tensor of a numeric dtype, as f64 (exact for
/// every f32 and for integers below 2^53).
fn numbers(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f64>> {
    fn read<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
        bytes
            .chunks_exact(N)
            .map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                f(b)
            })
            .collect()
    }
    Some(match dtype {
        Dtype::F32 => read::<4>(bytes, |b| f64::from(f32::from_le_bytes(b))),
        Dtype::F64 => read::<8>(bytes, f64::from_le_bytes),
        Dtype::I64 => read::<8>(bytes, |b| i64::from_le_bytes(b) as f64),
        Dtype::I32 => read::<4>(bytes, |b| f64::from(i32::from_le_bytes(b))),
        Dtype::I16 => read::<2>(bytes, |b| f64::from(i16::from_le_bytes(b))),
        Dtype::U8 => bytes.iter().map(|&b| f64::from(b)).collect(),
        Dtype::I8 => bytes.iter().map(|&b| f64::from(b as i8)).collect(),
        _ => return None,
    })
}

/// Checks each buffer of `graph` that `st` carries against the values the
/// compiler computed (its shape, then every value; any numeric dtype),
/// adding a problem for each that differs. A buffer `st` does not carry is
/// fine: the graph has its values.
pub(crate) fn check(graph: &Graph<'_>, st: &SafeTensors<'_>, problems: &mut Vec<WeightProblem>) {
    for (c, values) in buffers(graph) {
        let Ok(view) = st.tensor(c.name) else {
            continue;
        };
        let name = c.name.to_string();
        if view.shape() != c.shape {
            problems.push(WeightProblem::Shape {
                name,
                expected: c.shape.to_vec(),
                found: view.shape().to_vec(),
            });
            continue;
        }
        let (Ok(ours), Some(theirs)) = (values, numbers(view.dtype(), view.data())) else {
            problems.push(WeightProblem::Buffer {
                name,
                message: format!("a buffer of dtype {:?} cannot be compared with the values the network computes", view.dtype()),
            });
            continue;
        };
        let differs = ours
            .iter()
            .zip(&theirs)
            .enumerate()
            .find(|(_, (a, b))| f64::from(**a) != **b);
        if let Some((k, (a, b))) = differs {
            problems.push(WeightProblem::Buffer {
                name,
                message: format!("differs from the values the network computes from its configuration (value {k}: {b} in the file, {a} computed)"),
            });
        }
    }
}

/// The buffers of `graph` as safetensors data: integer buffers as I64 (as
/// PyTorch keeps an index), others as F32, so that PyTorch's
/// `load_state_dict(strict=True)` finds them.
pub(crate) fn encoded(graph: &Graph<'_>) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    buffers(graph)
        .into_iter()
        .filter_map(|(c, values)| {
            let values = values.ok()?;
            let (dtype, bytes) = if c.integer {
                (
                    Dtype::I64,
                    values
                        .iter()
                        .flat_map(|&v| (v as i64).to_le_bytes())
                        .collect(),
                )
            } else {
                (
                    Dtype::F32,
                    values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                )
            };
            Some((c.name.to_string(), dtype, c.shape.to_vec(), bytes))
        })
        .collect()
}
