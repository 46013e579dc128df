//! Instantiation: evaluates a network's body at expansion time, expanding
//! blocks, lists and repetitions into a flat graph of nodes, inferring every
//! shape on the way and naming every layer by its dotted path.

use crate::ast::{
    Arg, BinOp, BlockDef, Body, Expr, ExprKind, ListItem, NetworkDef, Spec, Stage, UnOp,
};
use crate::layers::{self, ArgVal};
use crate::value::{did_you_mean, Errors, Range, TensorVal, Value};
use netspec_model::{cost, shape, Blame, Costs, Op};
use std::collections::HashMap;
use syn::Ident;

/// How deep blocks may call blocks.
const MAX_DEPTH: usize = 64;
/// The most nodes one network may expand to.
const MAX_NODES: usize = 100_000;

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
}

/// An instantiated network.
#[derive(Debug)]
pub struct Instance {
    /// Nodes in execution order.
    pub nodes: Vec<NodeRec>,
    /// Scopes: block instances and named lists, `(path, kind)`.
    pub scopes: Vec<(String, String)>,
    /// Input shape.
    pub input: Vec<usize>,
    /// Value id of the output.
    pub output: usize,
}

struct Env {
    vars: HashMap<String, Value>,
    prefix: String,
}

impl Env {
    fn join(&self, segment: &str) -> String {
        join(&self.prefix, segment)
    }
}

fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() {
        segment.to_string()
    } else {
        format!("{prefix}.{segment}")
    }
}

const FUNCTIONS: &[&str] = &[
    "cat",
    "chunk",
    "narrow",
    "mean",
    "min",
    "max",
    "make_divisible",
    "int",
];
const FIELDS: &[&str] = &["channels", "height", "width", "features"];

struct Ctx<'a> {
    blocks: &'a HashMap<String, &'a BlockDef>,
    errors: &'a mut Errors,
    nodes: Vec<NodeRec>,
    shapes: Vec<Vec<usize>>,
    scopes: Vec<(String, String)>,
    /// Paths of layers that hold tensors, to reject duplicates.
    weighted: HashMap<String, Range>,
    depth: usize,
    too_big: bool,
}

/// Instantiates `net`, reporting every error into `errors`. `None` if any
/// error was reported.
pub fn instantiate(
    net: &NetworkDef,
    blocks: &HashMap<String, &BlockDef>,
    errors: &mut Errors,
) -> Option<Instance> {
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
    if errors.len() > before {
        return None;
    }
    let mut ctx = Ctx {
        blocks,
        errors,
        nodes: Vec::new(),
        shapes: vec![input.clone()],
        scopes: Vec::new(),
        weighted: HashMap::new(),
        depth: 0,
        too_big: false,
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
        }),
    );
    let result = ctx.body(&mut env, &net.body);
    let output = match result {
        Value::Tensor(t) => Some(t.id),
        Value::Poison => None,
        other => {
            ctx.errors.push(
                net.body.result.span,
                format!("a network must return a tensor, found {}", other.describe()),
            );
            None
        }
    };
    let Ctx {
        nodes,
        scopes,
        errors,
        ..
    } = ctx;
    if errors.len() > before {
        return None;
    }
    Some(Instance {
        nodes,
        scopes,
        input,
        output: output?,
    })
}

impl<'a> Ctx<'a> {
    fn body(&mut self, env: &mut Env, body: &Body) -> Value {
        for stmt in &body.lets {
            let value = self.expr(env, &stmt.value);
            if stmt.tuple {
                match value {
                    Value::Tuple(items) if items.len() == stmt.names.len() => {
                        for (name, v) in stmt.names.iter().zip(items) {
                            env.vars.insert(name.to_string(), v);
                        }
                    }
                    Value::Poison => {
                        for name in &stmt.names {
                            env.vars.insert(name.to_string(), Value::Poison);
                        }
                    }
                    other => {
                        self.errors.push(
                            stmt.value.span,
                            format!(
                                "cannot bind {} names to {}",
                                stmt.names.len(),
                                other.describe()
                            ),
                        );
                        for name in &stmt.names {
                            env.vars.insert(name.to_string(), Value::Poison);
                        }
                    }
                }
            } else if let Some(name) = stmt.names.first() {
                env.vars.insert(name.to_string(), value);
            }
        }
        self.expr(env, &body.result)
    }

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

    fn expr(&mut self, env: &mut Env, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Int(lit) => {
                if !lit.suffix().is_empty() {
                    self.errors.push(
                        lit.span(),
                        format!("unexpected suffix `{}` on an integer", lit.suffix()),
                    );
                    return Value::Poison;
                }
                match lit.base10_parse::<i64>() {
                    Ok(v) => Value::Int(v),
                    Err(err) => {
                        self.errors
                            .push(lit.span(), format!("invalid integer: {err}"));
                        Value::Poison
                    }
                }
            }
            ExprKind::Float(lit) => match lit.base10_parse::<f64>() {
                Ok(v) if lit.suffix().is_empty() => Value::Float(v),
                Ok(_) => {
                    self.errors.push(
                        lit.span(),
                        format!("unexpected suffix `{}` on a float", lit.suffix()),
                    );
                    Value::Poison
                }
                Err(err) => {
                    self.errors
                        .push(lit.span(), format!("invalid float: {err}"));
                    Value::Poison
                }
            },
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Str(s) => Value::Str(s.value()),
            ExprKind::Var(name) => self.var(env, name),
            ExprKind::Field(inner, field) => {
                let v = self.expr(env, inner);
                self.field(v, field)
            }
            ExprKind::Tuple(items) => {
                Value::Tuple(items.iter().map(|x| self.expr(env, x)).collect())
            }
            ExprKind::Unary(op, inner) => {
                let v = self.expr(env, inner);
                match (op, v) {
                    (_, Value::Poison) => Value::Poison,
                    (UnOp::Neg, Value::Int(i)) => match i.checked_neg() {
                        Some(n) => Value::Int(n),
                        None => self.fail(e.span, "integer overflow"),
                    },
                    (UnOp::Neg, Value::Float(f)) => Value::Float(-f),
                    (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (op, other) => {
                        let sym = if *op == UnOp::Neg { "-" } else { "!" };
                        self.fail(
                            e.span,
                            format!("cannot apply `{sym}` to {}", other.describe()),
                        )
                    }
                }
            }
            ExprKind::Binary(lhs, op, rhs) => {
                let a = self.expr(env, lhs);
                // `&&` and `||` short-circuit, so `x.channels` guards work.
                match (op, &a) {
                    (BinOp::And, Value::Bool(false)) => return Value::Bool(false),
                    (BinOp::Or, Value::Bool(true)) => return Value::Bool(true),
                    _ => {}
                }
                let b = self.expr(env, rhs);
                self.binary(env, e.span, a, *op, b, [lhs.span, rhs.span])
            }
            ExprKind::If(cond, then, otherwise) => match self.expr(env, cond) {
                Value::Bool(true) => self.expr(env, then),
                Value::Bool(false) => self.expr(env, otherwise),
                Value::Poison => Value::Poison,
                other => self.fail(
                    cond.span,
                    format!("a condition must be a boolean, found {}", other.describe()),
                ),
            },
            ExprKind::Call(name, args) => self.call(env, name, args, e.span),
            ExprKind::Chain(head, stages) => {
                let mut v = self.expr(env, head);
                for stage in stages {
                    let path = stage.name.as_ref().map(|n| env.join(&n.to_string()));
                    v = self.apply(env, v, &stage.spec, path, head.span);
                }
                v
            }
        }
    }

    fn fail(&mut self, span: impl Into<Range>, message: impl Into<String>) -> Value {
        self.errors.push(span, message);
        Value::Poison
    }

    fn var(&mut self, env: &Env, name: &Ident) -> Value {
        let key = name.to_string();
        if let Some(v) = env.vars.get(&key) {
            return v.clone();
        }
        if layers::is_layer(&key) || self.blocks.contains_key(&key) {
            return self.fail(
                name.span(),
                format!("`{key}` is a layer, not a value: apply it with `->`, as in `x -> {key}`"),
            );
        }
        let hint = did_you_mean(&key, env.vars.keys().map(String::as_str));
        self.fail(name.span(), format!("undefined name `{key}`{hint}"))
    }

    fn field(&mut self, v: Value, field: &Ident) -> Value {
        let key = field.to_string();
        let t = match v {
            Value::Tensor(t) => t,
            Value::Poison => return Value::Poison,
            other => {
                return self.fail(
                    field.span(),
                    format!("`.{key}` needs a tensor, found {}", other.describe()),
                )
            }
        };
        let dim = match key.as_str() {
            "channels" | "features" => t.shape.first().copied(),
            "height" => t.shape.get(1).copied().filter(|_| t.shape.len() == 3),
            "width" => t.shape.get(2).copied().filter(|_| t.shape.len() == 3),
            _ => {
                let hint = did_you_mean(&key, FIELDS.iter().copied());
                return self.fail(
                    field.span(),
                    format!(
                        "unknown tensor field `{key}`{hint}; expected one of: {}",
                        FIELDS.join(", ")
                    ),
                );
            }
        };
        match dim.map(i64::try_from) {
            Some(Ok(d)) => Value::Int(d),
            _ => self.fail(
                field.span(),
                format!(
                    "a tensor of shape {} has no `{key}`",
                    shape::shape_str(&t.shape)
                ),
            ),
        }
    }

    fn binary(
        &mut self,
        env: &Env,
        span: Range,
        a: Value,
        op: BinOp,
        b: Value,
        spans: [Range; 2],
    ) -> Value {
        use Value::{Bool, Float, Int, Poison, Tensor};
        match (a, b) {
            (Poison, _) | (_, Poison) => Poison,
            (Tensor(x), Tensor(y)) => match op {
                BinOp::Add => self.node(env, Op::Add, vec![x, y], None, span, &spans, "add"),
                BinOp::Mul => self.node(env, Op::Mul, vec![x, y], None, span, &spans, "mul"),
                _ => self.fail(
                    span,
                    "tensors combine only with `+` (add) and `*` (multiply)",
                ),
            },
            (Int(x), Int(y)) => {
                let r = match op {
                    BinOp::Add => x.checked_add(y).map(Int),
                    BinOp::Sub => x.checked_sub(y).map(Int),
                    BinOp::Mul => x.checked_mul(y).map(Int),
                    BinOp::Div | BinOp::Rem if y == 0 => {
                        return self.fail(spans[1], "division by zero")
                    }
                    BinOp::Div => x.checked_div_euclid(y).map(Int),
                    BinOp::Rem => x.checked_rem_euclid(y).map(Int),
                    BinOp::Eq => Some(Bool(x == y)),
                    BinOp::Ne => Some(Bool(x != y)),
                    BinOp::Lt => Some(Bool(x < y)),
                    BinOp::Le => Some(Bool(x <= y)),
                    BinOp::Gt => Some(Bool(x > y)),
                    BinOp::Ge => Some(Bool(x >= y)),
                    BinOp::And | BinOp::Or => {
                        return self.fail(span, "`&&` and `||` need booleans, found integers")
                    }
                };
                r.unwrap_or_else(|| self.fail(span, "integer overflow"))
            }
            (x @ (Int(_) | Float(_)), y @ (Int(_) | Float(_))) => {
                let f = |v: &Value| match v {
                    Int(i) => *i as f64,
                    Float(f) => *f,
                    _ => 0.0,
                };
                let (x, y) = (f(&x), f(&y));
                match op {
                    BinOp::Add => Float(x + y),
                    BinOp::Sub => Float(x - y),
                    BinOp::Mul => Float(x * y),
                    BinOp::Div if y == 0.0 => self.fail(spans[1], "division by zero"),
                    BinOp::Div => Float(x / y),
                    BinOp::Eq => Bool(x == y),
                    BinOp::Ne => Bool(x != y),
                    BinOp::Lt => Bool(x < y),
                    BinOp::Le => Bool(x <= y),
                    BinOp::Gt => Bool(x > y),
                    BinOp::Ge => Bool(x >= y),
                    BinOp::Rem | BinOp::And | BinOp::Or => {
                        self.fail(span, "this operator needs integers or booleans")
                    }
                }
            }
            (Bool(x), Bool(y)) => match op {
                BinOp::And => Bool(x && y),
                BinOp::Or => Bool(x || y),
                BinOp::Eq => Bool(x == y),
                BinOp::Ne => Bool(x != y),
                _ => self.fail(span, "booleans combine only with `&&`, `||`, `==` and `!=`"),
            },
            (x, y) => self.fail(
                span,
                format!("cannot combine {} with {}", x.describe(), y.describe()),
            ),
        }
    }

    fn args(&mut self, env: &mut Env, args: &[Arg]) -> Vec<ArgVal> {
        args.iter()
            .map(|a| ArgVal {
                name: a.name.clone(),
                value: self.expr(env, &a.value),
                span: a.value.span,
            })
            .collect()
    }

    fn call(&mut self, env: &mut Env, name: &Ident, args: &[Arg], span: Range) -> Value {
        let key = name.to_string();
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            if matches!(
                key.as_str(),
                "cat" | "min" | "max" | "int" | "chunk" | "narrow"
            ) {
                return self.fail(
                    a.value.span,
                    format!("`{key}` takes positional arguments only"),
                );
            }
        }
        match key.as_str() {
            "cat" => {
                let vals: Vec<Value> = args.iter().map(|a| self.expr(env, &a.value)).collect();
                let mut tensors = Vec::new();
                for (v, a) in vals.into_iter().zip(args) {
                    match v {
                        Value::Tensor(t) => tensors.push(t),
                        Value::Poison => return Value::Poison,
                        other => {
                            return self.fail(
                                a.value.span,
                                format!("`cat` joins tensors, found {}", other.describe()),
                            )
                        }
                    }
                }
                if tensors.len() < 2 {
                    return self.fail(span, "`cat` needs two or more tensors");
                }
                let spans: Vec<Range> = args.iter().map(|a| a.value.span).collect();
                self.node(env, Op::Concat, tensors, None, span, &spans, "cat")
            }
            "chunk" => {
                let [x, n] = args else {
                    return self.fail(
                        span,
                        "`chunk` takes a tensor and a number of chunks: chunk(x, 2)",
                    );
                };
                let t = match self.expr(env, &x.value) {
                    Value::Tensor(t) => t,
                    Value::Poison => return Value::Poison,
                    other => {
                        return self.fail(
                            x.value.span,
                            format!("`chunk` splits a tensor, found {}", other.describe()),
                        )
                    }
                };
                let nv = self.expr(env, &n.value);
                let Some(n_chunks) = self.int_of(nv, n.value.span, "the number of chunks") else {
                    return Value::Poison;
                };
                let channels = t.shape.first().copied().unwrap_or(0);
                let Ok(n_chunks) = usize::try_from(n_chunks) else {
                    return self.fail(
                        n.value.span,
                        format!("the number of chunks must be positive, found {n_chunks}"),
                    );
                };
                if n_chunks == 0 || channels % n_chunks != 0 {
                    return self.fail(
                        n.value.span,
                        format!("cannot split {channels} channels into {n_chunks} equal chunks"),
                    );
                }
                let len = channels / n_chunks;
                let outs = (0..n_chunks)
                    .map(|i| {
                        let op = Op::Slice {
                            start: i * len,
                            len,
                        };
                        self.node(
                            env,
                            op,
                            vec![t.clone()],
                            None,
                            span,
                            &[x.value.span],
                            "chunk",
                        )
                    })
                    .collect();
                Value::Tuple(outs)
            }
            "mean" | "narrow" => {
                let vals = self.args(env, args);
                if vals.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                let usage = if key == "mean" {
                    "`mean` takes a tensor and an optional `keepdim = true`: mean(x), the mean over height and width"
                } else {
                    "`narrow` takes a tensor, a first channel and a length: narrow(x, 0, 16)"
                };
                let fits = if key == "mean" {
                    matches!(vals.len(), 1 | 2)
                } else {
                    vals.len() == 3
                };
                if !fits || vals[0].name.is_some() {
                    return self.fail(span, usage);
                }
                let t = match &vals[0].value {
                    Value::Tensor(t) => t.clone(),
                    other => {
                        return self
                            .fail(vals[0].span, format!("{usage}; found {}", other.describe()))
                    }
                };
                let op = if key == "mean" {
                    let keepdim = match vals.get(1) {
                        None => false,
                        Some(a) => {
                            let named_ok = a.name.as_ref().is_none_or(|n| n == "keepdim");
                            match &a.value {
                                Value::Bool(b) if named_ok => *b,
                                _ => return self.fail(a.span, usage),
                            }
                        }
                    };
                    Op::Mean { keepdim }
                } else {
                    let start =
                        layers::to_usize(&vals[1].value, vals[1].span, "start", 0, self.errors);
                    let len =
                        layers::to_usize(&vals[2].value, vals[2].span, "length", 1, self.errors);
                    let (Some(start), Some(len)) = (start, len) else {
                        return Value::Poison;
                    };
                    Op::Slice { start, len }
                };
                let spans = [vals[0].span];
                self.node(env, op, vec![t], None, span, &spans, &key)
            }
            "min" | "max" | "int" | "make_divisible" => {
                let vals: Vec<ArgVal> = self.args(env, args);
                if vals.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                self.numeric(&key, vals, span)
            }
            _ => {
                if layers::is_layer(&key) || self.blocks.contains_key(&key) {
                    return self.fail(
                        name.span(),
                        format!("`{key}` is a layer: apply it with `->`, as in `x -> {key}(...)`"),
                    );
                }
                let hint = did_you_mean(&key, FUNCTIONS.iter().copied());
                self.fail(
                    name.span(),
                    format!(
                        "unknown function `{key}`{hint}; expected one of: {}",
                        FUNCTIONS.join(", ")
                    ),
                )
            }
        }
    }

    fn numeric(&mut self, key: &str, vals: Vec<ArgVal>, span: Range) -> Value {
        let num = |v: &Value| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        };
        for a in &vals {
            if num(&a.value).is_none() {
                return self.fail(
                    a.span,
                    format!("`{key}` takes numbers, found {}", a.value.describe()),
                );
            }
        }
        match (key, vals.as_slice()) {
            ("min" | "max", [a, b]) => {
                let pick_a = if key == "min" {
                    num(&a.value) <= num(&b.value)
                } else {
                    num(&a.value) >= num(&b.value)
                };
                if pick_a {
                    a.value.clone()
                } else {
                    b.value.clone()
                }
            }
            ("int", [a]) => match &a.value {
                Value::Float(f) if f.is_finite() && f.abs() < 9.0e15 => {
                    Value::Int(f.trunc() as i64)
                }
                Value::Int(i) => Value::Int(*i),
                _ => self.fail(a.span, "`int` needs a finite number"),
            },
            ("make_divisible", [v, d, rest @ ..]) if rest.len() <= 1 => {
                // torchvision's _make_divisible:
                // new_v = max(min_value, int(v + d / 2) // d * d); if new_v < 0.9 * v: new_v += d
                let (v, dv) = (num(&v.value).unwrap_or(0.0), num(&d.value).unwrap_or(0.0));
                let Value::Int(di) = d.value else {
                    return self.fail(d.span, "the divisor must be an integer");
                };
                if di <= 0 || !(0.0..9.0e15).contains(&v) {
                    return self.fail(
                        span,
                        "make_divisible needs a non-negative value and a positive divisor",
                    );
                }
                let min_value = rest
                    .first()
                    .and_then(|m| num(&m.value))
                    .map_or(di, |m| m as i64);
                let mut new_v = (((v + dv / 2.0) as i64) / di * di).max(min_value);
                if (new_v as f64) < 0.9 * v {
                    new_v += di;
                }
                Value::Int(new_v)
            }
            _ => {
                let usage = match key {
                    "min" | "max" => "two numbers",
                    "int" => "one number",
                    _ => "a value, a divisor and an optional minimum",
                };
                self.fail(span, format!("`{key}` takes {usage}"))
            }
        }
    }

    /// Applies `spec` to `input`. `path` is the explicit path (from a stage
    /// name or a list index); without one, layers get automatic names under
    /// the current prefix and lists and blocks add no path segment.
    fn apply(
        &mut self,
        env: &mut Env,
        input: Value,
        spec: &Spec,
        path: Option<String>,
        input_span: Range,
    ) -> Value {
        let t = match input {
            Value::Tensor(t) => t,
            Value::Poison => return Value::Poison,
            other => {
                return self.fail(
                    input_span,
                    format!(
                        "`->` applies a layer to a tensor, found {}",
                        other.describe()
                    ),
                )
            }
        };
        if self.too_big {
            return Value::Poison;
        }
        match spec {
            Spec::Call { name, args, span } => {
                let key = name.to_string();
                if let Some(block) = self.blocks.get(&key).copied() {
                    return self.block(env, t, block, args, path, *span);
                }
                if !layers::is_layer(&key) {
                    let names: Vec<&str> = layers::layer_names()
                        .map(|n| -> &str { n })
                        .chain(self.blocks.keys().map(String::as_str))
                        .collect();
                    let hint = did_you_mean(&key, names);
                    return self.fail(name.span(), format!("unknown layer `{key}`{hint}"));
                }
                let argv = self.args(env, args);
                if argv.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                let Some((op, bound)) = layers::build(name, argv, *span, &t.shape, self.errors)
                else {
                    return Value::Poison;
                };
                let auto = op.kind().to_lowercase();
                let module = path.is_some();
                let path = path.unwrap_or_else(|| env.join(&auto));
                let blame_span = |blame: Blame| match blame {
                    Blame::Arg(a) => bound.span_of(a),
                    Blame::Input(_) | Blame::Layer => *span,
                };
                let value = self.node_named(op, vec![t], path, module, *span, &|b| blame_span(b));
                if let (Value::Tensor(_), Some(node)) = (&value, self.nodes.last_mut()) {
                    node.inplace = bound.inplace();
                }
                value
            }
            Spec::List { items, span } => {
                let base = self.open_scope(env, path, "Sequential");
                let mut v = Value::Tensor(t);
                let mut index = 0usize;
                for item in items {
                    match item {
                        ListItem::Stage(stage) => {
                            v = self.list_stage(env, v, stage, &base, &mut index, *span);
                        }
                        ListItem::For {
                            var,
                            start,
                            end,
                            body,
                        } => {
                            let s = self.expr(env, start);
                            let e = self.expr(env, end);
                            let (Some(s), Some(e)) = (
                                self.int_of(s, start.span, "a range bound"),
                                self.int_of(e, end.span, "a range bound"),
                            ) else {
                                return Value::Poison;
                            };
                            let key = var.to_string();
                            let saved = env.vars.get(&key).cloned();
                            for i in s..e {
                                env.vars.insert(key.clone(), Value::Int(i));
                                v = self.list_stage(env, v, body, &base, &mut index, *span);
                                if self.too_big {
                                    break;
                                }
                            }
                            match saved {
                                Some(old) => env.vars.insert(key, old),
                                None => env.vars.remove(&key),
                            };
                        }
                        ListItem::If {
                            cond,
                            then,
                            otherwise,
                        } => {
                            let branch = match self.expr(env, cond) {
                                Value::Bool(true) => then,
                                Value::Bool(false) => otherwise,
                                Value::Poison => return Value::Poison,
                                other => {
                                    return self.fail(
                                        cond.span,
                                        format!(
                                            "a condition must be a boolean, found {}",
                                            other.describe()
                                        ),
                                    )
                                }
                            };
                            if let Some(stage) = branch {
                                v = self.list_stage(env, v, stage, &base, &mut index, *span);
                            }
                        }
                    }
                }
                v
            }
            Spec::Repeat { item, count, span } => {
                let c = self.expr(env, count);
                let Some(n) = self.int_of(c, count.span, "a repeat count") else {
                    return Value::Poison;
                };
                if n < 0 {
                    return self.fail(
                        count.span,
                        format!("a repeat count must be non-negative, found {n}"),
                    );
                }
                let base = self.open_scope(env, path, "Sequential");
                let mut v = Value::Tensor(t);
                let mut index = 0usize;
                for _ in 0..n {
                    v = self.list_stage(env, v, item, &base, &mut index, *span);
                    if self.too_big {
                        break;
                    }
                }
                v
            }
        }
    }

    fn open_scope(&mut self, env: &Env, path: Option<String>, kind: &str) -> String {
        match path {
            Some(p) => {
                self.scopes.push((p.clone(), kind.to_string()));
                p
            }
            None => env.prefix.clone(),
        }
    }

    fn list_stage(
        &mut self,
        env: &mut Env,
        v: Value,
        stage: &Stage,
        base: &str,
        index: &mut usize,
        span: Range,
    ) -> Value {
        let segment = match &stage.name {
            Some(n) => n.to_string(),
            None => index.to_string(),
        };
        *index += 1;
        self.apply(env, v, &stage.spec, Some(join(base, &segment)), span)
    }

    fn block(
        &mut self,
        env: &mut Env,
        input: TensorVal,
        block: &'a BlockDef,
        args: &[Arg],
        path: Option<String>,
        span: Range,
    ) -> Value {
        let kind = block.name.to_string();
        if self.depth >= MAX_DEPTH {
            return self.fail(
                span,
                format!("blocks nest deeper than {MAX_DEPTH} levels (is `{kind}` recursive?)"),
            );
        }
        let argv = self.args(env, args);
        let names: Vec<String> = block.params.iter().map(|p| p.name.to_string()).collect();
        // Bind by position and keyword; surplus, unknown and duplicate arguments are errors.
        let mut bound: Vec<Option<Value>> = vec![None; names.len()];
        let mut positional = 0usize;
        let mut ok = true;
        for a in argv {
            let slot = match &a.name {
                None => {
                    positional += 1;
                    if positional > names.len() {
                        self.errors.push(
                            a.span,
                            format!(
                                "block `{kind}` takes {} argument{} after its input, found more",
                                names.len(),
                                if names.len() == 1 { "" } else { "s" }
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    positional - 1
                }
                Some(n) => match names.iter().position(|x| n == x) {
                    Some(i) => i,
                    None => {
                        let hint = did_you_mean(&n.to_string(), names.iter().map(String::as_str));
                        self.errors.push(
                            n.span(),
                            format!("block `{kind}` has no parameter `{n}`{hint}"),
                        );
                        ok = false;
                        continue;
                    }
                },
            };
            if bound[slot].is_some() {
                self.errors.push(
                    a.span,
                    format!(
                        "argument `{}` of block `{kind}` is given twice",
                        names[slot]
                    ),
                );
                ok = false;
            }
            bound[slot] = Some(a.value);
        }
        let mut inner = Env {
            vars: HashMap::new(),
            prefix: match &path {
                Some(p) => p.clone(),
                None => env.prefix.clone(),
            },
        };
        inner
            .vars
            .insert(block.input.to_string(), Value::Tensor(input));
        self.depth += 1;
        for (param, value) in block.params.iter().zip(bound) {
            let v = match (value, &param.default) {
                (Some(v), _) => v,
                (None, Some(default)) => self.expr(&mut inner, default),
                (None, None) => {
                    self.errors.push(
                        span,
                        format!("block `{kind}` is missing its argument `{}`", param.name),
                    );
                    ok = false;
                    Value::Poison
                }
            };
            inner.vars.insert(param.name.to_string(), v);
        }
        if !ok {
            self.depth -= 1;
            return Value::Poison;
        }
        if let Some(p) = &path {
            self.scopes.push((p.clone(), kind.clone()));
        }
        let out = self.body(&mut inner, &block.body);
        self.depth -= 1;
        match out {
            Value::Tensor(_) | Value::Poison => out,
            other => self.fail(
                block.body.result.span,
                format!(
                    "block `{kind}` must return a tensor, found {}",
                    other.describe()
                ),
            ),
        }
    }

    /// Adds a node for an expression operation (add, mul, cat, chunk).
    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        env: &Env,
        op: Op,
        inputs: Vec<TensorVal>,
        path: Option<String>,
        span: Range,
        spans: &[Range],
        auto: &str,
    ) -> Value {
        let path = path.unwrap_or_else(|| env.join(auto));
        let spans = spans.to_vec();
        self.node_named(op, inputs, path, false, span, &move |b| match b {
            Blame::Input(i) => spans.get(i).copied().unwrap_or(span),
            _ => span,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn node_named(
        &mut self,
        op: Op,
        inputs: Vec<TensorVal>,
        path: String,
        module: bool,
        span: Range,
        blame: &dyn Fn(Blame) -> Range,
    ) -> Value {
        if self.nodes.len() >= MAX_NODES {
            self.too_big = true;
            return self.fail(
                span,
                format!("the network expands to more than {MAX_NODES} layers"),
            );
        }
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let output = match shape::output_shape(&op, &shapes) {
            Ok(s) => s,
            Err(e) => return self.fail(blame(e.blame), format!("`{path}`: {}", e.message)),
        };
        let Some(costs) = cost::costs(&op, &shapes, &output) else {
            return self.fail(span, format!("`{path}`: a count overflows u64"));
        };
        if !op.stored_tensors().is_empty() {
            if self.weighted.contains_key(&path) {
                return self.fail(
                    span,
                    format!(
                        "duplicate layer name `{path}`: another layer with weights has this path"
                    ),
                );
            }
            self.weighted.insert(path.clone(), span);
        }
        let id = self.shapes.len();
        self.shapes.push(output.clone());
        self.nodes.push(NodeRec {
            op,
            inputs: inputs.iter().map(|t| t.id).collect(),
            name: path,
            module,
            inplace: false,
            input_shapes: shapes.iter().map(|s| s.to_vec()).collect(),
            output: output.clone(),
            costs,
            span,
        });
        Value::Tensor(TensorVal { id, shape: output })
    }
}
