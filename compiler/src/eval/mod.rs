//! Instantiation: evaluates a network's body at expansion time, expanding
//! blocks, lists and repetitions into a flat graph of nodes, inferring every
//! shape on the way and naming every layer by its dotted path.
//!
//! One stage per file:
//! - `eval/expr.rs`: expressions, `let` bindings, operators and tensor fields;
//! - `eval/builtins.rs`: the built-in functions (`cat`, `chunk`, `make_divisible`, ...);
//! - `eval/expand.rs`: `->` stages: block calls (argument binding), lists, `for`,
//!   `if` and repetitions;
//! - `eval/modules.rs`: module values (`let branch = branch: Conv2d(64, 3);`)
//!   and their applications, which share the first application's tensors;
//! - `eval/graph.rs`: node creation, shape inference and naming, and the
//!   per-sample views of unbatched values;
//! - `eval/tensor_ops.rs`, `eval/dims.rs`: the tensor functions of any rank
//!   and their arguments (PyTorch's dimensions as per-sample axes);
//! - `eval/attention.rs`: scaled dot-product attention and
//!   `MultiheadAttention`, lowered to their nodes;
//! - `eval/tensor_expr.rs`: method calls, indexing, named sources, tensor
//!   arithmetic;
//! - `eval/arrays.rs`, `eval/array_expr.rs`, `eval/array_data.rs`:
//!   compile-time arrays; `eval/constants.rs`: where they meet the graph
//!   (constants, buffers, gathers);
//! - [`limits`]: the one expansion budget every step draws on, and the
//!   nesting limits.

mod array_data;
mod array_expr;
pub mod arrays;
mod attention;
mod builtins;
pub mod constants;
mod dims;
mod expand;
mod expr;
mod graph;
pub mod limits;
mod modules;
mod resample;
mod tensor_expr;
mod tensor_ops;

use crate::ast::{BlockDef, NetworkDef};
use crate::value::{Errors, Range, TensorVal, Value};
use limits::Limits;
use netspec_model::{Costs, Op};
use std::collections::HashMap;

/// One node of the instantiated graph.
#[derive(Clone, Debug)]
pub struct NodeRec {
    /// What it computes.
    pub op: Op,
    /// Value ids it reads.
    pub inputs: Vec<usize>,
    /// Dotted path.
    pub name: String,
    /// Named by the user (stage name or list index) rather than automatically.
    pub module: bool,
    /// Declared `inplace = true`: the output reuses the input's storage.
    pub inplace: bool,
    /// Input shapes.
    pub input_shapes: Vec<Vec<usize>>,
    /// Output shape.
    pub output: Vec<usize>,
    /// Costs.
    pub costs: Costs,
    /// Range of the tokens that created it.
    pub span: Range,
    /// For a later application of a shared module: the node whose tensors
    /// it uses (the first application's, at the same path). Its `costs`
    /// then count no params or buffers.
    pub shares: Option<usize>,
}

/// A scope: a block instance or a named list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRec {
    /// Dotted path.
    pub path: String,
    /// The block's name, or `Sequential`.
    pub kind: String,
    /// Index of the first node created in it.
    pub start: usize,
    /// For a block module: which application (from 1); 0 otherwise.
    pub application: usize,
}

/// An instantiated network.
#[derive(Debug)]
pub struct Instance {
    /// Nodes in execution order.
    pub nodes: Vec<NodeRec>,
    /// Scopes: block instances and named lists, in the order they open.
    pub scopes: Vec<ScopeRec>,
    /// Input shape.
    pub input: Vec<usize>,
    /// Value id of the output (the first, for a network returning a tuple).
    pub output: usize,
    /// Value ids of every output, in order: `[output]`, or one per item of
    /// the tuple the network returns.
    pub outputs: Vec<usize>,
    /// Whether the network returns a tuple (`(out, aux)`): its `forward`
    /// returns a tuple of tensors.
    pub tuple: bool,
    /// The constant tensors its [`Op::Constant`] and [`Op::Gather`] nodes
    /// refer to, and its named buffers.
    pub constants: Vec<constants::ConstRec>,
}

/// Variables in scope and the path prefix of the layers being created.
struct Env {
    vars: HashMap<String, Value>,
    prefix: String,
}

impl Env {
    fn join(&self, segment: &str) -> String {
        join(&self.prefix, segment)
    }
}

/// `prefix.segment`, or `segment` at the top.
fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() {
        segment.to_string()
    } else {
        format!("{prefix}.{segment}")
    }
}

/// The state of one network's instantiation.
struct Ctx<'a> {
    blocks: &'a HashMap<String, &'a BlockDef>,
    errors: &'a mut Errors,
    nodes: Vec<NodeRec>,
    shapes: Vec<Vec<usize>>,
    scopes: Vec<ScopeRec>,
    /// Paths of layers that hold tensors, to reject duplicates: the node
    /// that owns the tensors at each (the first created there).
    weighted: HashMap<String, usize>,
    /// Module values defined so far (`let branch = branch: Conv2d(64, 3);`).
    modules: Vec<modules::ModuleDef>,
    /// The module applications being expanded, innermost last.
    applying: Vec<modules::Applying>,
    limits: Limits,
    /// The constants table (compile-time arrays that met the graph, and
    /// named buffers).
    constants: Vec<constants::ConstRec>,
    /// Values computed by compile-time arrays so far.
    array_work: usize,
}

impl Ctx<'_> {
    /// Reports an error and stands for its result.
    fn fail(&mut self, span: impl Into<Range>, message: impl Into<String>) -> Value {
        self.errors.push(span, message);
        Value::Poison
    }

    /// An integer, or an error saying what `what` must be.
    fn int_of(&mut self, v: Value, span: Range, what: &str) -> Option<i64> {
        match v {
            Value::Int(i) => Some(i),
            Value::Poison => None,
            other => {
                self.errors.push(
                    span,
                    format!("{what} must be an integer, found {}", other.describe()),
                );
                None
            }
        }
    }
}

/// Parses the input shape's literals: positive, unsuffixed integers.
fn input_shape(net: &NetworkDef, errors: &mut Errors) -> Option<Vec<usize>> {
    let before = errors.len();
    let mut input = Vec::new();
    for lit in &net.shape {
        match lit.base10_parse::<usize>() {
            Ok(0) => errors.push(lit.span(), "input dimensions must be positive, found 0"),
            Ok(d) if lit.suffix().is_empty() => input.push(d),
            Ok(_) => errors.push(lit.span(), "input dimensions take no suffix"),
            Err(e) => errors.push(lit.span(), format!("invalid input dimension: {e}")),
        }
    }
    if net.shape.is_empty() {
        errors.push(
            net.shape_span,
            "the input shape needs at least one dimension, as in [3, 224, 224]",
        );
    }
    (errors.len() == before).then_some(input)
}

/// Instantiates `net`, reporting every error into `errors`. `None` if any
/// error was reported, or if the body did not parse (the parser reported it).
pub fn instantiate(
    net: &NetworkDef,
    blocks: &HashMap<String, &BlockDef>,
    errors: &mut Errors,
) -> Option<Instance> {
    let before = errors.len();
    let input = input_shape(net, errors)?;
    let body = net.body.as_ref()?;
    let mut ctx = Ctx {
        blocks,
        errors,
        nodes: Vec::new(),
        shapes: vec![input.clone()],
        scopes: Vec::new(),
        weighted: HashMap::new(),
        modules: Vec::new(),
        applying: Vec::new(),
        limits: Limits::default(),
        constants: Vec::new(),
        array_work: 0,
    };
    let mut env = Env {
        vars: HashMap::new(),
        prefix: String::new(),
    };
    env.vars.insert(
        net.input.to_string(),
        Value::Tensor(TensorVal {
            id: 0,
            shape: input.clone(),
            batched: true,
        }),
    );
    let result = ctx.body(&mut env, body);
    let tuple = matches!(result, Value::Tuple(_));
    let outputs = ctx.outputs(result, &body.result);
    let Ctx {
        nodes,
        scopes,
        errors,
        constants,
        ..
    } = ctx;
    if errors.len() > before {
        return None;
    }
    let outputs = outputs?;
    Some(Instance {
        nodes,
        scopes,
        input,
        output: *outputs.first()?,
        outputs,
        tuple,
        constants,
    })
}

impl Ctx<'_> {
    /// The value ids a network returns: one tensor, or a tuple of tensors
    /// (several outputs). Anything else is an error, under the tuple's item
    /// when the body writes the tuple out.
    fn outputs(&mut self, result: Value, expr: &crate::ast::Expr) -> Option<Vec<usize>> {
        match result {
            Value::Tensor(t) => Some(vec![t.id]),
            Value::Poison => None,
            Value::Tuple(items) => {
                let written = match &expr.kind {
                    crate::ast::ExprKind::Tuple(e) if e.len() == items.len() => Some(e),
                    _ => None,
                };
                let mut ids = Vec::with_capacity(items.len());
                for (k, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Tensor(t) => ids.push(t.id),
                        Value::Poison => return None,
                        other => {
                            let span = written.and_then(|e| e.get(k)).map_or(expr.span, |e| e.span);
                            self.errors.push(
                                span,
                                format!(
                                    "a network returns a tensor or a tuple of tensors; output {k} is {}",
                                    other.describe()
                                ),
                            );
                            return None;
                        }
                    }
                }
                Some(ids)
            }
            other => {
                self.errors.push(
                    expr.span,
                    format!(
                        "a network must return a tensor, found {} (or a tuple of tensors, for several outputs)",
                        other.describe()
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ast::{Input, Item};
    use proc_macro2::TokenStream;
    use std::str::FromStr;

    /// Instantiates the last network of `src`: the instance, or the error
    /// messages.
    pub(crate) fn run(src: &str) -> Result<Instance, Vec<String>> {
        let tokens = TokenStream::from_str(src).map_err(|e| vec![e.to_string()])?;
        let ast: Input = syn::parse2(tokens).map_err(|e| vec![e.to_string()])?;
        let mut blocks = HashMap::new();
        for item in &ast.items {
            if let Item::Block(b) = item {
                blocks.insert(b.name.to_string(), b);
            }
        }
        let net = ast
            .items
            .iter()
            .rev()
            .find_map(|i| match i {
                Item::Network(n) => Some(n),
                Item::Block(_) => None,
            })
            .ok_or_else(|| vec!["no network".to_string()])?;
        let mut errors = Errors::default();
        let instance = instantiate(net, &blocks, &mut errors);
        match (instance, errors.combined()) {
            (Some(i), None) => Ok(i),
            (_, Some(e)) => Err(e.into_iter().map(|e| e.to_string()).collect()),
            (None, None) => Err(vec![]),
        }
    }

    /// The error messages of `src`, which must fail.
    pub(crate) fn errors_of(src: &str) -> Vec<String> {
        match run(src) {
            Ok(i) => panic!("expected errors, got {} nodes", i.nodes.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn the_input_shape_must_be_positive() {
        let e = errors_of("pub struct N(x: [3, 0]) { x }");
        assert_eq!(e, ["input dimensions must be positive, found 0"]);
    }

    #[test]
    fn a_network_returns_a_tensor() {
        let e = errors_of("pub struct N(x: [3]) { 1 + 2 }");
        assert_eq!(
            e,
            ["a network must return a tensor, found the integer 3 (or a tuple of tensors, for several outputs)"]
        );
    }

    #[test]
    fn a_block_returns_a_tensor_or_a_tuple_of_tensors() {
        // Features at two depths, bound by a tuple pattern.
        let i = run("block Two(x) { let a = x -> c1: Conv2d(4, 1); let b = a -> c2: Conv2d(8, 3, stride = 2); (a, b) } \
                     pub struct N(x: [3, 8, 8]) { let (low, high) = x -> backbone: Two; (high, low) }")
        .unwrap();
        let shapes: Vec<&[usize]> = i
            .outputs
            .iter()
            .map(|&v| i.nodes[v - 1].output.as_slice())
            .collect();
        assert_eq!(shapes, [&[8, 3, 3][..], &[4, 8, 8][..]]);
        assert_eq!(i.nodes[0].name, "backbone.c1");
        // A network whose output is a block's tuple has both outputs.
        let i = run(
            "block Two(x) { (x -> c1: Conv2d(4, 1), x -> c2: Conv2d(2, 1)) } \
                     pub struct N(x: [3, 8, 8]) { x -> Two }",
        )
        .unwrap();
        assert_eq!(i.outputs.len(), 2);
        // A tuple is no layer's input, and a block's tuple holds tensors only.
        let e = errors_of("block Two(x) { (x, x) } pub struct N(x: [3]) { x -> Two -> ReLU }");
        assert_eq!(e, ["`->` applies a layer to a tensor, found a tuple of 2"]);
        let e =
            errors_of("block Two(x) { (x, 3) } pub struct N(x: [3]) { let (a, b) = x -> Two; a }");
        assert_eq!(
            e,
            ["block `Two` must return a tensor or a tuple of tensors; item 1 is the integer 3"]
        );
    }

    #[test]
    fn an_identity_network_has_no_nodes() {
        let i = run("pub struct N(x: [3, 4, 4]) { x }").unwrap();
        assert!(i.nodes.is_empty());
        assert_eq!((i.input, i.output), (vec![3, 4, 4], 0));
    }
}
