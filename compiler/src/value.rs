//! Values of the language at expansion time.
//!
//! Spans, the error collector and suggestions live in their own modules and
//! are re-exported here for the stages that import them from `value`.

pub use crate::errors::Errors;
pub use crate::span::Range;
pub use crate::suggest::{did_you_mean, suggest};

/// A tensor flowing through the network: its value id and per-sample shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorVal {
    /// Value id (0 the input, `i + 1` the output of node `i`).
    pub id: usize,
    /// Per-sample shape; for an unbatched value, its full shape.
    pub shape: Vec<usize>,
    /// Whether the value has a batch dimension (everything computed from
    /// the input). A learnable tensor declared in the network, and what is
    /// computed from such tensors alone, is unbatched: the same for every
    /// sample, its shape its full PyTorch shape.
    pub batched: bool,
}

/// A compile-time array: a constant tensor computed by the compiler from
/// the network's configuration (`arange(7)`, a shifted-window mask), in
/// PyTorch's terms on its full shape (an array has no batch). It costs
/// nothing until it meets a tensor, where it becomes a constant of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayVal {
    /// Full shape (at least one dimension; a 0-d result is a number).
    pub shape: Vec<usize>,
    /// Values in row-major order, shared between copies of the value.
    pub data: std::rc::Rc<Vec<f64>>,
    /// Every value is an integer (from `arange` of integers, integer
    /// arithmetic, comparisons): `/` floors, and the array can index.
    pub integer: bool,
    /// For an array declared `name: Buffer(...)`: its entry in the
    /// network's constants table, which carries the state-dict name.
    pub buffer: Option<usize>,
}

/// A module value: a layer or block bound under a path without being
/// applied (`let branch = branch: Conv2d(64, 3);`), applied any number of
/// times (`a -> branch`, `branch(a)`), every application with the same
/// tensors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleVal {
    /// Its index among the network's module definitions.
    pub index: usize,
    /// Its dotted path (the state-dict prefix of its tensors).
    pub path: String,
}

/// A value. `Poison` stands for the result of something that already failed,
/// so one mistake is reported once and not again by everything downstream.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (`"same"`).
    Str(String),
    /// A tuple (`(3, 1)`, or the outputs of `chunk`).
    Tuple(Vec<Value>),
    /// A tensor.
    Tensor(TensorVal),
    /// A compile-time array.
    Array(ArrayVal),
    /// A module, not yet applied.
    Module(ModuleVal),
    /// The result of an error already reported.
    Poison,
}

impl Value {
    /// What the value is, for messages: "an integer", "a tensor".
    pub fn describe(&self) -> String {
        match self {
            Value::Int(v) => format!("the integer {v}"),
            Value::Float(v) => format!("the float {v}"),
            Value::Bool(v) => format!("the boolean {v}"),
            Value::Str(v) => format!("the string {v:?}"),
            Value::Tuple(v) => format!("a tuple of {}", v.len()),
            Value::Tensor(t) if t.batched => {
                format!("a tensor {}", netspec_model::shape::shape_str(&t.shape))
            }
            Value::Tensor(t) => format!(
                "an unbatched tensor {}",
                netspec_model::shape::shape_str(&t.shape)
            ),
            Value::Array(a) => format!(
                "{} array {}",
                if a.integer { "an integer" } else { "a float" },
                netspec_model::shape::shape_str(&a.shape)
            ),
            Value::Module(m) => format!("the module `{}`", m.path),
            Value::Poison => "an invalid value".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_describe_themselves_for_messages() {
        assert_eq!(Value::Int(3).describe(), "the integer 3");
        assert_eq!(Value::Str("same".into()).describe(), "the string \"same\"");
        assert_eq!(
            Value::Tuple(vec![Value::Int(1), Value::Bool(true)]).describe(),
            "a tuple of 2"
        );
        let t = TensorVal {
            id: 0,
            shape: vec![3, 8, 8],
            batched: true,
        };
        assert_eq!(Value::Tensor(t).describe(), "a tensor [3, 8, 8]");
        let m = ModuleVal {
            index: 0,
            path: "encoder.branch".into(),
        };
        assert_eq!(Value::Module(m).describe(), "the module `encoder.branch`");
    }
}
