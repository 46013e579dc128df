//! Module values and shared weights: `let branch = branch: Conv2d(64, 3);`
//! (or a block, `let enc = encoder: Encoder(64);`) binds a module under a
//! path without applying it. Every application (`a -> branch`, `branch(a)`)
//! instantiates the layer or block again under that one path, with nodes of
//! its own (its own activations, MACs and report rows). The first
//! application's weighted nodes own the tensors; every later application's
//! weighted node shares them ([`NodeRec::shares`](super::NodeRec)) and
//! counts no params or buffers, so `PARAMS` counts them once and the state
//! dict holds them once.
//!
//! A later application must need the same tensors: the same shapes (a
//! convolution given other input channels is an error at the application)
//! and no tensors the first application did not make.

use super::{Ctx, Env, ScopeRec};
use crate::ast::{Arg, Spec, Stage};
use crate::layers::{self, ArgVal};
use crate::value::{ModuleVal, Range, Value};
use netspec_model::shape::shape_str;
use netspec_model::Op;
use syn::Ident;

/// A module value's definition.
#[derive(Clone, Debug)]
pub(super) struct ModuleDef {
    /// Its path: its name under the defining block's path.
    pub path: String,
    /// The layer or block it instantiates.
    pub callee: Ident,
    /// Its arguments, evaluated where it is defined.
    pub args: Vec<ArgVal>,
    /// Span of `Callee(args)`.
    pub span: Range,
    /// Span of the whole definition (`name: Callee(args)`).
    pub def_span: Range,
    /// Applications so far.
    pub applications: usize,
    /// Whether anything tried to apply it (also with an invalid input), so
    /// that an earlier error does not also report it as never applied.
    pub used: bool,
    /// The variable `let` bound it to, for messages.
    pub var: Option<String>,
}

/// A module application being expanded.
#[derive(Clone, Debug)]
pub(super) struct Applying {
    /// Which module.
    pub module: usize,
    /// The name the application wrote (`branch` in `a -> branch`).
    pub var: String,
    /// Span of the application.
    pub span: Range,
    /// The input's shape.
    pub input: Vec<usize>,
    /// Whether this is the module's first application (its nodes own the
    /// tensors).
    pub first: bool,
}

/// Whether `path` is `module` or below it.
fn within(path: &str, module: &str) -> bool {
    path == module
        || (path.len() > module.len()
            && path.starts_with(module)
            && path.as_bytes().get(module.len()) == Some(&b'.'))
}

impl<'a> Ctx<'a> {
    /// `name: Callee(args)` with a layer or block callee: a module value,
    /// its arguments evaluated here, its path `name` under the current one.
    pub(super) fn define_module(
        &mut self,
        env: &mut Env,
        name: &Ident,
        callee: &Ident,
        args: &[Arg],
        span: Range,
        def_span: Range,
    ) -> Value {
        let args = self.args(env, args);
        if args.iter().any(|a| a.value == Value::Poison) {
            return Value::Poison;
        }
        let path = env.join(&name.to_string());
        let index = self.modules.len();
        self.modules.push(ModuleDef {
            path: path.clone(),
            callee: callee.clone(),
            args,
            span,
            def_span,
            applications: 0,
            used: false,
            var: None,
        });
        Value::Module(ModuleVal { index, path })
    }

    /// Reports the modules defined from `from` on that nothing applied.
    pub(super) fn check_applied(&mut self, from: usize) {
        let unused: Vec<(Range, String, String)> = self
            .modules
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .filter(|m| !m.used)
            .map(|m| {
                let var = m.var.clone().unwrap_or_else(|| "m".to_string());
                (m.def_span, m.path.clone(), var)
            })
            .collect();
        for (span, path, var) in unused {
            self.errors.push(
                span,
                format!(
                    "module `{path}` is never applied: apply it to a tensor (`x -> {var}` or `{var}(x)`), or remove it"
                ),
            );
        }
    }

    /// The module a stage applies, if its spec names a module variable
    /// (`a -> branch`): its index. A module stage takes no name and no
    /// arguments (both are fixed where it is defined): an error says so.
    pub(super) fn stage_module(&mut self, env: &Env, stage: &Stage) -> Option<Result<usize, ()>> {
        let Spec::Call { name, args, span } = &stage.spec else {
            return None;
        };
        let Some(Value::Module(m)) = env.vars.get(&name.to_string()) else {
            return None;
        };
        let m = m.clone();
        if let Some(d) = self.modules.get_mut(m.index) {
            d.used = true;
        }
        if stage.name.is_some() || stage.template.is_some() {
            self.errors.push(
                *span,
                format!(
                    "`{name}` is a module named `{}` where it is defined: apply it without a name, as in `x -> {name}`",
                    m.path
                ),
            );
            return Some(Err(()));
        }
        if !args.is_empty() {
            self.errors.push(
                *span,
                format!(
                    "`{name}` is a module, its arguments given where it is defined: apply it as `x -> {name}`"
                ),
            );
            return Some(Err(()));
        }
        Some(Ok(m.index))
    }

    /// Applies module `index` to `input` (`a -> branch` or `branch(a)`,
    /// written as `var` at `span`): its layer or block instantiated again
    /// under its path, sharing the first application's tensors.
    pub(super) fn apply_module(
        &mut self,
        env: &mut Env,
        input: Value,
        index: usize,
        var: &str,
        span: Range,
        input_span: Range,
    ) -> Value {
        let Some(def) = self.modules.get_mut(index) else {
            return Value::Poison;
        };
        def.used = true;
        let t = match input {
            Value::Tensor(t) => t,
            Value::Poison => return Value::Poison,
            other => {
                return self.fail(
                    input_span,
                    format!(
                        "the module `{var}` applies to a tensor, found {}",
                        other.describe()
                    ),
                )
            }
        };
        let first = def.applications == 0;
        def.applications = def.applications.saturating_add(1);
        let application = def.applications;
        let def = def.clone();
        if !self.enter(span) {
            return Value::Poison;
        }
        self.applying.push(Applying {
            module: index,
            var: var.to_string(),
            span,
            input: t.shape.clone(),
            first,
        });
        let key = def.callee.to_string();
        let out = match self.blocks.get(&key).copied() {
            Some(block) => {
                let scope = ScopeRec {
                    path: def.path.clone(),
                    kind: key,
                    start: self.nodes.len(),
                    application,
                };
                self.block_bound(
                    env,
                    t,
                    block,
                    def.args,
                    Some(def.path),
                    def.span,
                    Some(scope),
                )
            }
            None => self.layer(env, t, &def.callee, def.args, Some(def.path), span),
        };
        self.applying.pop();
        self.leave();
        out
    }

    /// The node that owns the tensors a new node with tensors at `path`
    /// uses: `None` for a node that owns its own (registered now), the
    /// first application's node for a later application of a module. An
    /// error (reported) for two weighted layers on one path outside a
    /// module, and for a later application that needs other tensors than
    /// the first made.
    pub(super) fn claim_tensors(
        &mut self,
        path: &str,
        op: &Op,
        span: Range,
    ) -> Result<Option<usize>, ()> {
        let sharing = self
            .applying
            .iter()
            .rev()
            .find(|a| {
                !a.first
                    && self
                        .modules
                        .get(a.module)
                        .is_some_and(|m| within(path, &m.path))
            })
            .cloned();
        let owner = self.weighted.get(path).copied();
        match (owner, sharing) {
            (None, None) => {
                self.weighted.insert(path.to_string(), self.nodes.len());
                Ok(None)
            }
            (Some(_), None) | (Some(usize::MAX), Some(_)) => {
                self.errors.push(
                    span,
                    format!(
                        "duplicate layer name `{path}`: another layer with weights has this path"
                    ),
                );
                Err(())
            }
            (None, Some(app)) => {
                let tensors: Vec<String> = op
                    .stored_tensors()
                    .iter()
                    .map(|s| shape_str(&s.shape))
                    .collect();
                self.errors.push(
                    app.span,
                    format!(
                        "`{}` is shared: this input {} makes `{path}` ({} {}), which its first application did not; every application must use the same tensors",
                        app.var,
                        shape_str(&app.input),
                        op.kind(),
                        tensors.join(", ")
                    ),
                );
                Err(())
            }
            (Some(owner), Some(app)) => {
                let theirs = self
                    .nodes
                    .get(owner)
                    .map(|n| n.op.stored_tensors())
                    .unwrap_or_default();
                let ours = op.stored_tensors();
                let module = self
                    .modules
                    .get(app.module)
                    .map_or(String::new(), |m| m.path.clone());
                let rel = path
                    .strip_prefix(module.as_str())
                    .map(|r| r.trim_start_matches('.'))
                    .unwrap_or(path);
                let name = |suffix: &str| match (rel, suffix) {
                    ("", "") => "tensor".to_string(),
                    ("", s) => s.to_string(),
                    (r, "") => format!("`{r}`"),
                    (r, s) => format!("`{r}.{s}`"),
                };
                let same = |x: &netspec_model::op::StoredTensor,
                            y: &netspec_model::op::StoredTensor| {
                    x.suffix == y.suffix && x.shape == y.shape
                };
                if theirs.len() == ours.len() && theirs.iter().zip(&ours).all(|(x, y)| same(x, y)) {
                    return Ok(Some(owner));
                }
                let input = shape_str(&app.input);
                let aligned = theirs.len() == ours.len()
                    && theirs.iter().zip(&ours).all(|(x, y)| x.suffix == y.suffix);
                let message = match theirs.iter().zip(&ours).find(|(x, y)| !same(x, y)) {
                    Some((x, y)) if aligned => format!(
                        "its {} is {} but this input {input} needs {}",
                        name(x.suffix),
                        shape_str(&x.shape),
                        shape_str(&y.shape)
                    ),
                    _ => {
                        let list = |v: &[netspec_model::op::StoredTensor]| {
                            let all: Vec<String> = v
                                .iter()
                                .map(|t| format!("{} {}", name(t.suffix), shape_str(&t.shape)))
                                .collect();
                            if all.is_empty() {
                                "none".to_string()
                            } else {
                                all.join(", ")
                            }
                        };
                        format!(
                            "its tensors are {} but this input {input} needs {}",
                            list(&theirs),
                            list(&ours)
                        )
                    }
                };
                self.errors
                    .push(app.span, format!("`{}` is shared: {message}", app.var));
                Err(())
            }
        }
    }

    /// For a buffer (`name: Buffer(array)`) at `path` in a later
    /// application of a shared module: the first application's entry in
    /// the constants table (`Some(Some(i))`), or an error (reported,
    /// `Some(None)`) if this application computes other values. `None`
    /// outside a later application.
    pub(super) fn shared_buffer(
        &mut self,
        path: &str,
        a: &crate::value::ArrayVal,
    ) -> Option<Option<usize>> {
        let app = self
            .applying
            .iter()
            .rev()
            .find(|app| {
                !app.first
                    && self
                        .modules
                        .get(app.module)
                        .is_some_and(|m| within(path, &m.path))
            })
            .cloned()?;
        let i = self.constants.iter().position(|c| c.name == path)?;
        let c = self.constants.get(i)?;
        if c.shape == a.shape && c.data == a.data {
            return Some(Some(i));
        }
        let message = if c.shape == a.shape {
            format!(
                "`{}` is shared: its buffer `{path}` has other values for this input {}; every application must compute the same",
                app.var,
                shape_str(&app.input)
            )
        } else {
            format!(
                "`{}` is shared: its buffer `{path}` is {} but this input {} computes {}",
                app.var,
                shape_str(&c.shape),
                shape_str(&app.input),
                shape_str(&a.shape)
            )
        };
        self.errors.push(app.span, message);
        Some(None)
    }

    /// Whether `name` is a layer or block (a module can be made of it).
    pub(super) fn is_callee(&self, name: &str) -> bool {
        layers::is_layer(name) || self.blocks.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    /// `(name, shares, params, macs)` of every node.
    fn nodes(src: &str) -> Vec<(String, Option<usize>, u64, u64)> {
        run(src)
            .unwrap()
            .nodes
            .into_iter()
            .map(|n| (n.name, n.shares, n.costs.params, n.costs.macs))
            .collect()
    }

    #[test]
    fn a_layer_module_counts_its_params_once_and_its_macs_every_time() {
        let n = nodes(
            "pub struct N(x: [3, 8, 8]) {
                let branch = branch: Conv2d(3, 3, padding = 1);
                let a = x -> branch;
                let b = branch(a) -> ReLU;
                a -> branch
            }",
        );
        // 3·3·9 + 3 = 84 params; MACs 3·64·(3·9) = 5184 per application.
        let s = |name: &str, shares, params| (name.to_string(), shares, params, 5184);
        assert_eq!(
            n,
            [
                s("branch", None, 84),
                s("branch", Some(0), 0),
                ("relu".to_string(), None, 0, 0),
                s("branch", Some(0), 0),
            ]
        );
    }

    #[test]
    fn a_block_module_applied_in_sequence_shares_every_tensor() {
        let i = run("block Refine(x, c) {
                let y = x -> conv: Conv2d(c, 3, padding = 1, bias = false) -> bn: BatchNorm2d -> ReLU;
                x + y
            }
            pub struct N(x: [4, 6, 6]) {
                let step = step: Refine(4);
                x -> step -> step -> step
            }")
        .unwrap();
        let names: Vec<(&str, Option<usize>)> = i
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.shares))
            .collect();
        let app = |conv, bn| {
            [
                ("step.conv", conv),
                ("step.bn", bn),
                ("step.relu", None),
                ("step.add", None),
            ]
        };
        let want: Vec<_> = [
            app(None, None),
            app(Some(0), Some(1)),
            app(Some(0), Some(1)),
        ]
        .concat();
        assert_eq!(names, want);
        // conv 4·4·9 = 144, bn 8 params + 8 buffers, counted once.
        let params: u64 = i.nodes.iter().map(|n| n.costs.params).sum();
        let buffers: u64 = i.nodes.iter().map(|n| n.costs.buffers).sum();
        let macs: u64 = i.nodes.iter().map(|n| n.costs.macs).sum();
        assert_eq!((params, buffers, macs), (152, 8, 3 * 4 * 36 * 36));
        let scopes: Vec<(&str, usize, usize)> = i
            .scopes
            .iter()
            .map(|s| (s.path.as_str(), s.start, s.application))
            .collect();
        assert_eq!(scopes, [("step", 0, 1), ("step", 4, 2), ("step", 8, 3)]);
    }

    #[test]
    fn modules_in_lists_blocks_and_arguments() {
        // In a list: the module keeps its path, the other items their index.
        let n = nodes(
            "pub struct N(x: [4]) {
                let fc = fc: Linear(4);
                x -> layers: [fc, ReLU, fc]
            }",
        );
        let names: Vec<&str> = n.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["fc", "layers.1", "fc"]);
        assert_eq!((n[0].2, n[2].1, n[2].2), (20, Some(0), 0));
        // Defined in a block: one module per instance, under its path.
        let n = nodes(
            "block Twice(x) { let l = lin: Linear(4); x -> l -> l }
             pub struct N(x: [4]) { x -> a: Twice -> b: Twice }",
        );
        let shares: Vec<(&str, Option<usize>)> = n.iter().map(|x| (x.0.as_str(), x.1)).collect();
        assert_eq!(
            shares,
            [
                ("a.lin", None),
                ("a.lin", Some(0)),
                ("b.lin", None),
                ("b.lin", Some(2))
            ]
        );
        // Passed to a block: tied layers across blocks.
        let n = nodes(
            "block Apply(x, m) { x -> m -> ReLU }
             pub struct N(x: [4]) { let t = tied: Linear(4); x -> Apply(t) -> Apply(t) }",
        );
        let shares: Vec<Option<usize>> = n.iter().map(|x| x.1).collect();
        assert_eq!(shares, [None, None, Some(0), None]);
    }

    #[test]
    fn an_application_that_needs_other_tensors_is_an_error() {
        let e = errors_of(
            "pub struct N(x: [3, 8, 8]) {
                let branch = branch: Conv2d(64, 3);
                let a = x -> branch;
                let b = x -> Conv2d(16, 1);
                b -> branch
            }",
        );
        assert_eq!(
            e,
            ["`branch` is shared: its weight is [64, 3, 3, 3] but this input [16, 8, 8] needs [64, 16, 3, 3]"]
        );
        // Inside a block module, the tensor is named by its path in it.
        let e = errors_of(
            "block Head(x) { x -> proj: Linear(8) }
             pub struct N(x: [4]) { let h = head: Head; let a = x -> h; let b = a -> h; b }",
        );
        assert_eq!(
            e,
            ["`h` is shared: its `proj.weight` is [8, 4] but this input [8] needs [8, 8]"]
        );
        // A later application may leave out a tensor the first made.
        let i = run("block Unit(x, c) {
                let s = if x.channels != c { x -> down: Conv2d(c, 1) } else { x };
                s -> ReLU
            }
            pub struct N(x: [4, 2, 2]) { let u = unit: Unit(4); let a = x -> Conv2d(2, 1) -> u; x -> u }")
        .unwrap();
        let names: Vec<&str> = i.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["conv2d", "unit.down", "unit.relu", "unit.relu"]);
    }

    #[test]
    fn a_later_application_cannot_make_new_tensors() {
        let e = errors_of(
            "block Unit(x, c) {
                let s = if x.channels != c { x -> down: Conv2d(c, 1) } else { x };
                s -> ReLU
            }
            pub struct N(x: [4, 2, 2]) { let u = unit: Unit(4); let a = x -> u; let b = x -> Conv2d(2, 1) -> u; a + b }",
        );
        assert_eq!(
            e,
            ["`u` is shared: this input [2, 2, 2] makes `unit.down` (Conv2d [4, 2, 1, 1], [4]), which its first application did not; every application must use the same tensors"]
        );
    }

    #[test]
    fn module_mistakes_are_errors() {
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); x }");
        assert_eq!(
            e,
            ["module `m` is never applied: apply it to a tensor (`x -> m` or `m(x)`), or remove it"]
        );
        let e =
            errors_of("pub struct N(x: [4]) { let trunk = trunk: Linear(2); x -> trunk -> trunc }");
        assert_eq!(
            e,
            ["unknown layer or module `trunc`, did you mean `trunk`?"]
        );
        let e = errors_of("pub struct N(x: [4]) { x -> branch }");
        assert_eq!(
            e,
            ["unknown layer or module `branch`: a module is defined before it is applied, as in `let branch = branch: Conv2d(64, 3);`"]
        );
        let e = errors_of("pub struct N(x: [4]) { let y = x; x -> y }");
        assert!(
            e[0].starts_with("`y` is a tensor [4], not a layer, block or module"),
            "{e:?}"
        );
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); x -> n: m }");
        assert_eq!(
            e,
            ["`m` is a module named `m` where it is defined: apply it without a name, as in `x -> m`"]
        );
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); x -> m(3) }");
        assert!(
            e[0].contains("its arguments given where it is defined"),
            "{e:?}"
        );
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); m(x, x) }");
        assert!(e[0].contains("applied to one tensor"), "{e:?}");
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); m(3) }");
        assert_eq!(
            e,
            ["the module `m` applies to a tensor, found the integer 3"]
        );
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); m -> ReLU }");
        assert!(e[0].contains("found the module `m`"), "{e:?}");
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); m + x }");
        assert_eq!(e, ["a tensor combines with numbers, found the module `m`"]);
        // An error in the input does not also report the module unused.
        let e = errors_of("pub struct N(x: [4]) { let m = m: Linear(4); y -> m }");
        assert_eq!(e, ["undefined name `y`, did you mean `m`?"]);
        // Outside a module, two weighted layers on one path are still an error.
        let e = errors_of(
            "pub struct N(x: [4]) { let m = m: Linear(4); let a = x -> m; a -> m: Linear(4) }",
        );
        assert_eq!(
            e,
            ["duplicate layer name `m`: another layer with weights has this path"]
        );
    }

    #[test]
    fn a_network_may_return_a_tuple_of_tensors() {
        let i = run("pub struct N(x: [4]) {
            let h = x -> fc1: Linear(8);
            let out = h -> ReLU -> fc2: Linear(2);
            (out, h)
        }")
        .unwrap();
        assert_eq!(
            (i.outputs.clone(), i.output, i.tuple),
            (vec![3, 1], 3, true)
        );
        let i = run("pub struct N(x: [4]) { chunk(x, 2, dim = 1) }").unwrap();
        assert_eq!((i.outputs.len(), i.tuple), (2, true));
        let i = run("pub struct N(x: [4]) { x -> ReLU }").unwrap();
        assert_eq!((i.outputs.clone(), i.tuple), (vec![1], false));
        let e = errors_of("pub struct N(x: [4]) { (x, 3) }");
        assert_eq!(
            e,
            ["a network returns a tensor or a tuple of tensors; output 1 is the integer 3"]
        );
        let e = errors_of("pub struct N(x: [4]) { (x, (x, x)) }");
        assert_eq!(
            e,
            ["a network returns a tensor or a tuple of tensors; output 1 is a tuple of 2"]
        );
    }
}
