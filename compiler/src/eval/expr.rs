//! Expressions: literals, variables, tensor fields, operators, `if`, and
//! `let` bindings. Tensor `+` and `*` and `->` chains hand over to the graph
//! and expansion stages.

use super::{Ctx, Env};
use crate::ast::{Arg, BinOp, Body, Expr, ExprKind, UnOp};
use crate::layers::{self, ArgVal};
use crate::value::{did_you_mean, Range, Value};
use netspec_model::shape;
use syn::Ident;

/// Fields of a tensor.
const FIELDS: &[&str] = &["channels", "height", "width", "features"];

impl Ctx<'_> {
    /// Binds the `let`s of `body` in order and evaluates its result.
    /// A module defined in the body that nothing applies is an error.
    pub(super) fn body(&mut self, env: &mut Env, body: &Body) -> Value {
        let modules = self.modules.len();
        let v = self.body_inner(env, body);
        self.check_applied(modules);
        v
    }

    fn body_inner(&mut self, env: &mut Env, body: &Body) -> Value {
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
                if let Value::Module(m) = &value {
                    if let Some(d) = self.modules.get_mut(m.index) {
                        d.var.get_or_insert_with(|| name.to_string());
                    }
                }
                env.vars.insert(name.to_string(), value);
            }
        }
        self.expr(env, &body.result)
    }

    /// Evaluates `e`: one level of evaluation depth.
    pub(super) fn expr(&mut self, env: &mut Env, e: &Expr) -> Value {
        if !self.enter(e.span) {
            return Value::Poison;
        }
        let v = self.expr_inner(env, e);
        self.leave();
        v
    }

    fn expr_inner(&mut self, env: &mut Env, e: &Expr) -> Value {
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
                    (op, Value::Array(a)) => self.array_unary(e.span, *op, a),
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
            ExprKind::Call(name, args) => match env.vars.get(&name.to_string()) {
                Some(Value::Module(m)) => {
                    let index = m.index;
                    self.module_call(env, name, index, args, e.span)
                }
                _ => self.call(env, name, args, e.span),
            },
            ExprKind::Method(recv, name, args) => self.method(env, recv, name, args, e.span),
            ExprKind::Index(recv, items) => self.index(env, recv, items, e.span),
            ExprKind::Source {
                name,
                kind,
                args,
                span,
            } if self.is_callee(&kind.to_string()) => {
                self.define_module(env, name, kind, args, *span, e.span)
            }
            ExprKind::Source {
                name,
                kind,
                args,
                span,
            } => self.source(env, name, kind, args, *span),
            ExprKind::Chain(head, stages) => {
                let mut v = self.expr(env, head);
                for stage in stages {
                    if let Some(module) = self.stage_module(env, stage) {
                        let Ok(m) = module else {
                            return Value::Poison;
                        };
                        let var = match &stage.spec {
                            crate::ast::Spec::Call { name, .. } => name.to_string(),
                            _ => String::new(),
                        };
                        v = self.apply_module(env, v, m, &var, stage.spec.span(), head.span);
                        continue;
                    }
                    let (path, own) = match self.stage_name(env, stage) {
                        // `"": LayerNorm(...)`: the tensors of the module
                        // being defined (a block's own path), applied by its
                        // forward as a function (`F.layer_norm(x, ...,
                        // self.weight, self.bias)` in an `nn.LayerNorm`
                        // subclass).
                        Ok(Some(n)) if n.is_empty() => (Some(env.prefix.clone()), true),
                        Ok(name) => (name.map(|n| env.join(&n)), false),
                        Err(()) => return Value::Poison,
                    };
                    let before = self.nodes.len();
                    v = self.apply(env, v, &stage.spec, path, head.span);
                    if own {
                        for node in self.nodes.iter_mut().skip(before) {
                            if node.name == env.prefix {
                                node.module = false;
                            }
                        }
                    }
                }
                v
            }
        }
    }

    /// `branch(a)`: module `index` applied to its one argument, a tensor.
    fn module_call(
        &mut self,
        env: &mut Env,
        name: &Ident,
        index: usize,
        args: &[Arg],
        span: Range,
    ) -> Value {
        let [Arg { name: None, value }] = args else {
            if let Some(d) = self.modules.get_mut(index) {
                d.used = true;
            }
            return self.fail(
                span,
                format!(
                    "the module `{name}` is applied to one tensor, as in `{name}(x)` (its arguments are given where it is defined)"
                ),
            );
        };
        let input = self.expr(env, value);
        self.apply_module(env, input, index, &name.to_string(), span, value.span)
    }

    fn var(&mut self, env: &Env, name: &Ident) -> Value {
        let key = name.to_string();
        if let Some(v) = env.vars.get(&key) {
            if let Value::Module(m) = v {
                // Used (passed on, or misused and reported there).
                if let Some(d) = self.modules.get_mut(m.index) {
                    d.used = true;
                }
            }
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
            (a @ Tensor(_), b) | (a, b @ Tensor(_)) => {
                self.tensor_binary(env, span, a, op, b, spans)
            }
            (a @ Value::Array(_), b) | (a, b @ Value::Array(_)) => {
                self.array_binary(span, a, op, b, spans)
            }
            (Int(x), Int(y)) => {
                let r = match op {
                    BinOp::Add => x.checked_add(y).map(Int),
                    BinOp::Sub => x.checked_sub(y).map(Int),
                    BinOp::Mul => x.checked_mul(y).map(Int),
                    BinOp::MatMul => {
                        return self.fail(span, "`@` multiplies tensors, found numbers")
                    }
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
                    BinOp::MatMul => self.fail(span, "`@` multiplies tensors, found numbers"),
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

    /// Evaluates call arguments, keeping their names and spans.
    pub(super) fn args(&mut self, env: &mut Env, args: &[Arg]) -> Vec<ArgVal> {
        args.iter()
            .map(|a| ArgVal {
                name: a.name.clone(),
                value: self.expr(env, &a.value),
                span: a.value.span,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    fn width(expr: &str) -> usize {
        let i = run(&format!(
            "pub struct N(x: [3, 4, 4]) {{ x -> Flatten -> Linear({expr}) }}"
        ))
        .unwrap();
        i.nodes[1].output[0]
    }

    #[test]
    fn integer_arithmetic_floors_like_python() {
        assert_eq!(width("7 / 2 + 7 % 4"), 6);
        assert_eq!(width("-7 / 2 + 10"), 6);
        assert_eq!(width("-7 % 4 + 1"), 2);
        assert_eq!(width("if x.channels == 3 && !false { 2 } else { 1 }"), 2);
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        let e = errors_of(
            "pub struct N(x: [3]) { x -> Linear(9223372036854775807 + 1) -> Linear(1 / 0) }",
        );
        assert_eq!(e, ["integer overflow"]);
        let e = errors_of("pub struct N(x: [3]) { x -> Linear(1 / 0) }");
        assert_eq!(e, ["division by zero"]);
    }

    #[test]
    fn names_and_fields_are_checked() {
        let e = errors_of("pub struct N(x: [3]) { let width = 3; x -> Linear(widt) }");
        assert_eq!(e, ["undefined name `widt`, did you mean `width`?"]);
        let e = errors_of("pub struct N(x: [3]) { x -> Linear(x.height) }");
        assert_eq!(e, ["a tensor of shape [3] has no `height`"]);
    }

    #[test]
    fn tensors_combine_by_arithmetic_and_matmul() {
        let i = run("pub struct N(x: [3, 4, 4]) { x + x * x - x / x }").unwrap();
        let names: Vec<&str> = i.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["mul", "add", "div", "sub"]);
        let i = run("pub struct N(x: [3, 4]) { 1.0 - x * 0.5 }").unwrap();
        let ops: Vec<_> = i.nodes.iter().map(|n| n.op).collect();
        assert_eq!(
            ops,
            [
                netspec_model::Op::Affine {
                    scale: 0.5,
                    shift: 0.0
                },
                netspec_model::Op::Affine {
                    scale: -1.0,
                    shift: 1.0
                }
            ]
        );
        let e = errors_of("pub struct N(x: [3]) { x % x }");
        assert_eq!(e, ["tensors combine with `+`, `-`, `*`, `/` and `@`"]);
    }

    #[test]
    fn deep_evaluation_is_an_error_not_a_stack_overflow() {
        // 64 nested blocks, each nesting its call 15 lists deep: within the
        // parser's limit per body, beyond the evaluator's in all.
        let lists = |inner: &str| format!("{}{inner}{}", "[".repeat(15), "]".repeat(15));
        let src = format!(
            "block R(x, n) {{ if n == 0 {{ x }} else {{ x -> {} }} }}
             pub struct N(x: [3]) {{ x -> R(63) }}",
            lists("R(n - 1)")
        );
        let e = errors_of(&src);
        assert_eq!(
            e,
            ["the expansion nests deeper than 512 levels (blocks within lists within blocks)"]
        );
    }
}
