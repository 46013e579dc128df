//! Shape inference: the output shape of each operation, or why there is none.
//!
//! Every rule follows PyTorch. Errors say which argument or input is to blame,
//! so the compiler can put the message under the token the user must change.

mod spatial;
mod tensor;

use crate::op::{BatchNorm2d, Conv2d, ConvNd, Op, Pool2d};
pub use spatial::scaled_size;
use std::fmt;
pub use tensor::broadcast;

/// What a shape error is about, so that the caller can choose a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The layer as a whole.
    Layer,
    /// A named argument (`groups`, `kernel_size`, ...).
    Arg(&'static str),
    /// Input number `n` (0 for single-input layers).
    Input(usize),
}

/// Why an operation cannot be applied to its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Where the error belongs.
    pub blame: Blame,
    /// Lowercase message with the numbers involved.
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

fn err<T>(blame: Blame, message: String) -> Result<T, ShapeError> {
    Err(ShapeError { blame, message })
}

/// Renders a shape as `[64, 56, 56]`.
pub fn shape_str(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Number of elements, `None` on overflow.
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

fn feature_map(kind: &str, input: &[usize]) -> Result<[usize; 3], ShapeError> {
    match input {
        [c, h, w] => Ok([*c, *h, *w]),
        _ => err(
            Blame::Input(0),
            format!(
                "{kind} expects a [C, H, W] feature map, found {}",
                shape_str(input)
            ),
        ),
    }
}

fn positive(value: usize, arg: &'static str) -> Result<(), ShapeError> {
    if value == 0 {
        return err(Blame::Arg(arg), format!("{arg} must be positive, found 0"));
    }
    Ok(())
}

/// Output length of a sliding window along one axis (convolution and pooling).
///
/// `floor_or_ceil((len + pad_total - dilation * (kernel - 1) - 1) / stride) + 1`,
/// with PyTorch's rule that in ceil mode the last window must start inside the
/// input or the left padding.
#[allow(clippy::too_many_arguments)]
fn window_out(
    axis: &str,
    len: usize,
    pad: [usize; 2],
    kernel: usize,
    stride: usize,
    dilation: usize,
    ceil: bool,
) -> Result<usize, ShapeError> {
    let extent = kernel_extent(kernel, dilation);
    let padded = len.checked_add(pad[0]).and_then(|l| l.checked_add(pad[1]));
    let (Some(extent), Some(padded)) = (extent, padded) else {
        return err(Blame::Layer, format!("{axis} size overflows"));
    };
    if extent > padded {
        let what = if dilation > 1 {
            format!("kernel {kernel} with dilation {dilation} spans {extent}")
        } else {
            format!("kernel {kernel} spans {extent}")
        };
        return err(
            Blame::Arg("kernel_size"),
            format!(
                "{what} along the {axis}, larger than the padded input ({len} + {} padding = {padded})",
                padded - len
            ),
        );
    }
    let num = padded - extent;
    let steps = if ceil {
        num.div_ceil(stride)
    } else {
        num / stride
    };
    let Some(mut out) = steps.checked_add(1) else {
        return err(Blame::Layer, format!("{axis} size overflows"));
    };
    // `out - 1` windows fit before the last one; its start, `(out - 1) * stride`,
    // must lie inside the input or the left padding (`len + pad[0]` cannot
    // overflow: it is at most `padded`). A product that overflows lies beyond.
    if ceil
        && (out - 1)
            .checked_mul(stride)
            .is_none_or(|start| start >= len + pad[0])
    {
        out -= 1;
    }
    Ok(out)
}

/// `dilation * (kernel - 1) + 1`, the span of a dilated kernel; `None` on overflow.
fn kernel_extent(kernel: usize, dilation: usize) -> Option<usize> {
    dilation
        .checked_mul(kernel.saturating_sub(1))
        .and_then(|e| e.checked_add(1))
}

fn conv1d_shape(c: &Conv2d, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let [ch, len] = match input {
        [c, l] => [*c, *l],
        _ => {
            return err(
                Blame::Input(0),
                format!(
                    "Conv1d expects a [C, L] sequence, found {}",
                    shape_str(input)
                ),
            )
        }
    };
    let out = conv_shape(c, &[ch, 1, len])?;
    Ok(vec![out[0], out[2]])
}

fn conv_shape(c: &Conv2d, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let [ch, h, w] = feature_map("Conv2d", input)?;
    spatial::conv_output("Conv2d", &ConvNd::from_2d(c), ch, &[h, w])
}

fn pool_shape(kind: &str, p: &Pool2d, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let [ch, h, w] = feature_map(kind, input)?;
    positive(p.kernel[0].min(p.kernel[1]), "kernel_size")?;
    positive(p.stride[0].min(p.stride[1]), "stride")?;
    positive(p.dilation[0].min(p.dilation[1]), "dilation")?;
    for axis in 0..2 {
        let (pad, k) = (p.padding[axis], p.kernel[axis]);
        spatial::pool_padding(pad, k, p.dilation[axis], |extent| {
            if extent == k {
                format!("padding {pad} is more than half the kernel extent {extent}")
            } else {
                format!(
                    "padding {pad} is more than half the kernel size {k} (PyTorch checks \
                     the size, not the dilated extent {extent})"
                )
            }
        })?;
    }
    let mut out = vec![ch];
    for (axis, (name, len)) in ["height", "width"].into_iter().zip([h, w]).enumerate() {
        let pad = [p.padding[axis]; 2];
        let (k, s, d) = (p.kernel[axis], p.stride[axis], p.dilation[axis]);
        out.push(window_out(name, len, pad, k, s, d, p.ceil_mode)?);
    }
    Ok(out)
}

/// A batch norm on one input whose rank is one of `ranks` (`layout` names
/// them), with `channels` on axis 0.
fn batch_norm(
    kind: &str,
    layout: &str,
    ranks: &[usize],
    b: &BatchNorm2d,
    inputs: &[&[usize]],
) -> Result<Vec<usize>, ShapeError> {
    let x = match inputs {
        [x] => *x,
        _ => {
            return err(
                Blame::Layer,
                format!("{kind} takes one input, found {}", inputs.len()),
            )
        }
    };
    let c = match x.first() {
        Some(&c) if ranks.contains(&x.len()) => c,
        _ => {
            return err(
                Blame::Input(0),
                format!("{kind} expects a {layout}, found {}", shape_str(x)),
            )
        }
    };
    if c != b.channels {
        return err(
            Blame::Arg("num_features"),
            format!(
                "{kind} is given {} features, the input has {c} channels",
                b.channels
            ),
        );
    }
    Ok(x.to_vec())
}

/// `nn.PReLU`: one weight, or one per channel (axis 0 of the sample, PyTorch's dimension 1).
fn prelu(num_parameters: usize, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
    positive(num_parameters, "num_parameters")?;
    let Some(&c) = x.first() else {
        return err(
            Blame::Input(0),
            "PReLU expects an input with a channel dimension, found []".to_string(),
        );
    };
    if num_parameters != 1 && num_parameters != c {
        return err(
            Blame::Arg("num_parameters"),
            format!(
                "num_parameters = {num_parameters} does not match the input's {c} channels: \
                 it must be 1 or {c}"
            ),
        );
    }
    Ok(x.to_vec())
}

/// `x[idx]` along axis `dim` for indices of shape `index`: the axis is
/// replaced by the index's shape (PyTorch's indexing by one integer tensor).
fn gather(x: &[usize], dim: usize, index: &[usize]) -> Result<Vec<usize>, ShapeError> {
    if dim >= x.len() {
        return err(
            Blame::Input(0),
            format!(
                "cannot index axis {dim} of a tensor {} with {} axes",
                shape_str(x),
                x.len()
            ),
        );
    }
    let mut out = x[..dim].to_vec();
    out.extend_from_slice(index);
    out.extend_from_slice(&x[dim + 1..]);
    Ok(out)
}

/// The output shape of `op` applied to `inputs`.
pub fn output_shape(op: &Op, inputs: &[&[usize]]) -> Result<Vec<usize>, ShapeError> {
    let one = |kind: &str| -> Result<&[usize], ShapeError> {
        match inputs {
            [x] => Ok(x),
            _ => err(
                Blame::Layer,
                format!("{kind} takes one input, found {}", inputs.len()),
            ),
        }
    };
    match op {
        Op::Conv3d(c) => {
            if c.rank != 3 || c.transposed {
                return err(
                    Blame::Layer,
                    format!(
                        "Conv3d is described with {} spatial axes{}",
                        c.rank,
                        if c.transposed { ", transposed" } else { "" }
                    ),
                );
            }
            spatial::conv_nd("Conv3d", c, one("Conv3d")?)
        }
        Op::ConvTranspose(c) => {
            let kind = op.kind();
            if !c.transposed {
                return err(
                    Blame::Layer,
                    format!("{kind} is described as a convolution that is not transposed"),
                );
            }
            spatial::conv_nd(kind, c, one(kind)?)
        }
        Op::MaxPoolNd(p) | Op::AvgPoolNd(p) => spatial::pool_nd(op.kind(), p, one(op.kind())?),
        Op::AdaptiveAvgPoolNd { rank, output } => {
            spatial::adaptive_nd(op.kind(), *rank, output, one(op.kind())?)
        }
        Op::Interpolate(i) => spatial::interpolate(op.kind(), i, one(op.kind())?),
        Op::PReLU { num_parameters, .. } => prelu(*num_parameters, one("PReLU")?),
        Op::BatchNorm1d(b) => batch_norm("BatchNorm1d", "[C] or [C, L] input", &[1, 2], b, inputs),
        Op::BatchNorm3d(b) => batch_norm("BatchNorm3d", "[C, D, H, W] input", &[4], b, inputs),
        Op::Conv2d(c) => conv_shape(c, one("Conv2d")?),
        Op::Conv1d(c) => conv1d_shape(c, one("Conv1d")?),
        Op::Linear(l) => tensor::linear("Linear", l, one("Linear")?),
        Op::MhaInProj { linear, heads } => {
            tensor::mha_in_proj(linear, *heads, one("MultiheadAttention")?)
        }
        Op::LayerNorm(n) => tensor::layer_norm(n, one("LayerNorm")?),
        Op::GroupNorm(g) => tensor::group_norm(g, one("GroupNorm")?),
        Op::BatchNorm2d(b) => batch_norm("BatchNorm2d", "[C, H, W] feature map", &[3], b, inputs),
        Op::Activation(a) => Ok(one(a.kind())?.to_vec()),
        Op::Dropout { .. } | Op::Identity | Op::StochasticDepth { .. } => {
            Ok(one(op.kind())?.to_vec())
        }
        Op::Mean { dims, keepdim } => tensor::mean(one("Mean")?, dims, *keepdim),
        Op::Softmax { dim, causal, .. } => tensor::softmax(one("Softmax")?, *dim, *causal),
        Op::MaxPool2d(p) => pool_shape("MaxPool2d", p, one("MaxPool2d")?),
        Op::AvgPool2d(p) => pool_shape("AvgPool2d", p, one("AvgPool2d")?),
        Op::AdaptiveAvgPool2d { output } => {
            let [c, _, _] = feature_map("AdaptiveAvgPool2d", one("AdaptiveAvgPool2d")?)?;
            positive(output[0].min(output[1]), "output_size")?;
            Ok(vec![c, output[0], output[1]])
        }
        Op::Flatten => {
            let x = one("Flatten")?;
            match numel(x) {
                Some(n) => Ok(vec![n]),
                None => err(Blame::Layer, "element count overflows".to_string()),
            }
        }
        Op::Add => {
            if inputs.len() < 2 {
                return err(Blame::Layer, "Add needs two or more inputs".to_string());
            }
            tensor::broadcast_all("add", inputs)
        }
        Op::Sub | Op::Mul | Op::Div | Op::Maximum | Op::Minimum => {
            let verb = match op {
                Op::Sub => "subtract",
                Op::Mul => "multiply",
                Op::Div => "divide",
                _ => "compare",
            };
            if inputs.len() != 2 {
                return err(Blame::Layer, format!("{} takes two inputs", op.kind()));
            }
            tensor::broadcast_all(verb, inputs)
        }
        Op::Affine { .. } => Ok(one("Affine")?.to_vec()),
        Op::Concat { dim } => tensor::concat(*dim, inputs),
        Op::Slice { dim, start, len } => tensor::slice(one("Slice")?, *dim, *start, *len),
        Op::Select { dim, index } => tensor::select(one("Select")?, *dim, *index),
        Op::Reshape { shape } => tensor::reshape(one("Reshape")?, shape),
        Op::Permute { dims } => tensor::permute(one("Permute")?, dims),
        Op::Matmul { trans_b, .. } => match inputs {
            [a, b] => tensor::matmul(a, b, *trans_b),
            _ => err(
                Blame::Layer,
                format!("matmul takes two inputs, found {}", inputs.len()),
            ),
        },
        Op::Roll { shifts, dims } => tensor::roll(one("Roll")?, shifts, dims),
        Op::Pad { before, after, .. } => tensor::pad(one("Pad")?, before, after),
        Op::Parameter { shape } => {
            if !inputs.is_empty() {
                return err(Blame::Layer, "a Parameter reads no input".to_string());
            }
            Ok(shape.as_slice().to_vec())
        }
        Op::Constant { shape, .. } => {
            if !inputs.is_empty() {
                return err(Blame::Layer, "a Constant reads no input".to_string());
            }
            Ok(shape.as_slice().to_vec())
        }
        Op::Gather { dim, shape, .. } => gather(one("Gather")?, *dim, shape.as_slice()),
        Op::ChannelShuffle { groups } => {
            let x = one("ChannelShuffle")?;
            positive(*groups, "groups")?;
            let [c, _, _] = feature_map("ChannelShuffle", x)?;
            if c % groups != 0 {
                return err(
                    Blame::Arg("groups"),
                    format!("groups = {groups} does not divide the {c} channels"),
                );
            }
            Ok(x.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{BatchNorm2d, Pool2d};

    fn pool(k: usize, s: usize, p: usize, ceil: bool) -> Op {
        Op::MaxPool2d(Pool2d {
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [1, 1],
            ceil_mode: ceil,
            count_include_pad: true,
        })
    }

    #[test]
    fn ceil_mode_matches_pytorch() {
        // SqueezeNet 1.0: 96x109x109 -> MaxPool2d(3, 2, ceil_mode=True) -> 54x54
        // (floor mode would give 54 too; 55x55 shows the difference: ceil 27, floor 27;
        // 13x13 with k=3 s=2: floor 6, ceil 6; 14x14: floor 6, ceil 7).
        let x: &[usize] = &[96, 109, 109];
        assert_eq!(
            output_shape(&pool(3, 2, 0, true), &[x]).unwrap(),
            [96, 54, 54]
        );
        let y: &[usize] = &[8, 14, 14];
        assert_eq!(
            output_shape(&pool(3, 2, 0, false), &[y]).unwrap(),
            [8, 6, 6]
        );
        assert_eq!(output_shape(&pool(3, 2, 0, true), &[y]).unwrap(), [8, 7, 7]);
        // The last window must start inside the input or left padding:
        // len 5, k 2, s 2, p 1, ceil: (5+2-2)/2 ceil = 3, +1 = 4; (4-1)*2 = 6 >= 5+1 -> 3.
        let z: &[usize] = &[1, 5, 5];
        assert_eq!(output_shape(&pool(2, 2, 1, true), &[z]).unwrap(), [1, 3, 3]);
    }

    #[test]
    fn pool_padding_is_checked_against_the_kernel_size() {
        let x: &[usize] = &[2, 10, 10];
        let dilated = |p| {
            Op::MaxPool2d(Pool2d {
                kernel: [3, 3],
                stride: [1, 1],
                padding: [p, p],
                dilation: [2, 2],
                ceil_mode: false,
                count_include_pad: true,
            })
        };
        // PyTorch: MaxPool2d(3, padding=2, dilation=2) "pad should be smaller
        // than or equal to half of kernel size"; padding 1 is fine:
        // floor((10 + 2 − 5)/1) + 1 = 8
        let e = output_shape(&dilated(2), &[x]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("padding"));
        assert_eq!(
            e.message,
            "padding 2 is more than half the kernel size 3 (PyTorch checks the size, not the dilated extent 5)"
        );
        assert_eq!(output_shape(&dilated(1), &[x]).unwrap(), [2, 8, 8]);
        assert_eq!(
            output_shape(&pool(3, 1, 2, false), &[x])
                .unwrap_err()
                .message,
            "padding 2 is more than half the kernel extent 3"
        );
    }

    #[test]
    fn huge_arguments_are_errors_or_exact_never_wrapped() {
        let x: &[usize] = &[1, 8, 8];
        let dilated = Op::MaxPool2d(Pool2d {
            kernel: [4, 4],
            stride: [4, 4],
            padding: [0, 0],
            dilation: [usize::MAX / 2, 1],
            ceil_mode: false,
            count_include_pad: true,
        });
        let e = output_shape(&dilated, &[x]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("dilation"));
        // len 2^63 - 1, kernel 1, stride 2^62 + 1, ceil mode: ceil((len - 1) /
        // stride) + 1 = 3 windows, but the third would start at 2^63 + 2, past
        // the input (a product that overflows u64 in other cases), so 2.
        let huge: &[usize] = &[1, (1 << 63) - 1, 1];
        let strided = Op::MaxPool2d(Pool2d {
            kernel: [1, 1],
            stride: [(1 << 62) + 1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: true,
            count_include_pad: true,
        });
        assert_eq!(output_shape(&strided, &[huge]).unwrap(), [1, 2, 1]);
        // Padding that takes the axis past usize::MAX is an error.
        let longest: &[usize] = &[1, usize::MAX, 1];
        let e = output_shape(&pool(3, 1, 1, false), &[longest]).unwrap_err();
        assert_eq!(e.message, "height size overflows");
    }

    #[test]
    fn gather_replaces_the_axis_by_the_index_shape() {
        let table: &[usize] = &[169, 3];
        let index = crate::op::Dims::new(&[49, 49]);
        let g = Op::Gather {
            dim: 0,
            index: 0,
            shape: index,
        };
        assert_eq!(output_shape(&g, &[table]).unwrap(), [49, 49, 3]);
        let g = Op::Gather {
            dim: 1,
            index: 0,
            shape: index,
        };
        assert_eq!(output_shape(&g, &[table]).unwrap(), [169, 49, 49]);
        let g = Op::Gather {
            dim: 2,
            index: 0,
            shape: index,
        };
        assert_eq!(
            output_shape(&g, &[table]).unwrap_err().blame,
            Blame::Input(0)
        );
        let c = Op::Constant {
            index: 0,
            shape: index,
        };
        assert_eq!(output_shape(&c, &[]).unwrap(), [49, 49]);
        assert!(output_shape(&c, &[table]).is_err());
    }

    #[test]
    fn prelu_takes_one_weight_or_one_per_channel() {
        let prelu = |n| Op::PReLU {
            num_parameters: n,
            init: 0.25,
        };
        let x: &[usize] = &[4, 5];
        assert_eq!(output_shape(&prelu(1), &[x]).unwrap(), [4, 5]);
        assert_eq!(output_shape(&prelu(4), &[x]).unwrap(), [4, 5]);
        // PyTorch: "Mismatch of parameter numbers and input channel size.
        // Found parameter numbers = 3 and channel size = 4."
        let e = output_shape(&prelu(3), &[x]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("num_parameters"));
        assert_eq!(
            e.message,
            "num_parameters = 3 does not match the input's 4 channels: it must be 1 or 4"
        );
        // a vector's features are its channels (PyTorch's dimension 1)
        assert_eq!(output_shape(&prelu(3), &[&[3]]).unwrap(), [3]);
        assert_eq!(
            output_shape(&prelu(1), &[&[]]).unwrap_err().blame,
            Blame::Input(0)
        );
        assert_eq!(
            output_shape(&prelu(0), &[x]).unwrap_err().blame,
            Blame::Arg("num_parameters")
        );
    }

    #[test]
    fn batch_norms_of_one_and_three_axes() {
        let b = BatchNorm2d {
            channels: 3,
            eps: 1e-5,
        };
        let bn1 = Op::BatchNorm1d(b);
        assert_eq!(output_shape(&bn1, &[&[3]]).unwrap(), [3]);
        assert_eq!(output_shape(&bn1, &[&[3, 7]]).unwrap(), [3, 7]);
        // PyTorch: "expected 2D or 3D input (got 4D input)"
        assert_eq!(
            output_shape(&bn1, &[&[3, 4, 5]]).unwrap_err().message,
            "BatchNorm1d expects a [C] or [C, L] input, found [3, 4, 5]"
        );
        let e = output_shape(&bn1, &[&[4, 7]]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("num_features"));
        assert_eq!(
            e.message,
            "BatchNorm1d is given 3 features, the input has 4 channels"
        );
        let bn3 = Op::BatchNorm3d(b);
        assert_eq!(output_shape(&bn3, &[&[3, 2, 4, 4]]).unwrap(), [3, 2, 4, 4]);
        assert_eq!(
            output_shape(&bn3, &[&[3, 4, 4]]).unwrap_err().message,
            "BatchNorm3d expects a [C, D, H, W] input, found [3, 4, 4]"
        );
        assert_eq!(
            output_shape(&Op::BatchNorm2d(b), &[&[3, 4]])
                .unwrap_err()
                .message,
            "BatchNorm2d expects a [C, H, W] feature map, found [3, 4]"
        );
    }

    #[test]
    fn mul_broadcasts_size_one() {
        let a: &[usize] = &[64, 7, 7];
        let d: &[usize] = &[7];
        assert_eq!(output_shape(&Op::Mul, &[a, d]).unwrap(), [64, 7, 7]);
        let b: &[usize] = &[64, 1, 1];
        assert_eq!(output_shape(&Op::Mul, &[a, b]).unwrap(), [64, 7, 7]);
        let c: &[usize] = &[32, 1, 1];
        assert!(output_shape(&Op::Mul, &[a, c]).is_err());
    }
}
