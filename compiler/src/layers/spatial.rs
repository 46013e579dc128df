//! The layers over one to three spatial axes: `Conv1d`, `Conv2d`,
//! `Conv3d`, `ConvTranspose1d/2d/3d`, `BatchNorm1d/2d/3d`, `MaxPool1d/2d/3d`,
//! `AvgPool1d/2d/3d`, `AdaptiveAvgPool1d/3d`, `Upsample` (its arguments are
//! `interpolate`'s, in [`super::upsample`]), and `PReLU`, `Hardtanh`, `ELU`,
//! with PyTorch's arguments and defaults. Spatial arguments are an integer
//! (every axis) or a tuple of one entry per axis (a pair `(h, w)` for the
//! 2-D layers, one integer only for `Conv1d`), kept right-aligned in three
//! entries as [`ConvNd`] and [`PoolNd`] keep them; the 2-D layers and
//! `Conv1d` are then stored as their `Conv2d` and `Pool2d`.

use super::{Bound, LayerDef};
use crate::value::{Errors, Value};
use netspec_model::op::right_aligned;
use netspec_model::{Activation, BatchNorm2d, Conv2d, ConvNd, Op, Pool2d, PoolNd};

/// The arguments of `Conv1d`, `Conv2d` and `Conv3d`.
pub(super) const CONV: &[&str] = &[
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "padding_mode",
];

/// PyTorch's order: `output_padding` before `groups`, `dilation` last.
const CONV_TRANSPOSE: &[&str] = &[
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "output_padding",
    "groups",
    "bias",
    "dilation",
    "padding_mode",
];

/// The arguments of `BatchNorm1d/2d/3d`.
pub(super) const BATCH_NORM: &[&str] = &[
    "num_features",
    "eps",
    "momentum",
    "affine",
    "track_running_stats",
];

/// The arguments of `MaxPool1d/2d/3d`.
pub(super) const MAX_POOL: &[&str] = &[
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "return_indices",
    "ceil_mode",
];

/// The arguments of `AvgPool2d` and `AvgPool3d` (`AvgPool1d`'s without the
/// last, `divisor_override`).
pub(super) const AVG_POOL: &[&str] = &[
    "kernel_size",
    "stride",
    "padding",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
];

const fn def(name: &'static str, params: &'static [&'static str], required: usize) -> LayerDef {
    LayerDef {
        name,
        params,
        required,
    }
}

/// The layers of this module.
pub(super) const CATALOGUE: &[LayerDef] = &[
    def("Conv3d", CONV, 2),
    def("ConvTranspose1d", CONV_TRANSPOSE, 2),
    def("ConvTranspose2d", CONV_TRANSPOSE, 2),
    def("ConvTranspose3d", CONV_TRANSPOSE, 2),
    def("BatchNorm1d", BATCH_NORM, 0),
    def("BatchNorm3d", BATCH_NORM, 0),
    def("MaxPool1d", MAX_POOL, 1),
    def("MaxPool3d", MAX_POOL, 1),
    // PyTorch's AvgPool1d has no `divisor_override`; AvgPool3d has it.
    def("AvgPool1d", AVG_POOL.split_at(AVG_POOL.len() - 1).0, 1),
    def("AvgPool3d", AVG_POOL, 1),
    def("AdaptiveAvgPool1d", &["output_size"], 1),
    def("AdaptiveAvgPool3d", &["output_size"], 1),
    def("Upsample", super::upsample::UPSAMPLE_PARAMS, 0),
    def("PReLU", &["num_parameters", "init"], 0),
    def("Hardtanh", &["min_val", "max_val", "inplace"], 0),
    def("ELU", &["alpha", "inplace"], 0),
];

/// The layers of the parent's catalogue built here.
const BUILT_HERE: &[&str] = &["Conv1d", "Conv2d", "BatchNorm2d", "MaxPool2d", "AvgPool2d"];

/// Whether layer `name` is built here.
pub(super) fn builds(name: &str) -> bool {
    BUILT_HERE.contains(&name) || CATALOGUE.iter().any(|d| d.name == name)
}

/// How a layer writes its spatial arguments.
#[derive(Clone, Copy)]
enum Form {
    /// One integer: `Conv1d`.
    Int,
    /// An integer or a pair `(h, w)`: `Conv2d` and the 2-D pools.
    Pair,
    /// An integer or a tuple of one entry per axis, over this many axes.
    Axes(usize),
}

impl Form {
    /// The spatial axes.
    const fn rank(self) -> usize {
        match self {
            Form::Int => 1,
            Form::Pair => 2,
            Form::Axes(rank) => rank,
        }
    }

    /// What a `padding` other than a string may be, for messages.
    const fn padding_forms(self) -> &'static str {
        match self {
            Form::Int => "an integer",
            Form::Pair => "an integer, a pair",
            Form::Axes(_) => "an integer, a tuple",
        }
    }
}

/// The axis names of `rank` spatial axes, for messages.
fn axis_names(rank: usize) -> &'static [&'static str] {
    match rank {
        1 => &["length"],
        2 => &["height", "width"],
        _ => &["depth", "height", "width"],
    }
}

impl Bound {
    /// An integer for every one of `rank` axes, or a tuple of `rank`
    /// integers, right-aligned in three entries (`fill` before them);
    /// `default` on every axis when the argument is not given.
    pub(super) fn axes(
        &self,
        name: &str,
        rank: usize,
        default: usize,
        min: i64,
        fill: usize,
        errors: &mut Errors,
    ) -> Option<[usize; 3]> {
        let rank = rank.clamp(1, 3);
        let mut out = [fill; 3];
        let skip = 3 - rank; // rank is 1 to 3
        let tail = out.get_mut(skip..).unwrap_or_default();
        match self.get(name) {
            None => tail.fill(default),
            Some((Value::Tuple(items), span)) => {
                if items.len() != rank {
                    let form = match rank {
                        1 => "one integer".to_string(),
                        _ => format!(
                            "one integer or a tuple of {rank} ({})",
                            axis_names(rank).join(", ")
                        ),
                    };
                    errors.push(
                        *span,
                        format!(
                            "`{name}` of `{}` takes {form}, found a tuple of {}",
                            self.layer,
                            items.len()
                        ),
                    );
                    return None;
                }
                for (slot, item) in tail.iter_mut().zip(items) {
                    *slot = super::to_usize(item, *span, name, min, errors)?;
                }
            }
            Some((v, span)) => tail.fill(super::to_usize(v, *span, name, min, errors)?),
        }
        Some(out)
    }

    /// Argument `name` over the layer's spatial axes written in `form`,
    /// right-aligned in three entries (`fill` before them); `default` on
    /// every axis when the argument is not given.
    fn spatial(
        &self,
        form: Form,
        name: &str,
        default: usize,
        min: i64,
        fill: usize,
        errors: &mut Errors,
    ) -> Option<[usize; 3]> {
        match form {
            Form::Int => self
                .int(name, default, min, errors)
                .map(|v| [fill, fill, v]),
            Form::Pair => self
                .pair(name, [default; 2], min, errors)
                .map(|[h, w]| [fill, h, w]),
            Form::Axes(rank) => self.axes(name, rank, default, min, fill, errors),
        }
    }
}

/// Builds layer `name` (one of [`CATALOGUE`], or `BatchNorm2d`) from its
/// bound arguments for an input of per-sample shape `input` (`channels` its
/// first size), or `None` after reporting why.
pub(super) fn build(
    name: &str,
    b: &Bound,
    input: &[usize],
    channels: usize,
    errors: &mut Errors,
) -> Option<Op> {
    let conv = |form, transposed, errors: &mut Errors| conv(b, form, transposed, channels, errors);
    Some(match name {
        "Conv1d" => Op::Conv1d(conv_2d(&conv(Form::Int, false, errors)?)),
        "Conv2d" => Op::Conv2d(conv_2d(&conv(Form::Pair, false, errors)?)),
        "Conv3d" => Op::Conv3d(conv(Form::Axes(3), false, errors)?),
        "ConvTranspose1d" => Op::ConvTranspose(conv(Form::Axes(1), true, errors)?),
        "ConvTranspose2d" => Op::ConvTranspose(conv(Form::Axes(2), true, errors)?),
        "ConvTranspose3d" => Op::ConvTranspose(conv(Form::Axes(3), true, errors)?),
        "BatchNorm1d" => Op::BatchNorm1d(batch_norm(b, channels, errors)?),
        "BatchNorm2d" => Op::BatchNorm2d(batch_norm(b, channels, errors)?),
        "BatchNorm3d" => Op::BatchNorm3d(batch_norm(b, channels, errors)?),
        "MaxPool1d" => Op::MaxPoolNd(pool(b, Form::Axes(1), errors)?),
        "MaxPool2d" => Op::MaxPool2d(pool_2d(&pool(b, Form::Pair, errors)?)),
        "MaxPool3d" => Op::MaxPoolNd(pool(b, Form::Axes(3), errors)?),
        "AvgPool1d" => Op::AvgPoolNd(pool(b, Form::Axes(1), errors)?),
        "AvgPool2d" => Op::AvgPool2d(pool_2d(&pool(b, Form::Pair, errors)?)),
        "AvgPool3d" => Op::AvgPoolNd(pool(b, Form::Axes(3), errors)?),
        "AdaptiveAvgPool1d" | "AdaptiveAvgPool3d" => {
            let rank = if name == "AdaptiveAvgPool1d" { 1 } else { 3 };
            Op::AdaptiveAvgPoolNd {
                rank,
                output: b.axes("output_size", rank, 1, 1, 1, errors)?,
            }
        }
        "Upsample" => Op::Interpolate(super::upsample::interpolate(
            b, input, b.span, true, errors,
        )?),
        "PReLU" => {
            let num_parameters = b.int("num_parameters", 1, 1, errors);
            let init = b.float("init", 0.25, errors)?;
            Op::PReLU {
                num_parameters: num_parameters?,
                init,
            }
        }
        "Hardtanh" => {
            b.boolean("inplace", false, errors)?;
            let min = b.float("min_val", -1.0, errors);
            let max = b.float("max_val", 1.0, errors);
            let (min, max) = (min?, max?);
            // PyTorch asserts `max_val > min_val` (equal bounds too are refused).
            if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
                let at = if b.get("max_val").is_some() {
                    b.span_of("max_val")
                } else {
                    b.span_of("min_val")
                };
                errors.push(
                    at,
                    format!("`Hardtanh`: max_val ({max:?}) must be greater than min_val ({min:?})"),
                );
                return None;
            }
            Op::Activation(Activation::Hardtanh { min, max })
        }
        "ELU" => {
            b.boolean("inplace", false, errors)?;
            Op::Activation(Activation::ELU {
                alpha: b.float("alpha", 1.0, errors)?,
            })
        }
        _ => return None,
    })
}

/// `BatchNorm1d/2d/3d`'s arguments: `num_features` (the input's channels
/// when not given; the shape rule checks a given one), a positive `eps`,
/// `momentum` any number (training only), `affine` and
/// `track_running_stats` only `true`.
fn batch_norm(b: &Bound, channels: usize, errors: &mut Errors) -> Option<BatchNorm2d> {
    b.float("momentum", 0.1, errors);
    b.only("affine", &Value::Bool(true), "true", errors);
    b.only("track_running_stats", &Value::Bool(true), "true", errors);
    let eps = b.float("eps", 1e-5, errors)?;
    if eps.is_nan() || eps <= 0.0 {
        errors.push(
            b.span_of("eps"),
            format!("`eps` must be positive, found {eps}"),
        );
    }
    Some(BatchNorm2d {
        channels: b.int("num_features", channels, 1, errors)?,
        eps,
    })
}

/// A convolution (`Conv1d`, `Conv2d`, `Conv3d`) or a transposed one
/// (`ConvTranspose1d/2d/3d`) on `channels` input channels, its spatial
/// arguments written in `form`.
fn conv(
    b: &Bound,
    form: Form,
    transposed: bool,
    channels: usize,
    errors: &mut Errors,
) -> Option<ConvNd> {
    let rank = form.rank();
    let out_channels = b.int("out_channels", 1, 1, errors);
    let kernel = b.spatial(form, "kernel_size", 1, 1, 1, errors);
    let stride = b.spatial(form, "stride", 1, 1, 1, errors);
    let dilation = b.spatial(form, "dilation", 1, 1, 1, errors);
    let groups = b.int("groups", 1, 1, errors);
    let bias = b.boolean("bias", true, errors);
    b.only(
        "padding_mode",
        &Value::Str("zeros".into()),
        "\"zeros\"",
        errors,
    );
    let padding = match b.get("padding") {
        Some((Value::Str(s), sp)) if transposed => {
            errors.push(
                *sp,
                format!(
                    "`{}` takes an integer or tuple padding, found {s:?}: PyTorch's transposed convolutions have no string padding",
                    b.layer
                ),
            );
            None
        }
        Some((Value::Str(s), sp)) => match (s.as_str(), kernel, stride, dilation) {
            ("valid", ..) => Some([[0, 0]; 3]),
            ("same", Some(k), Some(st), Some(d)) => {
                if st != [1; 3] {
                    errors.push(*sp, "padding = \"same\" needs stride 1, as in PyTorch");
                    None
                } else {
                    same_padding(k, d).or_else(|| {
                        let axes = |v| right_aligned(v, rank).unwrap_or_default();
                        errors.push(*sp, format!("padding = \"same\" overflows: dilation {:?} times kernel {:?} minus 1 does not fit", axes(&d), axes(&k)));
                        None
                    })
                }
            }
            ("same", ..) => None,
            (other, ..) => {
                errors.push(
                    *sp,
                    format!(
                        "`padding` must be {}, \"same\" or \"valid\", found {other:?}",
                        form.padding_forms()
                    ),
                );
                None
            }
        },
        _ => b
            .spatial(form, "padding", 0, 0, 0, errors)
            .map(|p| p.map(|p| [p, p])),
    };
    let output_padding = b.spatial(form, "output_padding", 0, 0, 0, errors);
    if let (Some(op), Some(s), Some(d)) = (output_padding, stride, dilation) {
        let axes = op.iter().zip(s).zip(d).skip(3usize.saturating_sub(rank));
        for (((&op, s), d), name) in axes.zip(axis_names(rank)) {
            if op >= s && op >= d {
                errors.push(
                    b.span_of("output_padding"),
                    format!(
                        "`{}`: output padding must be smaller than either stride or dilation, but the {name} has output_padding {op}, stride {s}, dilation {d}",
                        b.layer
                    ),
                );
                return None;
            }
        }
    }
    Some(ConvNd {
        rank,
        transposed,
        in_channels: channels,
        out_channels: out_channels?,
        kernel: kernel?,
        stride: stride?,
        padding: padding?,
        output_padding: output_padding?,
        dilation: dilation?,
        groups: groups?,
        bias: bias?,
    })
}

/// A `Conv2d` or `Conv1d` read as a [`ConvNd`] of rank 2 or 1, stored as
/// the `Conv2d` both are: its last two axes (a `Conv1d` has height 1).
const fn conv_2d(c: &ConvNd) -> Conv2d {
    Conv2d {
        in_channels: c.in_channels,
        out_channels: c.out_channels,
        kernel: [c.kernel[1], c.kernel[2]],
        stride: [c.stride[1], c.stride[2]],
        padding: [c.padding[1], c.padding[2]],
        dilation: [c.dilation[1], c.dilation[2]],
        groups: c.groups,
        bias: c.bias,
    }
}

/// `padding = "same"`: `dilation · (kernel − 1)` in all per axis, split as
/// PyTorch splits it (the extra one after); `None` on overflow.
fn same_padding(kernel: [usize; 3], dilation: [usize; 3]) -> Option<[[usize; 2]; 3]> {
    let mut out = [[0, 0]; 3];
    for ((slot, k), d) in out.iter_mut().zip(kernel).zip(dilation) {
        let total = d.checked_mul(k.saturating_sub(1))?;
        *slot = [total / 2, total - total / 2];
    }
    Some(out)
}

/// `MaxPool1d/2d/3d` and `AvgPool1d/2d/3d`, their spatial arguments
/// written in `form` (the stride is the kernel when not given, as PyTorch's
/// `stride = None`).
fn pool(b: &Bound, form: Form, errors: &mut Errors) -> Option<PoolNd> {
    let kernel = b.spatial(form, "kernel_size", 1, 1, 1, errors)?;
    let stride = match b.get("stride") {
        None => kernel,
        Some(_) => b.spatial(form, "stride", 1, 1, 1, errors)?,
    };
    let pool = PoolNd {
        rank: form.rank(),
        kernel,
        stride,
        padding: b.spatial(form, "padding", 0, 0, 0, errors)?,
        dilation: b.spatial(form, "dilation", 1, 1, 1, errors)?,
        ceil_mode: b.boolean("ceil_mode", false, errors)?,
        count_include_pad: b.boolean("count_include_pad", true, errors)?,
    };
    b.only("return_indices", &Value::Bool(false), "false", errors);
    if let Some((_, sp)) = b.get("divisor_override") {
        errors.push(
            *sp,
            format!("`{}` does not support divisor_override", b.layer),
        );
        return None;
    }
    Some(pool)
}

/// A 2-D pool read as a [`PoolNd`], stored as its `Pool2d`.
const fn pool_2d(p: &PoolNd) -> Pool2d {
    Pool2d {
        kernel: [p.kernel[1], p.kernel[2]],
        stride: [p.stride[1], p.stride[2]],
        padding: [p.padding[1], p.padding[2]],
        dilation: [p.dilation[1], p.dilation[2]],
        ceil_mode: p.ceil_mode,
        count_include_pad: p.count_include_pad,
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};
    use netspec_model::{Activation, ConvNd, Op, PoolNd};

    /// The one node of `net` applied to an input of per-sample `shape`:
    /// its operation and output shape.
    fn one(shape: &str, layer: &str) -> (Op, Vec<usize>) {
        let i = run(&format!("pub struct N(x: [{shape}]) {{ x -> {layer} }}")).unwrap();
        assert_eq!(i.nodes.len(), 1, "{layer}");
        (i.nodes[0].op, i.nodes[0].output.clone())
    }

    #[test]
    fn conv3d_infers_its_input_channels_and_pads_the_same() {
        let (op, out) = one("4, 6, 8, 8", "Conv3d(8, 3, padding = 1)");
        assert_eq!(
            op,
            Op::Conv3d(ConvNd {
                rank: 3,
                transposed: false,
                in_channels: 4,
                out_channels: 8,
                kernel: [3, 3, 3],
                stride: [1, 1, 1],
                padding: [[1, 1]; 3],
                output_padding: [0; 3],
                dilation: [1, 1, 1],
                groups: 1,
                bias: true,
            })
        );
        assert_eq!(out, [8, 6, 8, 8]);
        let (op, out) = one(
            "4, 6, 8, 8",
            "Conv3d(8, (1, 3, 4), stride = (1, 2, 2), groups = 2, bias = false)",
        );
        let Op::Conv3d(c) = op else { panic!("{op:?}") };
        assert_eq!(
            (c.kernel, c.stride, c.groups, c.bias),
            ([1, 3, 4], [1, 2, 2], 2, false)
        );
        // (8 - 3)/2 + 1 = 3, (8 - 4)/2 + 1 = 3
        assert_eq!(out, [8, 6, 3, 3]);
        let (op, _) = one(
            "4, 6, 8, 8",
            "Conv3d(8, (2, 3, 4), padding = \"same\", dilation = (1, 1, 2))",
        );
        let Op::Conv3d(c) = op else { panic!("{op:?}") };
        // totals 1, 2, 6: split with the extra one after
        assert_eq!(c.padding, [[0, 1], [1, 1], [3, 3]]);
    }

    #[test]
    fn transposed_convolutions_take_pytorchs_argument_order() {
        // positional: out_channels, kernel_size, stride, padding, output_padding
        let (op, out) = one("8, 5, 5", "ConvTranspose2d(4, 3, 2, 1, 1)");
        assert_eq!(
            op,
            Op::ConvTranspose(ConvNd {
                rank: 2,
                transposed: true,
                in_channels: 8,
                out_channels: 4,
                kernel: [1, 3, 3],
                stride: [1, 2, 2],
                padding: [[0, 0], [1, 1], [1, 1]],
                output_padding: [0, 1, 1],
                dilation: [1, 1, 1],
                groups: 1,
                bias: true,
            })
        );
        // (5 - 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 10
        assert_eq!(out, [4, 10, 10]);
        let (op, out) = one("3, 7", "ConvTranspose1d(2, 4, stride = 2)");
        let Op::ConvTranspose(c) = op else {
            panic!("{op:?}")
        };
        assert_eq!((c.rank, c.kernel, c.stride), (1, [1, 1, 4], [1, 1, 2]));
        assert_eq!(out, [2, 16]);
        // groups before bias, dilation last (positional 6, 7, 8)
        let (op, out) = one("4, 2, 3, 4", "ConvTranspose3d(2, 2, 2, 0, 0, 2, false, 1)");
        let Op::ConvTranspose(c) = op else {
            panic!("{op:?}")
        };
        assert_eq!((c.rank, c.groups, c.bias), (3, 2, false));
        assert_eq!(c.weight_shape(), [4, 1, 2, 2, 2]);
        assert_eq!(out, [2, 4, 6, 8]);
        // output padding below the dilation though not below the stride
        let (_, out) = one(
            "1, 4, 4",
            "ConvTranspose2d(1, 3, stride = 2, output_padding = 2, dilation = 3)",
        );
        // (4 − 1)·2 + 3·2 + 2 + 1 = 15
        assert_eq!(out, [1, 15, 15]);
    }

    #[test]
    fn transposed_convolution_mistakes_are_errors() {
        let e = errors_of("pub struct N(x: [8, 5, 5]) { x -> ConvTranspose2d(4, 3, stride = (2, 1), output_padding = (1, 1)) }");
        assert_eq!(e, ["`ConvTranspose2d`: output padding must be smaller than either stride or dilation, but the width has output_padding 1, stride 1, dilation 1"]);
        let e =
            errors_of("pub struct N(x: [8, 5]) { x -> ConvTranspose1d(4, 3, padding = \"same\") }");
        assert_eq!(e, ["`ConvTranspose1d` takes an integer or tuple padding, found \"same\": PyTorch's transposed convolutions have no string padding"]);
        let e = errors_of("pub struct N(x: [8, 5, 5, 5]) { x -> ConvTranspose3d(4, (3, 3)) }");
        assert_eq!(e, ["`kernel_size` of `ConvTranspose3d` takes one integer or a tuple of 3 (depth, height, width), found a tuple of 2"]);
        let e = errors_of(
            "pub struct N(x: [8, 5, 5]) { x -> ConvTranspose2d(4, 3, padding_mode = \"reflect\") }",
        );
        assert_eq!(e, ["`ConvTranspose2d` only supports padding_mode = \"zeros\", found the string \"reflect\""]);
        let e = errors_of("pub struct N(x: [8, 5, 5]) { x -> ConvTranspose2d(4, 3, dilaton = 2) }");
        assert!(e[0].contains("did you mean `dilation`?"), "{e:?}");
    }

    #[test]
    fn batch_norms_of_every_rank_store_pytorchs_tensors() {
        for (shape, layer, out) in [
            ("6", "BatchNorm1d", vec![6]),
            ("6, 10", "BatchNorm1d(6, eps = 1e-3)", vec![6, 10]),
            ("3, 2, 4, 4", "BatchNorm3d", vec![3, 2, 4, 4]),
        ] {
            let (op, o) = one(shape, layer);
            let (Op::BatchNorm1d(b) | Op::BatchNorm3d(b)) = op else {
                panic!("{op:?}")
            };
            assert_eq!(b.channels, out[0]);
            assert_eq!(o, out);
            let names: Vec<&str> = op.stored_tensors().iter().map(|t| t.suffix).collect();
            assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
        }
        let (op, _) = one("6, 10", "BatchNorm1d(eps = 1e-3)");
        assert!(matches!(op, Op::BatchNorm1d(b) if b.eps == 1e-3));
        let e = errors_of("pub struct N(x: [6, 10]) { x -> BatchNorm1d(eps = 0.0) }");
        assert_eq!(e, ["`eps` must be positive, found 0"]);
        let e = errors_of("pub struct N(x: [6, 2, 2, 2]) { x -> BatchNorm3d(affine = false) }");
        assert_eq!(
            e,
            ["`BatchNorm3d` only supports affine = true, found the boolean false"]
        );
    }

    #[test]
    fn pools_over_one_and_three_axes() {
        let (op, out) = one("4, 10", "MaxPool1d(3, stride = 2, padding = 1)");
        assert_eq!(
            op,
            Op::MaxPoolNd(PoolNd {
                rank: 1,
                kernel: [1, 1, 3],
                stride: [1, 1, 2],
                padding: [0, 0, 1],
                dilation: [1, 1, 1],
                ceil_mode: false,
                count_include_pad: true,
            })
        );
        // (10 + 2 − 3)/2 + 1 = 5
        assert_eq!(out, [4, 5]);
        let (op, out) = one("2, 4, 6, 8", "AvgPool3d(2)");
        let Op::AvgPoolNd(p) = op else {
            panic!("{op:?}")
        };
        assert_eq!((p.rank, p.kernel, p.stride), (3, [2, 2, 2], [2, 2, 2]));
        assert_eq!(out, [2, 2, 3, 4]);
        let (op, out) = one("2, 4, 6, 9", "MaxPool3d((1, 2, 3), ceil_mode = true)");
        let Op::MaxPoolNd(p) = op else {
            panic!("{op:?}")
        };
        assert_eq!((p.kernel, p.ceil_mode), ([1, 2, 3], true));
        assert_eq!(out, [2, 4, 3, 3]);
        let (op, out) = one(
            "3, 7",
            "AvgPool1d(2, count_include_pad = false, ceil_mode = true)",
        );
        let Op::AvgPoolNd(p) = op else {
            panic!("{op:?}")
        };
        assert!(!p.count_include_pad);
        assert_eq!(out, [3, 4]);
        let (op, out) = one("3, 10", "AdaptiveAvgPool1d(4)");
        assert_eq!(
            op,
            Op::AdaptiveAvgPoolNd {
                rank: 1,
                output: [1, 1, 4]
            }
        );
        assert_eq!(out, [3, 4]);
        let (op, out) = one("3, 4, 5, 6", "AdaptiveAvgPool3d((1, 2, 3))");
        assert_eq!(
            op,
            Op::AdaptiveAvgPoolNd {
                rank: 3,
                output: [1, 2, 3]
            }
        );
        assert_eq!(out, [3, 1, 2, 3]);
        let e = errors_of("pub struct N(x: [3, 10]) { x -> AvgPool1d(2, divisor_override = 2) }");
        assert!(
            e[0].starts_with("unknown argument `divisor_override` of layer `AvgPool1d`"),
            "{e:?}"
        );
        let e =
            errors_of("pub struct N(x: [3, 4, 4, 4]) { x -> AvgPool3d(2, divisor_override = 2) }");
        assert_eq!(e, ["`AvgPool3d` does not support divisor_override"]);
        let e =
            errors_of("pub struct N(x: [3, 4, 4, 4]) { x -> MaxPool3d(2, return_indices = true) }");
        assert_eq!(
            e,
            ["`MaxPool3d` only supports return_indices = false, found the boolean true"]
        );
        let e = errors_of("pub struct N(x: [3, 10]) { x -> AdaptiveAvgPool1d(0) }");
        assert_eq!(e, ["`output_size` must be positive, found 0"]);
    }

    #[test]
    fn prelu_hardtanh_and_elu_take_pytorchs_defaults() {
        let (op, out) = one("3, 4, 4", "PReLU");
        assert_eq!(
            op,
            Op::PReLU {
                num_parameters: 1,
                init: 0.25
            }
        );
        assert_eq!(out, [3, 4, 4]);
        let (op, _) = one("3, 4, 4", "PReLU(3, init = 0.1)");
        assert_eq!(
            op,
            Op::PReLU {
                num_parameters: 3,
                init: 0.1
            }
        );
        assert_eq!(op.stored_tensors()[0].shape, [3]);
        let (op, _) = one("3, 4, 4", "Hardtanh");
        assert_eq!(
            op,
            Op::Activation(Activation::Hardtanh {
                min: -1.0,
                max: 1.0
            })
        );
        let (op, _) = one("3, 4, 4", "Hardtanh(0.0, 6)");
        assert_eq!(
            op,
            Op::Activation(Activation::Hardtanh { min: 0.0, max: 6.0 })
        );
        let (op, _) = one("3, 4, 4", "ELU");
        assert_eq!(op, Op::Activation(Activation::ELU { alpha: 1.0 }));
        let i = run("pub struct N(x: [3, 4]) { x -> ELU(alpha = 0.5, inplace = true) -> Hardtanh(inplace = false) }").unwrap();
        assert_eq!(
            i.nodes[0].op,
            Op::Activation(Activation::ELU { alpha: 0.5 })
        );
        assert_eq!((i.nodes[0].inplace, i.nodes[1].inplace), (true, false));
        let e = errors_of("pub struct N(x: [3, 4]) { x -> Hardtanh(2.0, 1.0) }");
        assert_eq!(
            e,
            ["`Hardtanh`: max_val (1.0) must be greater than min_val (2.0)"]
        );
        let e = errors_of("pub struct N(x: [3, 4]) { x -> Hardtanh(min_val = 1.0) }");
        assert_eq!(
            e,
            ["`Hardtanh`: max_val (1.0) must be greater than min_val (1.0)"]
        );
        let e = errors_of("pub struct N(x: [3, 4]) { x -> PReLU(4) }");
        assert!(e[0].starts_with("`prelu`: num_parameters = 4"), "{e:?}");
        let e = errors_of("pub struct N(x: [3, 8, 8]) { x -> c: Conv3d(4, 3) }");
        assert!(
            e[0].starts_with("`c`: ") && e[0].contains("[3, 8, 8]"),
            "{e:?}"
        );
        let e = errors_of("pub struct N(x: [3, 4]) { x -> PReLU(0) }");
        assert_eq!(e, ["`num_parameters` must be positive, found 0"]);
        let e = errors_of("pub struct N(x: [3, 4]) { x -> ELU(inplace = 1) }");
        assert_eq!(e, ["`inplace` must be a boolean, found the integer 1"]);
    }

    #[test]
    fn every_convolution_reads_its_arguments_with_one_rule() {
        let cases = [
            ("Conv1d", "3, 8", "an integer"),
            ("Conv2d", "3, 8, 8", "an integer, a pair"),
            ("Conv3d", "3, 8, 8, 8", "an integer, a tuple"),
        ];
        for (layer, x, forms) in cases {
            let net = |args: &str| format!("pub struct N(x: [{x}]) {{ x -> {layer}({args}) }}");
            let e = errors_of(&net("4, 3, padding = \"full\""));
            assert_eq!(
                e,
                [format!(
                    "`padding` must be {forms}, \"same\" or \"valid\", found \"full\""
                )]
            );
            let e = errors_of(&net("4, 3, stride = 2, padding = \"same\""));
            assert_eq!(e, ["padding = \"same\" needs stride 1, as in PyTorch"]);
            // an invalid kernel is the only error: "same" is not checked without one
            let e = errors_of(&net("4, 0, padding = \"same\""));
            assert_eq!(e, ["`kernel_size` must be positive, found 0"], "{layer}");
            let e = errors_of(&net(
                "4, 4, padding = \"same\", dilation = 9223372036854775807",
            ));
            assert!(
                e[0].starts_with("padding = \"same\" overflows: dilation ["),
                "{e:?}"
            );
        }
        // "same" splits dilation·(k − 1) with the extra one after, on every axis
        let (op, out) = one("3, 8", "Conv1d(4, 4, padding = \"same\")");
        let Op::Conv1d(c) = op else { panic!("{op:?}") };
        assert_eq!(
            (c.kernel, c.padding, out),
            ([1, 4], [[0, 0], [1, 2]], vec![4, 8])
        );
        let (op, out) = one(
            "3, 8, 8",
            "Conv2d(4, (4, 3), padding = \"same\", dilation = 2)",
        );
        let Op::Conv2d(c) = op else { panic!("{op:?}") };
        assert_eq!((c.padding, out), ([[3, 3], [2, 2]], vec![4, 8, 8]));
        // the 2-D pools: the stride is the kernel when not given
        let (op, out) = one("3, 8, 8", "MaxPool2d((2, 4), padding = (1, 0))");
        let Op::MaxPool2d(p) = op else {
            panic!("{op:?}")
        };
        assert_eq!((p.kernel, p.stride, p.padding), ([2, 4], [2, 4], [1, 0]));
        assert_eq!(out, [3, 5, 2]);
        let e = errors_of("pub struct N(x: [3, 8, 8]) { x -> AvgPool2d(2, divisor_override = 2) }");
        assert_eq!(e, ["`AvgPool2d` does not support divisor_override"]);
    }

    #[test]
    fn every_new_layer_expands_to_rust() {
        use std::str::FromStr;
        let src = r#"
            pub struct Dense(x: [4, 8, 8]) {
                let v = x.reshape(4, 2, 4, 8)
                    -> c3: Conv3d(4, 3, padding = "same") -> bn3: BatchNorm3d
                    -> MaxPool3d((1, 2, 2)) -> AvgPool3d(1) -> AdaptiveAvgPool3d((1, 2, 2))
                    -> t3: ConvTranspose3d(2, 2, stride = 2);
                let l = x.flatten(2) -> t1: ConvTranspose1d(4, 3, stride = 2, output_padding = 1)
                    -> bn1: BatchNorm1d -> MaxPool1d(2) -> AvgPool1d(2) -> AdaptiveAvgPool1d(4)
                    -> Upsample(scale_factor = 2.5, mode = "linear", align_corners = true);
                let y = x -> t2: ConvTranspose2d(4, 4, stride = 2, padding = 1) -> act: PReLU(4)
                    -> Hardtanh(0.0, 6.0, inplace = true) -> ELU(0.5);
                interpolate(y, size = (x.height, x.width), mode = "bicubic", align_corners = false)
            }
        "#;
        let out = crate::expand(proc_macro2::TokenStream::from_str(src).unwrap()).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        let file: syn::File = syn::parse_str(&out).unwrap();
        assert!(!file.items.is_empty());
        for kind in [
            "Conv3d",
            "ConvTranspose",
            "BatchNorm1d",
            "BatchNorm3d",
            "MaxPoolNd",
            "AvgPoolNd",
            "AdaptiveAvgPoolNd",
            "Interpolate",
            "PReLU",
            "Hardtanh",
            "ELU",
        ] {
            assert!(out.contains(kind), "{kind} is not emitted");
        }
    }
}
