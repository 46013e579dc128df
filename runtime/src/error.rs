//! The runtime's error type: every message names the layer or tensor and the numbers involved.

use netspec_model::shape::shape_str;
use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong when building tensors, loading weights or running a model.
///
/// Messages are lowercase and self-contained, e.g.
/// ``weights do not match `SqueezeNet1_0` (1 problem):\n  `features.0.weight`: expected shape [96, 3, 7, 7], found [96, 3, 5, 5]``.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`Tensor::new`](crate::Tensor::new) was given a data length that does not
    /// match the product of the shape.
    #[error("a tensor of shape {} needs {} values, found {found}", shape_str(shape), expected.map_or_else(|| "more than usize::MAX".to_string(), |e| e.to_string()))]
    TensorData {
        /// The requested shape.
        shape: Vec<usize>,
        /// Product of the shape (`None` if it overflows `usize`).
        expected: Option<usize>,
        /// Length of the data given.
        found: usize,
    },

    /// A tensor was reshaped to a shape with a different element count.
    #[error(
        "cannot reshape {} ({numel} values) to {}",
        shape_str(from),
        shape_str(to)
    )]
    Reshape {
        /// The tensor's shape.
        from: Vec<usize>,
        /// Its element count.
        numel: usize,
        /// The requested shape.
        to: Vec<usize>,
    },

    /// The input given to [`Model::forward`](crate::Model::forward) is not `[N, input...]`.
    #[error(
        "`{network}` expects input [N, {}] with N >= 1, found {}",
        dims(expected),
        shape_str(found)
    )]
    InputShape {
        /// The network's name.
        network: String,
        /// Expected shape per sample (without the batch dimension).
        expected: Vec<usize>,
        /// The full shape that was given.
        found: Vec<usize>,
    },

    /// A weights file (or state dict) does not match the network. Holds every
    /// offender; the message lists the first [`SHOWN_PROBLEMS`], one per line,
    /// then how many more there are.
    #[error("weights do not match `{network}` ({}):{}", plural(problems.len(), "problem"), lines(problems))]
    Weights {
        /// The network's name.
        network: String,
        /// Every offending tensor, in graph order, unexpected names last (sorted).
        problems: Vec<WeightProblem>,
    },

    /// No tensor of that name exists in the model.
    #[error("`{network}` has no tensor named `{name}`")]
    UnknownTensor {
        /// The network's name.
        network: String,
        /// The name asked for.
        name: String,
    },

    /// A kernel was given tensors it cannot process (wrong rank or sizes).
    #[error("{op}: {message}")]
    Kernel {
        /// The operation (`Conv2d`, `MaxPool2d`, ...).
        op: &'static str,
        /// What is wrong, with the numbers.
        message: String,
    },

    /// A layer failed during the forward pass; wraps the kernel's error.
    #[error("layer {index} `{name}`: {source}")]
    Layer {
        /// Node index in the graph.
        index: usize,
        /// The layer's dotted name.
        name: String,
        /// What went wrong.
        source: Box<Error>,
    },

    /// The graph itself is malformed (a node reads a value that does not exist yet).
    #[error("malformed graph `{network}`: {message}")]
    Graph {
        /// The network's name.
        network: String,
        /// What is wrong.
        message: String,
    },

    /// The bytes are not a valid safetensors file.
    #[error("invalid safetensors data: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// One tensor that does not match between a weights file and a network.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightProblem {
    /// The network needs this tensor; the file does not have it.
    Missing {
        /// Full state-dict name (`features.0.weight`).
        name: String,
        /// Shape the network needs.
        shape: Vec<usize>,
    },
    /// The file has a tensor the network does not know.
    Unexpected {
        /// Full state-dict name.
        name: String,
        /// Its shape in the file.
        shape: Vec<usize>,
        /// The missing name closest to it, if close enough to be a misspelling.
        suggestion: Option<String>,
    },
    /// The shapes differ.
    Shape {
        /// Full state-dict name.
        name: String,
        /// Shape the network needs.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// The tensor is not `F32`.
    Dtype {
        /// Full state-dict name.
        name: String,
        /// Dtype in the file (`F16`, `I64`, ...).
        found: String,
    },
    /// A buffer the network computes from its configuration (a
    /// relative-position index) differs from the file's.
    Buffer {
        /// Full state-dict name.
        name: String,
        /// How it differs.
        message: String,
    },
}

impl fmt::Display for WeightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightProblem::Missing { name, shape } => {
                write!(f, "`{name}`: missing (expected shape {})", shape_str(shape))
            }
            WeightProblem::Unexpected {
                name,
                shape,
                suggestion,
            } => {
                write!(
                    f,
                    "`{name}`: unexpected tensor (shape {})",
                    shape_str(shape)
                )?;
                match suggestion {
                    Some(s) => write!(f, ", did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            WeightProblem::Shape {
                name,
                expected,
                found,
            } => write!(
                f,
                "`{name}`: expected shape {}, found {}",
                shape_str(expected),
                shape_str(found)
            ),
            WeightProblem::Dtype { name, found } => {
                write!(f, "`{name}`: expected dtype F32, found {found}")
            }
            WeightProblem::Buffer { name, message } => write!(f, "`{name}`: {message}"),
        }
    }
}

fn dims(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    parts.join(", ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// How many problems [`Error::Weights`] shows before "and N more".
pub const SHOWN_PROBLEMS: usize = 10;

/// The first [`SHOWN_PROBLEMS`] problems, each on its own indented line, then
/// "and N more".
fn lines(problems: &[WeightProblem]) -> String {
    let mut out = String::new();
    for p in problems.iter().take(SHOWN_PROBLEMS) {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    if problems.len() > SHOWN_PROBLEMS {
        out.push_str(&format!("\n  and {} more", problems.len() - SHOWN_PROBLEMS));
    }
    out
}

/// Shorthand for kernel errors.
pub(crate) fn kernel<T>(op: &'static str, message: String) -> Result<T, Error> {
    Err(Error::Kernel { op, message })
}
