//! `->` stages: applying a layer or a block to a tensor, and expanding
//! lists, `for` and `if` items and repetitions. Block arguments are bound by
//! the same binder as layer arguments ([`layers::bind`]).

use super::limits::MAX_BLOCK_DEPTH;
use super::{join, Ctx, Env, ScopeRec};
use crate::ast::{Arg, BlockDef, ListItem, Spec, Stage};
use crate::layers::{self, ArgVal, Callee};
use crate::value::{did_you_mean, Range, TensorVal, Value};
use netspec_model::{Blame, Op};
use std::collections::HashMap;
use syn::Ident;

impl<'a> Ctx<'a> {
    /// Applies `spec` to `input`. `path` is the explicit path (from a stage
    /// name or a list index); without one, layers get automatic names under
    /// the current prefix and lists and blocks add no path segment.
    /// One level of evaluation depth.
    pub(super) fn apply(
        &mut self,
        env: &mut Env,
        input: Value,
        spec: &Spec,
        path: Option<String>,
        input_span: Range,
    ) -> Value {
        if !self.enter(spec.span()) {
            return Value::Poison;
        }
        let v = self.apply_inner(env, input, spec, path, input_span);
        self.leave();
        v
    }

    fn apply_inner(
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
            Value::Module(m) => {
                let var = m.path.rsplit('.').next().unwrap_or(&m.path).to_string();
                return self.fail(
                    input_span,
                    format!(
                        "`->` applies a layer to a tensor, found the module `{}`: apply the module to a tensor, as in `x -> {var}` or `{var}(x)`",
                        m.path
                    ),
                );
            }
            Value::Tuple(_)
                if matches!(spec, Spec::Call { name, .. } if name == "MultiheadAttention") =>
            {
                return self.fail(
                    input_span,
                    "`MultiheadAttention` here is self-attention on one input; for attention between two sequences write the projections as `Linear` layers and call `attention(q, k, v)`",
                )
            }
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
        if self.limits.exhausted {
            return Value::Poison;
        }
        match spec {
            Spec::Call { name, args, span } => {
                let key = name.to_string();
                if let Some(block) = self.blocks.get(&key).copied() {
                    return self.block(env, t, block, args, path, *span);
                }
                if !layers::is_layer(&key) {
                    return self.unknown_callee(env, name);
                }
                let argv = self.args(env, args);
                self.layer(env, t, name, argv, path, *span)
            }
            Spec::List { items, span } => {
                let Some(base) = self.open_scope(env, path, "Sequential", *span) else {
                    return Value::Poison;
                };
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
                            let range = start.span.to(end.span);
                            for i in s..e {
                                // Each iteration draws a step, even one that adds nothing.
                                if !self.step(range) {
                                    v = Value::Poison;
                                    break;
                                }
                                env.vars.insert(key.clone(), Value::Int(i));
                                v = self.list_stage(env, v, body, &base, &mut index, *span);
                                if v == Value::Poison {
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
                let Some(base) = self.open_scope(env, path, "Sequential", *span) else {
                    return Value::Poison;
                };
                let mut v = Value::Tensor(t);
                let mut index = 0usize;
                for _ in 0..n {
                    // Each repetition draws a step: the count is what to change.
                    if !self.step(count.span) {
                        return Value::Poison;
                    }
                    v = self.list_stage(env, v, item, &base, &mut index, *span);
                    if v == Value::Poison {
                        break;
                    }
                }
                v
            }
        }
    }

    /// Applies the layer `name` with arguments `argv` to `t`: one node (more
    /// for `MultiheadAttention`), named `path` or automatically.
    pub(super) fn layer(
        &mut self,
        env: &mut Env,
        t: TensorVal,
        name: &Ident,
        argv: Vec<ArgVal>,
        path: Option<String>,
        span: Range,
    ) -> Value {
        if argv.iter().any(|a| a.value == Value::Poison) {
            return Value::Poison;
        }
        let view = if t.batched {
            t.shape.clone()
        } else {
            t.shape.get(1..).unwrap_or(&[]).to_vec()
        };
        let Some((op, bound)) = layers::build(name, argv, span, &view, self.errors) else {
            return Value::Poison;
        };
        let auto = op.kind().to_lowercase();
        let module = path.is_some();
        let path = path.unwrap_or_else(|| env.join(&auto));
        let blame_span = |blame: Blame| match blame {
            Blame::Arg(a) => bound.span_of(a),
            Blame::Input(_) | Blame::Layer => span,
        };
        let value = self.node_named(op, vec![t], path.clone(), module, span, &|b| blame_span(b));
        if let (Value::Tensor(_), Some(node)) = (&value, self.nodes.last_mut()) {
            node.inplace = bound.inplace();
        }
        match (op, value) {
            (Op::MhaInProj { linear, heads }, Value::Tensor(qkv)) => {
                self.attention_module(env, qkv, &path, linear, heads, span)
            }
            (_, value) => value,
        }
    }

    /// The error for a stage naming neither a layer, a block nor a module:
    /// what the name is if it is a variable, else the closest names.
    fn unknown_callee(&mut self, env: &Env, name: &Ident) -> Value {
        let key = name.to_string();
        if let Some(v) = env.vars.get(&key) {
            if *v == Value::Poison {
                return Value::Poison;
            }
            return self.fail(
                name.span(),
                format!(
                    "`{key}` is {}, not a layer, block or module: `->` applies a layer (`x -> Conv2d(64, 3)`) or a module (`let {key} = {key}: Conv2d(64, 3);`)",
                    v.describe()
                ),
            );
        }
        let modules: Vec<&str> = env
            .vars
            .iter()
            .filter(|(_, v)| matches!(v, Value::Module(_)))
            .map(|(k, _)| k.as_str())
            .collect();
        let names: Vec<&str> = layers::layer_names()
            .map(|n| -> &str { n })
            .chain(self.blocks.keys().map(String::as_str))
            .chain(modules)
            .collect();
        let hint = did_you_mean(&key, names);
        let what = if key.starts_with(|c: char| c.is_ascii_lowercase()) && hint.is_empty() {
            format!("unknown layer or module `{key}`{hint}: a module is defined before it is applied, as in `let {key} = {key}: Conv2d(64, 3);`")
        } else if key.starts_with(|c: char| c.is_ascii_lowercase()) {
            format!("unknown layer or module `{key}`{hint}")
        } else {
            format!("unknown layer `{key}`{hint}")
        };
        self.fail(name.span(), what)
    }

    /// The path prefix for a list's items: a new scope (one step) at `path`,
    /// or the current prefix. `None` when the budget is spent.
    fn open_scope(
        &mut self,
        env: &Env,
        path: Option<String>,
        kind: &str,
        span: Range,
    ) -> Option<String> {
        match path {
            Some(p) => {
                if !self.step(span) {
                    return None;
                }
                self.scopes.push(ScopeRec {
                    path: p.clone(),
                    kind: kind.to_string(),
                    start: self.nodes.len(),
                    application: 0,
                });
                Some(p)
            }
            None => Some(env.prefix.clone()),
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
        if let Some(module) = self.stage_module(env, stage) {
            // A module keeps its own path; the item still takes its index.
            *index += 1;
            let Ok(m) = module else {
                return Value::Poison;
            };
            let var = match &stage.spec {
                Spec::Call { name, .. } => name.to_string(),
                _ => String::new(),
            };
            return self.apply_module(env, v, m, &var, stage.spec.span(), span);
        }
        let segment = match self.stage_name(env, stage) {
            Ok(Some(s)) if s.is_empty() => {
                let at = stage.template.as_ref().map_or(span, |t| t.span().into());
                return self.fail(
                    at,
                    "an empty name gives a layer its block's own path: write it in a chain (`x -> \"\": LayerNorm(...)`), not as a list item",
                );
            }
            Ok(Some(s)) => s,
            Ok(None) => index.to_string(),
            Err(()) => return Value::Poison,
        };
        *index += 1;
        self.apply(env, v, &stage.spec, Some(join(base, &segment)), span)
    }

    /// Expands a call of `block` on `input`: evaluates its arguments, then
    /// [`Ctx::block_bound`].
    fn block(
        &mut self,
        env: &mut Env,
        input: TensorVal,
        block: &'a BlockDef,
        args: &[Arg],
        path: Option<String>,
        span: Range,
    ) -> Value {
        let argv = self.args(env, args);
        let scope = path.as_ref().map(|p| ScopeRec {
            path: p.clone(),
            kind: block.name.to_string(),
            start: self.nodes.len(),
            application: 0,
        });
        self.block_bound(env, input, block, argv, path, span, scope)
    }

    /// Expands `block` on `input` with evaluated arguments `argv`: binds
    /// them (defaults evaluated in the block's own scope), opens `scope`,
    /// then evaluates its body under `path`. One step, and one level of
    /// block depth.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn block_bound(
        &mut self,
        env: &mut Env,
        input: TensorVal,
        block: &'a BlockDef,
        argv: Vec<ArgVal>,
        path: Option<String>,
        span: Range,
        scope: Option<ScopeRec>,
    ) -> Value {
        let kind = block.name.to_string();
        if self.limits.block_depth >= MAX_BLOCK_DEPTH {
            return self.fail(
                span,
                format!(
                    "blocks nest deeper than {MAX_BLOCK_DEPTH} levels (is `{kind}` recursive?)"
                ),
            );
        }
        if !self.step(span) {
            return Value::Poison;
        }
        let names: Vec<String> = block.params.iter().map(|p| p.name.to_string()).collect();
        let params: Vec<&str> = names.iter().map(String::as_str).collect();
        let required = |i: usize| block.params.get(i).is_some_and(|p| p.default.is_none());
        let Some(slots) = layers::bind(
            Callee::Block,
            &kind,
            &params,
            required,
            argv,
            span,
            self.errors,
        ) else {
            return Value::Poison;
        };
        // A body with a syntax error was reported by the parser.
        let Some(body) = &block.body else {
            return Value::Poison;
        };
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
        self.limits.block_depth += 1;
        for (param, slot) in block.params.iter().zip(slots) {
            let v = match (slot, &param.default) {
                (Some((v, _)), _) => v,
                (None, Some(default)) => self.expr(&mut inner, default),
                // Reported by the binder.
                (None, None) => Value::Poison,
            };
            inner.vars.insert(param.name.to_string(), v);
        }
        if let Some(mut scope) = scope {
            scope.start = self.nodes.len();
            self.scopes.push(scope);
        }
        let out = self.body(&mut inner, body);
        self.limits.block_depth -= 1;
        match out {
            Value::Tensor(_) | Value::Poison => out,
            // Several tensors (features at several depths), bound by
            // `let (low, high) = x -> backbone: Backbone;`.
            Value::Tuple(items) => {
                match items
                    .iter()
                    .position(|v| !matches!(v, Value::Tensor(_) | Value::Poison))
                {
                    None if items.iter().any(|v| matches!(v, Value::Poison)) => Value::Poison,
                    None => Value::Tuple(items),
                    Some(k) => self.fail(
                        body.result.span,
                        format!(
                            "block `{kind}` must return a tensor or a tuple of tensors; item {k} is {}",
                            items[k].describe()
                        ),
                    ),
                }
            }
            other => self.fail(
                body.result.span,
                format!(
                    "block `{kind}` must return a tensor or a tuple of tensors, found {}",
                    other.describe()
                ),
            ),
        }
    }
}

impl Ctx<'_> {
    /// The path segment a stage's name gives: its identifier, or its string
    /// with each `{var}` replaced by that integer variable's value
    /// (`"encoder_layer_{i}"`); `None` without a name; empty for `""` (the
    /// enclosing path: a module's own tensors). A string that is not a plain
    /// name after formatting (letters, digits, `_`) is an error.
    pub(super) fn stage_name(&mut self, env: &Env, stage: &Stage) -> Result<Option<String>, ()> {
        if let Some(n) = &stage.name {
            return Ok(Some(n.to_string()));
        }
        let Some(t) = &stage.template else {
            return Ok(None);
        };
        let text = t.value();
        if text.is_empty() {
            // `"": Layer(...)`: the enclosing module's own tensors (a chain
            // only; the caller takes it).
            return Ok(Some(String::new()));
        }
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                self.errors
                    .push(t.span(), format!("unclosed `{{` in the name {text:?}"));
                return Err(());
            };
            let var = &after[..close];
            match env.vars.get(var) {
                Some(Value::Int(i)) => out.push_str(&i.to_string()),
                Some(Value::Poison) => return Err(()),
                Some(other) => {
                    self.errors.push(
                        t.span(),
                        format!(
                            "`{{{var}}}` in a name must be an integer, found {}",
                            other.describe()
                        ),
                    );
                    return Err(());
                }
                None => {
                    let hint = did_you_mean(var, env.vars.keys().map(String::as_str));
                    self.errors.push(
                        t.span(),
                        format!("undefined name `{var}` in the name {text:?}{hint}"),
                    );
                    return Err(());
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        if out.is_empty() || !out.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.errors.push(
                t.span(),
                format!("a layer name is letters, digits and `_`, found {out:?}"),
            );
            return Err(());
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    fn names(src: &str) -> Vec<String> {
        run(src)
            .unwrap()
            .nodes
            .into_iter()
            .map(|n| n.name)
            .collect()
    }

    #[test]
    fn lists_for_and_if_items_are_numbered_in_order() {
        let n = names(
            "pub struct N(x: [3, 8, 8]) {
                x -> f: [ReLU, for i in 0..2 => Conv2d(4 * (i + 1), 1), if false { ReLU } else { Sigmoid }]
            }",
        );
        assert_eq!(n, ["f.0", "f.1", "f.2", "f.3"]);
    }

    #[test]
    fn list_items_are_numbered_under_the_current_prefix() {
        let n = names("pub struct N(x: [3, 8, 8]) { x -> [ReLU, ReLU] -> r: [ReLU; 2] -> ReLU }");
        assert_eq!(n, ["0", "1", "r.0", "r.1", "relu"]);
    }

    #[test]
    fn block_arguments_bind_with_defaults_in_the_block_scope() {
        let i = run(
            "block Unit(x, planes, twice = planes * 2) { x -> c: Conv2d(twice, 1) }
             pub struct N(x: [3, 8, 8]) { x -> u: Unit(4) -> v: Unit(planes = 1, twice = 5) }",
        )
        .unwrap();
        let out: Vec<(String, usize)> = i
            .nodes
            .iter()
            .map(|n| (n.name.clone(), n.output[0]))
            .collect();
        assert_eq!(out, [("u.c".to_string(), 8), ("v.c".to_string(), 5)]);
        let scopes: Vec<(&str, &str, usize)> = i
            .scopes
            .iter()
            .map(|s| (s.path.as_str(), s.kind.as_str(), s.start))
            .collect();
        assert_eq!(scopes, [("u", "Unit", 0), ("v", "Unit", 1)]);
    }

    #[test]
    fn block_binding_errors_use_the_block_wording() {
        let e = errors_of(
            "block Unit(x, planes) { x -> Conv2d(planes, 1) }
             pub struct N(x: [3, 8, 8]) { let a = x -> Unit(1, 2); let b = x -> Unit(plane = 1); a + b }",
        );
        assert_eq!(
            e,
            [
                "block `Unit` takes 1 argument after its input, found more",
                "block `Unit` has no parameter `plane`, did you mean `planes`?",
                "block `Unit` is missing its argument `planes`",
            ]
        );
    }

    #[test]
    fn a_negative_or_non_integer_count_is_an_error() {
        let e = errors_of("pub struct N(x: [3]) { x -> [ReLU; -1] -> [for i in 0..true => ReLU] }");
        assert_eq!(e, ["a repeat count must be non-negative, found -1",]);
        let e = errors_of("pub struct N(x: [3]) { x -> [for i in 0..true => ReLU] }");
        assert_eq!(
            e,
            ["a range bound must be an integer, found the boolean true"]
        );
    }
}
