//! Each operation as the Rust source of its const constructor, written
//! into the generated graph's nodes (`O::Conv2d(p::Conv2d::new(...))`).

use super::{dims_src, O, P};
use netspec_model::op::Pad;
use netspec_model::Op;

/// `[a, b, ...]`: an array of sizes.
pub(super) fn list_src(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(usize::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// `[[before, after], ...]`: padding per axis.
fn pads_src(pads: &[Pad]) -> String {
    let items: Vec<String> = pads.iter().map(|p| list_src(p)).collect();
    format!("[{}]", items.join(", "))
}

pub(super) fn float_src(v: f64) -> String {
    // `{:?}` prints a valid Rust float literal (`1e-5`, `0.1`, `2.0`).
    format!("{:?}f64", if v.is_finite() { v } else { 0.0 })
}

fn linear_src(l: &netspec_model::Linear) -> String {
    format!(
        "{P}::Linear {{ in_features: {}, out_features: {}, bias: {} }}",
        l.in_features, l.out_features, l.bias
    )
}

/// `p::Dims::new(&[...])`.
fn dims_new(d: &netspec_model::Dims) -> String {
    format!("{P}::Dims::new({})", dims_src(d.as_slice()))
}

/// `p::Conv2d::new(...)`: a convolution's fields in declaration order (the
/// 1-D one is a 2-D one of height 1).
fn conv_src(c: &netspec_model::Conv2d) -> String {
    format!(
        "{P}::Conv2d::new({}, {}, {}, {}, {}, {}, {}, {})",
        c.in_channels,
        c.out_channels,
        list_src(&c.kernel),
        list_src(&c.stride),
        pads_src(&c.padding),
        list_src(&c.dilation),
        c.groups,
        c.bias
    )
}

/// `p::ConvNd::new(...)`: a 3-D or transposed convolution's fields in
/// declaration order.
fn conv_nd_src(c: &netspec_model::ConvNd) -> String {
    format!(
        "{P}::ConvNd::new({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        c.rank,
        c.transposed,
        c.in_channels,
        c.out_channels,
        list_src(&c.kernel),
        list_src(&c.stride),
        pads_src(&c.padding),
        list_src(&c.output_padding),
        list_src(&c.dilation),
        c.groups,
        c.bias
    )
}

fn pool_nd_src(q: &netspec_model::PoolNd) -> String {
    format!(
        "{P}::PoolNd::new({}, {}, {}, {}, {}, {}, {})",
        q.rank,
        list_src(&q.kernel),
        list_src(&q.stride),
        list_src(&q.padding),
        list_src(&q.dilation),
        q.ceil_mode,
        q.count_include_pad
    )
}

fn interpolate_src(i: &netspec_model::Interpolate) -> String {
    use netspec_model::InterpolationMode as M;
    let mode = match i.mode {
        M::Nearest => "Nearest",
        M::NearestExact => "NearestExact",
        M::Linear => "Linear",
        M::Bicubic => "Bicubic",
    };
    format!(
        "{P}::Interpolate {{ mode: {P}::InterpolationMode::{mode}, rank: {}, size: {}, \
         scale: [{}, {}, {}], align_corners: {}, upsample: {} }}",
        i.rank,
        list_src(&i.size),
        float_src(i.scale[0]),
        float_src(i.scale[1]),
        float_src(i.scale[2]),
        i.align_corners,
        i.upsample
    )
}

pub(super) fn op_src(op: &Op) -> String {
    use netspec_model::Activation as A;
    match op {
        Op::Conv2d(c) => format!("{O}::Conv2d({})", conv_src(c)),
        Op::Conv1d(c) => format!("{O}::Conv1d({})", conv_src(c)),
        Op::Conv3d(c) => format!("{O}::Conv3d({})", conv_nd_src(c)),
        Op::ConvTranspose(c) => format!("{O}::ConvTranspose({})", conv_nd_src(c)),
        Op::MaxPoolNd(q) => format!("{O}::MaxPoolNd({})", pool_nd_src(q)),
        Op::AvgPoolNd(q) => format!("{O}::AvgPoolNd({})", pool_nd_src(q)),
        Op::AdaptiveAvgPoolNd { rank, output } => format!(
            "{O}::AdaptiveAvgPoolNd {{ rank: {rank}, output: {} }}",
            list_src(output)
        ),
        Op::Interpolate(i) => format!("{O}::Interpolate({})", interpolate_src(i)),
        Op::PReLU {
            num_parameters,
            init,
        } => format!(
            "{O}::PReLU {{ num_parameters: {num_parameters}, init: {} }}",
            float_src(*init)
        ),
        Op::Linear(l) => format!("{O}::Linear({})", linear_src(l)),
        Op::MhaInProj { linear, heads } => format!(
            "{O}::MhaInProj {{ linear: {}, heads: {heads} }}",
            linear_src(linear)
        ),
        Op::LayerNorm(n) => format!(
            "{O}::LayerNorm({P}::LayerNorm {{ shape: {}, eps: {}, affine: {}, bias: {} }})",
            dims_new(&n.shape),
            float_src(n.eps),
            n.affine,
            n.bias
        ),
        Op::GroupNorm(g) => format!(
            "{O}::GroupNorm({P}::GroupNorm {{ groups: {}, channels: {}, eps: {}, affine: {} }})",
            g.groups,
            g.channels,
            float_src(g.eps),
            g.affine
        ),
        Op::BatchNorm2d(b) | Op::BatchNorm1d(b) | Op::BatchNorm3d(b) => format!(
            "{O}::{}({P}::BatchNorm2d {{ channels: {}, eps: {} }})",
            op.kind(),
            b.channels,
            float_src(b.eps)
        ),
        Op::Activation(a) => {
            let a = match a {
                A::ReLU => "ReLU".to_string(),
                A::ReLU6 => "ReLU6".to_string(),
                A::LeakyReLU { slope } => format!("LeakyReLU {{ slope: {} }}", float_src(*slope)),
                A::Sigmoid => "Sigmoid".to_string(),
                A::Tanh => "Tanh".to_string(),
                A::SiLU => "SiLU".to_string(),
                A::HardSigmoid => "HardSigmoid".to_string(),
                A::HardSwish => "HardSwish".to_string(),
                A::GELU { tanh } => format!("GELU {{ tanh: {tanh} }}"),
                A::Hardtanh { min, max } => format!(
                    "Hardtanh {{ min: {}, max: {} }}",
                    float_src(*min),
                    float_src(*max)
                ),
                A::ELU { alpha } => format!("ELU {{ alpha: {} }}", float_src(*alpha)),
            };
            format!("{O}::Activation({P}::Activation::{a})")
        }
        Op::MaxPool2d(q) | Op::AvgPool2d(q) => format!(
            "{O}::{}({P}::Pool2d::new({}, {}, {}, {}, {}, {}))",
            if matches!(op, Op::MaxPool2d(_)) {
                "MaxPool2d"
            } else {
                "AvgPool2d"
            },
            list_src(&q.kernel),
            list_src(&q.stride),
            list_src(&q.padding),
            list_src(&q.dilation),
            q.ceil_mode,
            q.count_include_pad
        ),
        Op::AdaptiveAvgPool2d { output } => {
            format!("{O}::AdaptiveAvgPool2d {{ output: {} }}", list_src(output))
        }
        Op::Flatten => format!("{O}::Flatten"),
        Op::Dropout { p } => format!("{O}::Dropout {{ p: {} }}", float_src(*p)),
        Op::Identity => format!("{O}::Identity"),
        Op::StochasticDepth { p } => {
            format!("{O}::StochasticDepth {{ p: {} }}", float_src(*p))
        }
        Op::Mean { dims, keepdim } => format!(
            "{O}::Mean {{ dims: {}, keepdim: {keepdim} }}",
            dims_new(dims)
        ),
        Op::Softmax { dim, causal, fused } => {
            format!("{O}::Softmax {{ dim: {dim}, causal: {causal}, fused: {fused} }}")
        }
        Op::Add => format!("{O}::Add"),
        Op::Sub => format!("{O}::Sub"),
        Op::Mul => format!("{O}::Mul"),
        Op::Div => format!("{O}::Div"),
        Op::Maximum => format!("{O}::Maximum"),
        Op::Minimum => format!("{O}::Minimum"),
        Op::Affine { scale, shift } => format!(
            "{O}::Affine {{ scale: {}, shift: {} }}",
            float_src(*scale),
            float_src(*shift)
        ),
        Op::Concat { dim } => format!("{O}::Concat {{ dim: {dim} }}"),
        Op::Slice { dim, start, len } => {
            format!("{O}::Slice {{ dim: {dim}, start: {start}, len: {len} }}")
        }
        Op::Select { dim, index } => format!("{O}::Select {{ dim: {dim}, index: {index} }}"),
        Op::Reshape { shape } => format!("{O}::Reshape {{ shape: {} }}", dims_new(shape)),
        Op::Permute { dims } => format!("{O}::Permute {{ dims: {} }}", dims_new(dims)),
        Op::Matmul {
            trans_b,
            alpha,
            fused,
            operator,
        } => format!(
            "{O}::Matmul {{ trans_b: {trans_b}, alpha: {}, fused: {fused}, operator: {operator} }}",
            float_src(*alpha)
        ),
        Op::Roll { shifts, dims } => format!(
            "{O}::Roll {{ shifts: {}, dims: {} }}",
            dims_new(shifts),
            dims_new(dims)
        ),
        Op::Pad {
            before,
            after,
            value,
        } => format!(
            "{O}::Pad {{ before: {}, after: {}, value: {} }}",
            dims_new(before),
            dims_new(after),
            float_src(*value)
        ),
        Op::Parameter { shape } => format!("{O}::Parameter {{ shape: {} }}", dims_new(shape)),
        Op::ChannelShuffle { groups } => {
            format!("{O}::ChannelShuffle {{ groups: {groups} }}")
        }
        Op::Constant { index, shape } => format!(
            "{O}::Constant {{ index: {index}, shape: {} }}",
            dims_new(shape)
        ),
        Op::Gather { dim, index, shape } => format!(
            "{O}::Gather {{ dim: {dim}, index: {index}, shape: {} }}",
            dims_new(shape)
        ),
    }
}
