//! Compile-time arrays meeting the graph: the network's constants table,
//! named buffers (`relative_position_index: Buffer(...)`), arrays that
//! become constant tensors where they meet a tensor (`scores + mask`), and
//! gathers by a constant integer array (`table[index]`).

use super::arrays::MAX_ARRAY_ELEMENTS;
use super::{Ctx, Env};
use crate::ast::Arg;
use crate::layers::ArgVal;
use crate::value::{ArrayVal, Range, TensorVal, Value};
use netspec_model::{shape, Dims, Op, MAX_RANK};
use std::rc::Rc;
use syn::Ident;

/// One entry of a network's constants table.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstRec {
    /// The state-dict name of the buffer it stands for, empty if none.
    pub name: String,
    /// Its full shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Rc<Vec<f64>>,
    /// Whether every value is an integer.
    pub integer: bool,
}

impl Ctx<'_> {
    /// The entry of `a` in the constants table: its own for a named
    /// buffer, an equal one already there, or a new one.
    fn intern_constant(
        &mut self,
        name: Option<String>,
        a: &ArrayVal,
        span: Range,
    ) -> Option<usize> {
        if name.is_none() {
            if let Some(i) = a.buffer {
                return Some(i);
            }
            let same = |c: &ConstRec| {
                c.data.len() == a.data.len() && (Rc::ptr_eq(&c.data, &a.data) || c.data == a.data)
            };
            if let Some(i) = self.constants.iter().position(same) {
                return Some(i);
            }
        }
        let held: usize = self.constants.iter().map(|c| c.data.len()).sum();
        if held.saturating_add(a.data.len()) > MAX_ARRAY_ELEMENTS {
            self.errors.push(
                span,
                format!("the network's constants hold more than {MAX_ARRAY_ELEMENTS} values"),
            );
            return None;
        }
        self.constants.push(ConstRec {
            name: name.unwrap_or_default(),
            shape: a.shape.clone(),
            data: a.data.clone(),
            integer: a.integer,
        });
        Some(self.constants.len() - 1)
    }

    /// `name: Buffer(array)`: the array, also a buffer of the state dict at
    /// the path of `name`. A state dict that carries a tensor of that name is
    /// checked against these values at load; one that does not is accepted.
    pub(super) fn buffer(
        &mut self,
        env: &mut Env,
        name: &Ident,
        args: &[Arg],
        span: Range,
    ) -> Value {
        let vals = self.args(env, args);
        let usage = "`Buffer` takes one compile-time array: index: Buffer(arange(49))";
        let [ArgVal {
            name: None,
            value,
            span: at,
        }] = vals.as_slice()
        else {
            return self.fail(span, usage);
        };
        let a = match value {
            Value::Array(a) => a.clone(),
            Value::Poison => return Value::Poison,
            other => return self.fail(*at, format!("{usage}, found {}", other.describe())),
        };
        if !self.step(span) {
            return Value::Poison;
        }
        let path = env.join(&name.to_string());
        // A later application of a shared module: the first's buffer.
        if let Some(shared) = self.shared_buffer(&path, &a) {
            return match shared {
                Some(i) => Value::Array(ArrayVal {
                    buffer: Some(i),
                    ..a
                }),
                None => Value::Poison,
            };
        }
        if self.weighted.contains_key(&path) {
            return self.fail(
                span,
                format!(
                    "duplicate name `{path}`: a layer with weights or another buffer has this path"
                ),
            );
        }
        // Not a node: no layer may share it.
        self.weighted.insert(path.clone(), usize::MAX);
        match self.intern_constant(Some(path), &a, span) {
            Some(i) => Value::Array(ArrayVal {
                buffer: Some(i),
                ..a
            }),
            None => Value::Poison,
        }
    }

    /// The array `a` as a constant tensor of the graph: an
    /// [`Op::Constant`] node (named after its buffer, or `constant`),
    /// unbatched, its shape the array's.
    pub(super) fn materialise(
        &mut self,
        env: &Env,
        a: &ArrayVal,
        span: Range,
    ) -> Option<TensorVal> {
        if a.shape.len() > MAX_RANK {
            self.errors.push(
                span,
                format!("a constant tensor has at most {MAX_RANK} dimensions"),
            );
            return None;
        }
        if a.data.iter().any(|v| v.abs() > f64::from(f32::MAX)) {
            self.errors.push(
                span,
                "a constant tensor holds f32 values, and this array has values beyond f32's range",
            );
            return None;
        }
        let index = self.intern_constant(None, a, span)?;
        let path = match a.buffer.and_then(|i| self.constants.get(i)) {
            Some(c) => c.name.clone(),
            None => env.join("constant"),
        };
        let op = Op::Constant {
            index,
            shape: Dims::new(&a.shape),
        };
        match self.node_named(op, Vec::new(), path, false, span, &|_| span) {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// The arguments of the tensor function `key` with the arrays among
    /// them handled: where a tensor is among the arguments, each array
    /// becomes a constant tensor (`Ok`); a call on arrays alone is evaluated
    /// at once as an array method (`Err` with its result).
    pub(super) fn route_arrays(
        &mut self,
        env: &Env,
        key: &str,
        vals: Vec<ArgVal>,
        span: Range,
    ) -> Result<Vec<ArgVal>, Value> {
        if !vals.iter().any(|a| matches!(a.value, Value::Array(_))) {
            return Ok(vals);
        }
        if !vals.iter().any(|a| matches!(a.value, Value::Tensor(_))) {
            return Err(match vals.split_first() {
                Some((
                    ArgVal {
                        value: Value::Array(a),
                        ..
                    },
                    rest,
                )) => self.array_method(key, a.clone(), rest, span),
                _ => self.fail(span, format!("`{key}` takes a tensor or an array first")),
            });
        }
        let mut out = Vec::with_capacity(vals.len());
        for v in vals {
            let value = match &v.value {
                Value::Array(a) => match self.materialise(env, a, v.span) {
                    Some(t) => Value::Tensor(t),
                    None => return Err(Value::Poison),
                },
                other => other.clone(),
            };
            out.push(ArgVal { value, ..v });
        }
        Ok(out)
    }

    /// `t[..., idx, ...]`: the entries of tensor `t` along axis `dim` of its
    /// view (per sample if batched, its full shape if not) of size `size`,
    /// picked by the integer array `idx` (negative from the end): an
    /// [`Op::Gather`] node whose indices are a constant of the graph.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gather(
        &mut self,
        env: &Env,
        t: TensorVal,
        dim: usize,
        size: usize,
        idx: &ArrayVal,
        span: Range,
        spans: [Range; 2],
    ) -> Value {
        // Indices travel as f32, exact up to 2^24.
        if size > 1 << 24 {
            return self.fail(
                spans[1],
                format!("indexing by an array reaches dimensions of at most 16777216 entries, found {size}"),
            );
        }
        let Some(indices) = self.indices_of(idx, size, spans[1]) else {
            return Value::Poison;
        };
        // The view is the tensor's shape: per sample if batched, whole if not.
        let rank = t.shape.len().saturating_sub(1) + idx.shape.len();
        if idx.shape.len() > MAX_RANK || rank > MAX_RANK {
            return self.fail(
                spans[1],
                format!(
                    "indexing by the array {} gives more than {MAX_RANK} dimensions",
                    shape::shape_str(&idx.shape)
                ),
            );
        }
        // The table holds the indices normalised (negative ones from the end).
        let normalised: Vec<f64> = indices.iter().map(|&i| i as f64).collect();
        let a = if normalised == *idx.data {
            idx.clone()
        } else {
            ArrayVal {
                data: Rc::new(normalised),
                buffer: None,
                ..idx.clone()
            }
        };
        let Some(index) = self.intern_constant(None, &a, spans[1]) else {
            return Value::Poison;
        };
        let op = Op::Gather {
            dim,
            index,
            shape: Dims::new(&idx.shape),
        };
        self.node(env, op, vec![t], None, span, &spans[..1], "gather")
    }
}

#[cfg(test)]
mod tests {
    // Compile-time arrays, buffers, constants and gathers, against values
    // computed by hand and by torchvision (the relative-position index and the
    // shifted-window mask of its `ShiftedWindowAttention`).

    use crate::eval::tests::{errors_of, run};
    use crate::eval::Instance;
    use netspec_model::Op;

    /// The network `x + <expr>` for an input of `shape`: the constant the array
    /// `expr` became (its shape and values).
    fn constant(shape: &str, expr: &str) -> (Vec<usize>, Vec<f64>) {
        let i = run(&format!("pub struct N(x: {shape}) {{ x + ({expr}) }}")).unwrap();
        let node = i
            .nodes
            .iter()
            .find(|n| matches!(n.op, Op::Constant { .. }))
            .unwrap();
        let Op::Constant { index, shape } = node.op else {
            unreachable!()
        };
        (
            shape.as_slice().to_vec(),
            i.constants[index].data.as_ref().clone(),
        )
    }

    fn values(shape: &str, expr: &str) -> Vec<f64> {
        constant(shape, expr).1
    }

    #[test]
    fn constructors_and_integer_arithmetic() {
        assert_eq!(values("[5]", "arange(5)"), [0., 1., 2., 3., 4.]);
        assert_eq!(values("[3]", "arange(-1, 5, 2)"), [-1., 1., 3.]);
        assert_eq!(values("[2, 2]", "ones(2, 2) * 3 - zeros((2, 2))"), [3.; 4]);
        // Integer `/` floors and `%` is never negative, as for integers:
        // [-3, -2, -1, 0, 1, 2] / 2 = [-2, -1, -1, 0, 0, 1], % 2 = [1, 0, 1, 0, 1, 0].
        assert_eq!(
            values("[6]", "arange(-3, 3) / 2"),
            [-2., -1., -1., 0., 0., 1.]
        );
        assert_eq!(values("[6]", "arange(-3, 3) % 2"), [1., 0., 1., 0., 1., 0.]);
        // A float anywhere makes a float array: true division.
        assert_eq!(values("[3]", "arange(3) / 2.0"), [0., 0.5, 1.]);
        // Comparisons give 0/1 and combine with numbers.
        assert_eq!(
            values("[4]", "(arange(4) >= 2) + (arange(4) != 1) * 10"),
            [10., 0., 11., 11.]
        );
        assert_eq!(values("[3]", "-arange(3) + !arange(3)"), [1., -1., -2.]);
    }

    #[test]
    fn shapes_follow_pytorch_on_full_shapes() {
        // arange(6).view(2, 3) = [[0, 1, 2], [3, 4, 5]]
        let (s, v) = constant("[3, 2]", "arange(6).view(2, 3).transpose(0, 1)");
        assert_eq!((s, v), (vec![3, 2], vec![0., 3., 1., 4., 2., 5.]));
        let (s, v) = constant("[2, 3]", "arange(6).reshape(-1, 3).permute(0, 1)");
        assert_eq!((s, v), (vec![2, 3], vec![0., 1., 2., 3., 4., 5.]));
        // [:, None] - [None, :]: the pairwise differences
        let (s, v) = constant("[3, 3]", "arange(3)[:, None] - arange(3)[None, :]");
        assert_eq!(s, [3, 3]);
        assert_eq!(v, [0., -1., -2., 1., 0., -1., 2., 1., 0.]);
        let (s, _) = constant("[2, 6]", "arange(12).view(2, 2, 3).flatten(1)");
        assert_eq!(s, [2, 6]);
        let (s, _) = constant("[4, 1, 3]", "arange(12).view(4, 3).unsqueeze(1)");
        assert_eq!(s, [4, 1, 3]);
        // x[..., 0], x[1:], x[-1], a.size(1), sum
        assert_eq!(values("[2]", "arange(6).view(2, 3)[..., 0]"), [0., 3.]);
        assert_eq!(values("[3]", "arange(6).view(2, 3)[-1]"), [3., 4., 5.]);
        assert_eq!(values("[2]", "arange(6).view(3, 2)[1:, 1]"), [3., 5.]);
        let i = run("pub struct N(x: [3]) { x -> Linear(arange(6).view(2, 3).size(1)) }").unwrap();
        assert_eq!(i.nodes[0].output, [3]);
        assert_eq!(values("[2]", "arange(6).view(2, 3).sum(-1)"), [3., 12.]);
        // roll: torch.roll(arange(5), -2) = [2, 3, 4, 0, 1]
        assert_eq!(values("[5]", "arange(5).roll(-2, 0)"), [2., 3., 4., 0., 1.]);
        // indexing an array by an integer array
        assert_eq!(
            values("[3]", "(arange(4) * 10)[arange(3) + 1]"),
            [10., 20., 30.]
        );
        // a 0-d result is a number
        let i = run("pub struct N(x: [3]) { x -> Linear(arange(5)[3] + 1) }").unwrap();
        assert_eq!(i.nodes[0].output, [4]);
    }

    /// torchvision's `define_relative_position_index`, written with arrays.
    const INDEX: &str = "
        block B(x, w) {
            let t = arange(w * w);
            let (i, j) = (t / w, t % w);
            let di = i[:, None] - i[None, :] + (w - 1);
            let dj = j[:, None] - j[None, :] + (w - 1);
            let index = relative_position_index: Buffer((di * (2 * w - 1) + dj).flatten());
            let table = relative_position_bias_table: Parameter((2 * w - 1) * (2 * w - 1), 2);
            let bias = table[index][None].view(w * w, w * w, 2).permute(0, 3, 1, 2);
            x + bias
        }";

    fn named(i: &Instance, name: &str) -> Vec<f64> {
        let c = i.constants.iter().find(|c| c.name == name).unwrap();
        c.data.as_ref().clone()
    }

    #[test]
    fn relative_position_index_equals_torchvision() {
        let i = run(&format!(
            "{INDEX} pub struct N(x: [2, 4, 4]) {{ x -> attn: B(2) }}"
        ))
        .unwrap();
        // ShiftedWindowAttention(8, [2, 2], [1, 1], 2).relative_position_index
        let want = [4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4];
        let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
        assert_eq!(named(&i, "attn.relative_position_index"), want);
        let gather = i.nodes.iter().find(|n| n.name == "attn.gather").unwrap();
        assert_eq!(gather.input_shapes, [vec![9, 2]]);
        assert_eq!(gather.output, [16, 2]);
        assert!(matches!(gather.op, Op::Gather { dim: 0, .. }));
        assert_eq!(gather.costs.flops, 0);
        // 18 table values in, 32 out, as f32
        assert_eq!(gather.costs.memory_access_bytes, 4 * (18 + 32));
        let add = i.nodes.last().unwrap();
        assert_eq!(add.output, [2, 4, 4]);
        // The index is not repeated in the table for the gather.
        assert_eq!(i.constants.len(), 1);
        // window 3: the first row of torchvision's 81 values
        let i = run(&format!(
            "{INDEX} pub struct N(x: [2, 9, 9]) {{ x -> attn: B(3) }}"
        ))
        .unwrap();
        assert_eq!(
            named(&i, "attn.relative_position_index")[..9],
            [12., 11., 10., 7., 6., 5., 2., 1., 0.]
        );
    }

    #[test]
    fn shifted_window_mask_equals_torchvision() {
        // torchvision's `shifted_window_attention` mask for a padded 4x4 map,
        // window 2, shift 1: region ids, windows, pairwise differences != 0.
        let src = "pub struct N(x: [4, 2, 4, 4]) {
            let (h, w, ws, s) = (4, 4, 2, 1);
            let rh = (arange(h) >= h - ws) + (arange(h) >= h - s);
            let rw = (arange(w) >= w - ws) + (arange(w) >= w - s);
            let ids = rh[:, None] * 3 + rw[None, :];
            let windows = ids.view(h / ws, ws, w / ws, ws).permute(0, 2, 1, 3).reshape(4, ws * ws);
            let mask = (windows.unsqueeze(1) - windows.unsqueeze(2) != 0) * -100.0;
            x + mask.unsqueeze(1)
        }";
        let i = run(src).unwrap();
        let c = &i.constants[0];
        assert_eq!(c.shape, [4, 1, 4, 4]);
        let want: [[i32; 4]; 16] = [
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, -100, 0, -100],
            [-100, 0, -100, 0],
            [0, -100, 0, -100],
            [-100, 0, -100, 0],
            [0, 0, -100, -100],
            [0, 0, -100, -100],
            [-100, -100, 0, 0],
            [-100, -100, 0, 0],
            [0, -100, -100, -100],
            [-100, 0, -100, -100],
            [-100, -100, 0, -100],
            [-100, -100, -100, 0],
        ];
        let want: Vec<f64> = want.iter().flatten().map(|&v| f64::from(v)).collect();
        assert_eq!(*c.data, want);
        assert!(!c.integer && c.name.is_empty());
        // The constant is unbatched: it broadcasts over the batch.
        assert_eq!(i.nodes.last().unwrap().output, [4, 2, 4, 4]);
    }

    #[test]
    fn equal_constants_are_stored_once_and_cost_nothing() {
        let i =
            run("pub struct N(x: [4]) { let m = arange(4); let y = x + m; y * (m + 0) }").unwrap();
        assert_eq!(i.constants.len(), 1);
        let c = i.nodes.iter().find(|n| n.name == "constant").unwrap();
        assert_eq!(
            (
                c.costs.flops,
                c.costs.memory_access_bytes,
                c.costs.activations
            ),
            (0, 0, 0)
        );
        assert!(c.inputs.is_empty());
    }

    #[test]
    fn mistakes_are_spanned_errors() {
        let one = |src: &str| -> String {
            let e = errors_of(&format!("pub struct N(x: [4]) {{ {src} }}"));
            assert_eq!(e.len(), 1, "{e:?}");
            e[0].clone()
        };
        assert!(one("x + arange(20000000)").contains("more than 16777216 values"));
        assert!(one("x + zeros(4096, 4096, 2)").contains("more than 16777216 values"));
        assert!(one("x + arange(3, 3)").contains("is empty"));
        assert!(one("x + arange(6).view(4, -1)").contains("cannot reshape the array [6]"));
        assert!(one("x + arange(6).view(-1, -1)").contains("cannot reshape"));
        assert!(one("x + arange(4)[4]").contains("out of range"));
        assert!(one("x + arange(4)[:, 0]").contains("too many indices"));
        assert!(one("x + arange(4) / (arange(4) - 1)").contains("division by zero"));
        assert!(one("x + arange(4) % 2.0").contains("integer arrays"));
        assert!(one("x + (arange(3) + arange(4))").contains("do not broadcast"));
        assert!(one("x + arange(4).transpose(0, 1)").contains("out of range"));
        assert!(one("x + arange(4).mystery()").contains("not defined on compile-time arrays"));
        assert!(one("x + softmax(arange(4), 0)").contains("not defined on compile-time arrays"));
        assert!(one("x + arange(4) @ arange(4)").contains("`@` multiplies tensors"));
        assert!(
            one("let t = t: Parameter(5, 2); x + t[arange(4) * 2][:, 0]").contains("out of range")
        );
        assert!(
            one("let t = t: Parameter(5, 2); x + t[arange(4) * 0.5][:, 0]")
                .contains("integer array")
        );
        assert!(one("x[arange(2)]").contains("batch"));
        assert!(one("let b = b: Buffer(3); x").contains("one compile-time array"));
        assert!(
            one("let b = b: Buffer(arange(4)); let c = b: Buffer(arange(4)); x + b")
                .contains("duplicate name `b`")
        );
        assert!(one("x + arange(9007199254740993)").contains("more than 16777216"));
        assert!(one("x + arange(1000000) * 1000000000 * 1000000000").contains("integer overflow"));
        assert!(one("x + arange(4) * 1e300").contains("beyond f32's range"));
        assert!(one("if arange(2) { x } else { x }")
            .contains("must be a boolean, found an integer array [2]"));
        assert!(one("arange(4)").contains("must return a tensor, found an integer array [4]"));
        assert!(one("x -> Linear(arange(4))").contains("found an integer array [4]"));
    }

    #[test]
    fn arrays_pass_to_blocks() {
        let i = run("block B(x, m) { x * m[None] } pub struct N(x: [4]) { x -> B(arange(4) + 1) }")
            .unwrap();
        assert_eq!(*i.constants[0].data, [1., 2., 3., 4.]);
        assert_eq!(i.nodes.last().unwrap().output, [4]);
    }

    #[test]
    fn arrays_gather_and_meet_batched_tensors() {
        // x[:, idx] on a batched tensor gathers along a per-sample axis.
        let i = run("pub struct N(x: [5, 3]) { x[:, arange(4) % 5] }").unwrap();
        let g = &i.nodes.last().unwrap();
        assert_eq!(g.output, [4, 3]);
        assert!(matches!(g.op, Op::Gather { dim: 0, .. }));
        // ... and along the last one, with a 2-D index.
        let i = run("pub struct N(x: [5, 3]) { x[..., arange(4).view(2, 2) % 3] }").unwrap();
        assert_eq!(i.nodes.last().unwrap().output, [5, 2, 2]);
        // An array in a tensor function and in attention's mask.
        let i = run("pub struct N(x: [4, 6]) {
            let m = (arange(4)[:, None] < arange(4)[None, :]) * -100.0;
            let y = attention(x, x, x, mask = m);
            cat(y, zeros(1, 4, 6), dim = 1)
        }")
        .unwrap();
        assert_eq!(i.nodes.last().unwrap().output, [8, 6]);
        assert_eq!(i.constants.len(), 2);
    }
}
