//! Weights in and out: safetensors files holding a PyTorch state dict.

use super::plan::full_name;
use super::Model;
use crate::error::{Error, WeightProblem};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Graph, Op};
use safetensors::{Dtype, SafeTensors};
use std::collections::HashSet;
use std::path::Path;

/// Tensors in a safetensors file that [`Model::from_safetensors`] skips: the
/// reference input and output that the test fixtures carry.
pub const IGNORED_TENSORS: [&str; 2] = ["__input__", "__output__"];

impl Model {
    /// Loads weights from the bytes of a safetensors file holding a PyTorch
    /// state dict (f32, PyTorch layout).
    ///
    /// Strict: every tensor the graph needs must be present with its exact
    /// shape and dtype `F32`, and no other tensor may be present; all
    /// offenders are reported together in one [`Error::Weights`] (an
    /// unexpected name close to a missing one says "did you mean"). Skipped
    /// without complaint: `{batch_norm_layer}.num_batches_tracked` (a training
    /// counter) and the tensors named in [`IGNORED_TENSORS`] (`__input__`,
    /// `__output__`, which the test fixtures carry). A buffer the network
    /// computes from its configuration (declared `name: Buffer(...)`, such
    /// as torchvision's `relative_position_index`) may be present or not:
    /// if present, in any numeric dtype, it must equal the computed values.
    /// A module applied several times (shared weights) has its tensors in
    /// the file once, under its one path.
    pub fn from_safetensors(graph: &'static Graph<'static>, bytes: &[u8]) -> Result<Model, Error> {
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
        let st = SafeTensors::deserialize(bytes)?;
        let mut problems = Vec::new();
        let mut missing = Vec::new();
        let mut known: HashSet<String> = IGNORED_TENSORS.iter().map(|s| s.to_string()).collect();
        let mut built = Vec::with_capacity(graph.nodes.len());
        for (i, node) in graph.nodes.iter().enumerate() {
            // A later application of a shared module: its tensors are its
            // owner's, in the file once.
            if node.shares.is_some() {
                built.push(Some(Layer::Stateless));
                continue;
            }
            if matches!(node.op, Op::BatchNorm2d(_)) {
                known.insert(full_name(graph, i, "num_batches_tracked"));
            }
            let mut tensors = Vec::new();
            for s in node.op.stored_tensors() {
                let name = full_name(graph, i, s.suffix);
                known.insert(name.clone());
                let Ok(view) = st.tensor(&name) else {
                    missing.push(name.clone());
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
                    tensors.push(Tensor::from_parts(s.shape, data));
                }
            }
            built.push(Layer::build(&node.op, tensors));
        }
        // Buffers the network computes itself (a relative-position index):
        // checked against the file's when it has them, never required.
        super::constants::check(graph, &st, &mut problems);
        known.extend(
            graph
                .constants
                .iter()
                .filter(|c| !c.name.is_empty())
                .map(|c| c.name.to_string()),
        );
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
                    suggestion: closest(name, &missing).map(str::to_string),
                    name: name.to_string(),
                    shape,
                }),
        );
        let layers: Option<Vec<Layer>> = built.into_iter().collect();
        match layers {
            Some(layers) if problems.is_empty() => Ok(Model::new(graph, layers)),
            _ => Err(Error::Weights {
                network: graph.name.to_string(),
                problems,
            }),
        }
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
    /// `safetensors.torch.load_file` read back. The buffers the network
    /// computes (`name: Buffer(...)`) are written too, integer ones as I64,
    /// so that the file is a whole PyTorch state dict. A shared module's
    /// tensors are written once.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, Error> {
        let named = self.tensors();
        let bytes: Vec<Vec<u8>> = named
            .iter()
            .map(|(_, t)| t.data().iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let buffers = super::constants::encoded(self.graph);
        let mut views = Vec::with_capacity(named.len() + buffers.len());
        for ((name, t), b) in named.iter().zip(&bytes) {
            views.push((
                name.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, t.shape().to_vec(), b)?,
            ));
        }
        for (name, dtype, shape, b) in &buffers {
            views.push((
                name.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), b)?,
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
}

/// The candidate closest to `name` by edit distance, if it is close enough
/// to be a misspelling: at most a third of the name's length, as rustc's
/// "did you mean" allows. Ties go to the first candidate.
fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("weigth", "weight"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_only_close_names() {
        let missing = ["features.0.weight".to_string(), "fc.bias".to_string()];
        assert_eq!(
            closest("features.0.weigth", &missing),
            Some("features.0.weight")
        );
        assert_eq!(closest("fc.biass", &missing), Some("fc.bias"));
        assert_eq!(closest("classifier.1.weight", &missing), None);
        assert_eq!(closest("x", &[]), None);
    }
}
