//! Convolutions over one to three spatial axes and their transposes
//! (`nn.Conv3d`, `nn.ConvTranspose1d/2d/3d`), as plain loops: the ground
//! truth the fast kernels ([`crate::kernels::fast::conv_nd`]) are checked
//! against.
//!
//! Every rank runs as 3-D: a `[N, C, L]` input is read as `[N, C, 1, 1, L]`
//! and a `[N, C, H, W]` one as `[N, C, 1, H, W]`, the op's right-aligned
//! arrays ([`ConvNd`]) giving kernel, stride and dilation 1 and padding 0 to
//! the missing leading axes, so one loop nest serves them all.

use super::check_len;
use super::conv::check_groups;
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::ConvNd;

/// PyTorch's module name of `c` (`Conv3d`, `ConvTranspose2d`, ...).
pub(crate) fn name(c: &ConvNd) -> &'static str {
    match (c.transposed, c.rank) {
        (false, 1) => "Conv1d",
        (false, 2) => "Conv2d",
        (false, _) => "Conv3d",
        (true, 1) => "ConvTranspose1d",
        (true, 2) => "ConvTranspose2d",
        (true, _) => "ConvTranspose3d",
    }
}

/// One convolution's geometry for one input, every rank as 3-D (`[D, H, W]`,
/// the missing leading axes of size 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geom {
    /// Batch.
    pub n: usize,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Groups.
    pub groups: usize,
    /// Input channels per group.
    pub cin_g: usize,
    /// Output channels per group.
    pub cout_g: usize,
    /// Input spatial size.
    pub input: [usize; 3],
    /// Output spatial size.
    pub output: [usize; 3],
    /// Kernel.
    pub kernel: [usize; 3],
    /// Stride.
    pub stride: [usize; 3],
    /// Dilation.
    pub dilation: [usize; 3],
    /// Padding before each axis (a convolution's leading pad; a transposed
    /// convolution's symmetric `padding`, cropped from each side).
    pub pad: [usize; 3],
    /// The spatial rank (1, 2 or 3): how many trailing axes the tensors show.
    pub rank: usize,
}

impl Geom {
    /// Kernel taps `k_d · k_h · k_w`.
    pub fn taps(&self) -> usize {
        self.kernel.iter().product()
    }

    /// Input positions per channel.
    pub fn in_plane(&self) -> usize {
        self.input.iter().product()
    }

    /// Output positions per channel.
    pub fn out_plane(&self) -> usize {
        self.output.iter().product()
    }

    /// The output's full shape, `[N, C_out, *spatial]` with `rank` spatial axes.
    pub fn output_shape(&self) -> Vec<usize> {
        let mut s = vec![self.n, self.cout];
        s.extend_from_slice(&self.output[3 - self.rank..]);
        s
    }

    /// Kernel tap `t` (row-major over `[k_d, k_h, k_w]`) as its three indices.
    #[inline]
    pub fn tap(&self, t: usize) -> [usize; 3] {
        let [_, kh, kw] = self.kernel;
        [t / (kh * kw), (t / kw) % kh, t % kw]
    }

    /// `Σ` over axes `a` of `k[a]·d[a]` minus the padding: where kernel tap
    /// `k` reads (convolution) or writes (transposed) relative to `o·s` (`i·s`).
    #[inline]
    pub fn offset(&self, k: [usize; 3]) -> [isize; 3] {
        [0, 1, 2].map(|a| (k[a] * self.dilation[a]) as isize - self.pad[a] as isize)
    }
}

/// Checks `c` against input shape `shape` (`[N, C_in, *spatial]`, `c.rank`
/// spatial axes) and resolves its geometry, or says which number is wrong.
pub(crate) fn geometry(c: &ConvNd, shape: &[usize]) -> Result<Geom, Error> {
    let op = name(c);
    let rank = c.rank;
    if !(1..=3).contains(&rank) {
        return kernel(
            op,
            format!("the spatial rank must be 1, 2 or 3, found {rank}"),
        );
    }
    if shape.len() != rank + 2 {
        return kernel(
            op,
            format!(
                "expects a [N, C, {}] tensor, found {}",
                ["L", "H, W", "D, H, W"][rank - 1],
                shape_str(shape)
            ),
        );
    }
    let lead = 3 - rank;
    for a in 0..lead {
        if c.kernel[a] != 1
            || c.stride[a] != 1
            || c.dilation[a] != 1
            || c.padding[a] != [0, 0]
            || c.output_padding[a] != 0
        {
            return kernel(
                op,
                format!(
                    "a {rank}-D operation needs kernel 1, stride 1, dilation 1 and no padding on unused axis {a}, found kernel {}, stride {}, dilation {}, padding {:?}, output padding {}",
                    c.kernel[a], c.stride[a], c.dilation[a], c.padding[a], c.output_padding[a]
                ),
            );
        }
    }
    let (n, cin) = (shape[0], shape[1]);
    let mut input = [1usize; 3];
    input[lead..].copy_from_slice(&shape[2..]);
    if cin != c.in_channels {
        return kernel(
            op,
            format!("expects {} input channels, found {cin}", c.in_channels),
        );
    }
    let groups = c.groups;
    check_groups(op, cin, c.out_channels, groups)?;
    let axis_names = ["depth", "height", "width"];
    let mut output = [1usize; 3];
    let mut pad = [0usize; 3];
    for a in lead..3 {
        let axis = if rank == 1 { "length" } else { axis_names[a] };
        let (k, s, d, l) = (c.kernel[a], c.stride[a], c.dilation[a], input[a]);
        if k == 0 || s == 0 || d == 0 {
            return kernel(
                op,
                format!("kernel, stride and dilation must be positive along the {axis}, found kernel {k}, stride {s}, dilation {d}"),
            );
        }
        if l == 0 {
            return kernel(op, format!("the input's {axis} is 0"));
        }
        let extent = (k - 1)
            .checked_mul(d)
            .and_then(|e| e.checked_add(1))
            .ok_or_else(|| Error::Kernel {
                op,
                message: format!("kernel {k} with dilation {d} overflows along the {axis}"),
            })?;
        let [before, after] = c.padding[a];
        if c.transposed {
            let op_pad = c.output_padding[a];
            if before != after {
                return kernel(
                    op,
                    format!("padding along the {axis} must be symmetric, found {before} before and {after} after"),
                );
            }
            if op_pad >= s && op_pad >= d {
                return kernel(
                    op,
                    format!("output padding {op_pad} along the {axis} must be smaller than either stride {s} or dilation {d}"),
                );
            }
            // (L − 1)·s + d·(k − 1) + output_padding + 1 − 2·p.
            let full = (l - 1)
                .checked_mul(s)
                .and_then(|v| v.checked_add(extent))
                .and_then(|v| v.checked_add(op_pad))
                .ok_or_else(|| Error::Kernel {
                    op,
                    message: format!("the output's {axis} overflows"),
                })?;
            let cropped = before.checked_mul(2).and_then(|p2| full.checked_sub(p2));
            match cropped {
                Some(o) if o >= 1 => output[a] = o,
                _ => {
                    return kernel(
                        op,
                        format!("the output's {axis} (input {l} − 1)·stride {s} + dilation {d}·(kernel {k} − 1) + output padding {op_pad} + 1 − 2·padding {before} is below 1"),
                    )
                }
            }
        } else {
            if c.output_padding[a] != 0 {
                return kernel(
                    op,
                    format!(
                        "a convolution has no output padding, found {} along the {axis}",
                        c.output_padding[a]
                    ),
                );
            }
            let padded = l.checked_add(before).and_then(|v| v.checked_add(after));
            match padded {
                Some(p) if p >= extent => output[a] = (p - extent) / s + 1,
                _ => {
                    return kernel(
                        op,
                        format!("kernel extent {extent} along the {axis} is larger than the padded input {l} + {before} + {after}"),
                    )
                }
            }
        }
        pad[a] = before;
    }
    Ok(Geom {
        n,
        cin,
        cout: c.out_channels,
        groups,
        cin_g: cin / groups,
        cout_g: c.out_channels / groups,
        input,
        output,
        kernel: c.kernel,
        stride: c.stride,
        dilation: c.dilation,
        pad,
        rank,
    })
}

/// Checks the weight (`c.weight_shape()`) and bias (`[C_out]`) lengths.
pub(crate) fn check_tensors(c: &ConvNd, weight: &[f32], bias: Option<&[f32]>) -> Result<(), Error> {
    let op = name(c);
    check_len(op, "weight", weight, &c.weight_shape())?;
    if let Some(b) = bias {
        check_len(op, "bias", b, &[c.out_channels])?;
    }
    Ok(())
}

/// Index `o·s + off` along one axis if it lies in `0..len`.
#[inline]
fn at(o: usize, s: usize, off: isize, len: usize) -> Option<usize> {
    let i = (o * s) as isize + off;
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

/// Calls `f(p, q)` for every position `p` of the grid `from` whose image
/// `p·s + off` (on every axis) lies inside the grid `to`, with `p` and that
/// image `q` as row-major indices into their grids: a convolution gathers
/// over its output grid, a transposed one scatters over its input grid.
#[inline(always)]
fn strided_pairs(
    from: [usize; 3],
    to: [usize; 3],
    s: [usize; 3],
    off: [isize; 3],
    mut f: impl FnMut(usize, usize),
) {
    let ([fd, fh, fw], [td, th, tw]) = (from, to);
    for z in 0..fd {
        let Some(zt) = at(z, s[0], off[0], td) else {
            continue;
        };
        for y in 0..fh {
            let Some(yt) = at(y, s[1], off[1], th) else {
                continue;
            };
            for x in 0..fw {
                if let Some(xt) = at(x, s[2], off[2], tw) {
                    f((z * fh + y) * fw + x, (zt * th + yt) * tw + xt);
                }
            }
        }
    }
}

/// Output `[N, C_out]` planes filled with the bias (or zeros).
fn with_bias(g: &Geom, bias: Option<&[f32]>) -> Vec<f32> {
    let plane = g.out_plane();
    let mut out = vec![0.0f32; g.n * g.cout * plane];
    if let Some(b) = bias {
        for (o, &bv) in out.chunks_exact_mut(plane.max(1)).zip(b.iter().cycle()) {
            o.fill(bv);
        }
    }
    out
}

/// A convolution (`c.transposed` false) of `x` (`[N, C_in, *spatial]`,
/// `c.rank` spatial axes) with `weight` (`[C_out, C_in / groups, k...]`)
/// and optional `bias` (`[C_out]`): `[N, C_out, *out]` with, per axis,
/// `out = (L + p_before + p_after − d·(k − 1) − 1) / s + 1`, and
/// `y[n, o, p] = b[o] + Σ_{i, t} w[o, i, t] · x[n, g·C_in/g + i, p·s + t·d − p_before]`
/// (zero outside the input), `g` the group of output channel `o`.
pub fn conv_nd(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &ConvNd,
) -> Result<Tensor, Error> {
    if c.transposed {
        return kernel(name(c), "is transposed: run conv_transpose_nd".to_string());
    }
    direct(x, weight, bias, c)
}

/// [`conv_nd`] or, for a transposed `c`, [`conv_transpose_nd`].
pub fn conv_any(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &ConvNd,
) -> Result<Tensor, Error> {
    direct(x, weight, bias, c)
}

/// A transposed convolution (`c.transposed` true) of `x`
/// (`[N, C_in, *spatial]`) with `weight` (`[C_in, C_out / groups, k...]`)
/// and optional `bias` (`[C_out]`): `[N, C_out, *out]` with, per axis,
/// `out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1`. Every input
/// element scatters into the output:
/// `y[n, g·C_out/g + o, i·s + t·d − p] += w[c, o, t] · x[n, c, i]` for each
/// input channel `c` of group `g`, output channel `o` of that group and tap
/// `t`, where the position falls inside the output (the cropped padding and
/// the output padding's zeros never receive anything else).
pub fn conv_transpose_nd(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    c: &ConvNd,
) -> Result<Tensor, Error> {
    if !c.transposed {
        return kernel(name(c), "is not transposed: run conv_nd".to_string());
    }
    direct(x, weight, bias, c)
}

/// The plain loops of [`conv_nd`] and [`conv_transpose_nd`]: for every
/// sample, every pair of an outer channel (a convolution's output channel,
/// a transposed one's input channel) and an inner one of its group (an
/// input channel, an output channel), and every tap, the weight
/// `w[outer, inner, t]` (the layout of both) times the input plane,
/// gathered (convolution) or scattered (transposed) by [`strided_pairs`],
/// added to the bias in that order.
fn direct(x: &Tensor, weight: &[f32], bias: Option<&[f32]>, c: &ConvNd) -> Result<Tensor, Error> {
    let g = geometry(c, x.shape())?;
    check_tensors(c, weight, bias)?;
    let mut out = with_bias(&g, bias);
    let (taps, in_plane, out_plane) = (g.taps(), g.in_plane(), g.out_plane());
    let (outer, inner) = if c.transposed {
        (g.cin, g.cout_g)
    } else {
        (g.cout, g.cin_g)
    };
    let xd = x.data();
    for n in 0..g.n {
        for a in 0..outer {
            let group = a / (outer / g.groups);
            for b in 0..inner {
                let (oc, ic) = if c.transposed {
                    (group * g.cout_g + b, a)
                } else {
                    (a, group * g.cin_g + b)
                };
                let o = &mut out[(n * g.cout + oc) * out_plane..][..out_plane];
                let xp = &xd[(n * g.cin + ic) * in_plane..][..in_plane];
                for t in 0..taps {
                    let wv = weight[(a * inner + b) * taps + t];
                    let off = g.offset(g.tap(t));
                    if c.transposed {
                        strided_pairs(g.input, g.output, g.stride, off, |i, q| {
                            o[q] += wv * xp[i];
                        });
                    } else {
                        strided_pairs(g.output, g.input, g.stride, off, |p, q| {
                            o[p] += wv * xp[q];
                        });
                    }
                }
            }
        }
    }
    Ok(Tensor::from_parts(g.output_shape(), out))
}

#[cfg(test)]
pub(crate) mod tests;
