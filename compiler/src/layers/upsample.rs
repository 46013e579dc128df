//! The arguments of resampling, shared by the module `Upsample` and the
//! function `interpolate(x, ...)` (PyTorch's `nn.Upsample` and
//! `F.interpolate`): exactly one of `size` and `scale_factor`, the `mode`
//! fitting the input's spatial rank, `align_corners` only with the
//! interpolating modes, and PyTorch's output size `floor(L · scale_factor)`.

use super::{to_usize, Bound};
use crate::value::{Errors, Range, Value};
use netspec_model::shape::{scaled_size, shape_str};
use netspec_model::{Interpolate, InterpolationMode};

/// `nn.Upsample`'s arguments, in PyTorch's order.
pub const UPSAMPLE_PARAMS: &[&str] = &[
    "size",
    "scale_factor",
    "mode",
    "align_corners",
    "recompute_scale_factor",
];

/// `F.interpolate`'s arguments after its input, in PyTorch's order.
pub const INTERPOLATE_PARAMS: &[&str] = &[
    "size",
    "scale_factor",
    "mode",
    "align_corners",
    "recompute_scale_factor",
    "antialias",
];

/// The per-sample shape of `rank` spatial axes, in symbols.
fn symbolic(rank: usize) -> &'static str {
    match rank {
        1 => "[C, L]",
        2 => "[C, H, W]",
        _ => "[C, D, H, W]",
    }
}

/// The resampling `b` asks for of an input of per-sample shape `input`
/// (`[C, *spatial]`, one to three spatial axes; `input_span` is blamed when
/// it has another rank), written as `nn.Upsample` when `upsample`; `None`
/// after reporting why.
pub fn interpolate(
    b: &Bound,
    input: &[usize],
    input_span: Range,
    upsample: bool,
    errors: &mut Errors,
) -> Option<Interpolate> {
    let who = b.layer;
    let Some(rank) = input.len().checked_sub(1).filter(|r| (1..=3).contains(r)) else {
        errors.push(
            input_span,
            format!(
                "`{who}` resamples the spatial axes of [C, L], [C, H, W] or [C, D, H, W], got {}",
                shape_str(input)
            ),
        );
        return None;
    };
    let spatial = input.get(1..).unwrap_or(&[]);
    let mode = match b.get("mode") {
        None => InterpolationMode::Nearest,
        Some((Value::Poison, _)) => return None,
        Some((Value::Str(s), sp)) => {
            let (mode, needs) = match s.as_str() {
                "nearest" => (InterpolationMode::Nearest, None),
                "nearest-exact" => (InterpolationMode::NearestExact, None),
                "linear" => (InterpolationMode::Linear, Some(1)),
                "bilinear" => (InterpolationMode::Linear, Some(2)),
                "bicubic" => (InterpolationMode::Bicubic, Some(2)),
                "trilinear" => (InterpolationMode::Linear, Some(3)),
                other => {
                    errors.push(*sp, format!("`mode` must be \"nearest\", \"nearest-exact\", \"linear\", \"bilinear\", \"bicubic\" or \"trilinear\", found {other:?}"));
                    return None;
                }
            };
            if let Some(needs) = needs.filter(|&n| n != rank) {
                errors.push(
                    *sp,
                    format!(
                        "{s} needs a {needs}-D spatial input {}, got {} (a {rank}-D spatial input {})",
                        symbolic(needs),
                        shape_str(input),
                        symbolic(rank)
                    ),
                );
                return None;
            }
            mode
        }
        Some((v, sp)) => {
            errors.push(
                *sp,
                format!("`mode` must be a string, found {}", v.describe()),
            );
            return None;
        }
    };
    let nearest = matches!(
        mode,
        InterpolationMode::Nearest | InterpolationMode::NearestExact
    );
    let align_corners = b.boolean("align_corners", false, errors)?;
    if nearest && b.get("align_corners").is_some() {
        let name = if mode == InterpolationMode::Nearest {
            "nearest"
        } else {
            "nearest-exact"
        };
        errors.push(
            b.span_of("align_corners"),
            format!("align_corners can only be set with the interpolating modes linear | bilinear | bicubic | trilinear, not with mode \"{name}\""),
        );
        return None;
    }
    let recompute = b.boolean("recompute_scale_factor", false, errors)?;
    b.only("antialias", &Value::Bool(false), "false", errors)?;
    let mut size = [1usize; 3];
    let mut scale = [0.0f64; 3];
    let offset = 3usize.saturating_sub(rank);
    match (b.get("size"), b.get("scale_factor")) {
        (Some(_), Some(_)) => {
            errors.push(
                b.span_of("scale_factor"),
                format!("`{who}` takes `size` or `scale_factor`, not both: only one of size or scale_factor should be defined"),
            );
            return None;
        }
        (None, None) => {
            errors.push(
                b.span,
                format!("`{who}` needs its output `size` or a `scale_factor`: either size or scale_factor should be defined"),
            );
            return None;
        }
        (Some((v, sp)), None) => {
            if recompute && b.get("recompute_scale_factor").is_some() {
                errors.push(
                    b.span_of("recompute_scale_factor"),
                    "recompute_scale_factor is not meaningful with an explicit size",
                );
                return None;
            }
            let sizes = per_axis(v, rank, "size", spatial, *sp, errors)?;
            for (slot, v) in size[offset..].iter_mut().zip(sizes) {
                *slot = to_usize(&v, *sp, "size", 1, errors)?;
            }
        }
        (None, Some((v, sp))) => {
            let factors = per_axis(v, rank, "scale_factor", spatial, *sp, errors)?;
            for (axis, (f, &len)) in factors.iter().zip(spatial).enumerate() {
                let s = match f {
                    Value::Float(f) => *f,
                    Value::Int(i) => *i as f64,
                    Value::Poison => return None,
                    other => {
                        errors.push(
                            *sp,
                            format!(
                                "`scale_factor` must be a number, found {}",
                                other.describe()
                            ),
                        );
                        return None;
                    }
                };
                if !s.is_finite() || s <= 0.0 {
                    errors.push(
                        *sp,
                        format!("`scale_factor` must be a positive number, found {s:?}"),
                    );
                    return None;
                }
                // PyTorch: floor(float(L) * scale_factor), in double precision.
                let Some(out) = scaled_size(len, s) else {
                    errors.push(
                        *sp,
                        format!("`scale_factor` {s:?} makes the output size floor({len} · {s:?}), which is too large"),
                    );
                    return None;
                };
                if out == 0 {
                    errors.push(
                        *sp,
                        format!("`scale_factor` {s:?} makes the output size floor({len} · {s:?}) = 0: input and output sizes should be greater than 0"),
                    );
                    return None;
                }
                if let (Some(slot), Some(sc)) =
                    (size.get_mut(offset + axis), scale.get_mut(offset + axis))
                {
                    *slot = out;
                    *sc = if recompute { 0.0 } else { s };
                }
            }
        }
    }
    Some(Interpolate {
        mode,
        rank,
        size,
        scale,
        align_corners,
        upsample,
    })
}

/// `v` as `rank` values: one value for every axis, or a tuple of exactly
/// `rank` entries (PyTorch's "same number of spatial dimensions").
fn per_axis(
    v: &Value,
    rank: usize,
    name: &str,
    spatial: &[usize],
    span: Range,
    errors: &mut Errors,
) -> Option<Vec<Value>> {
    match v {
        Value::Poison => None,
        Value::Tuple(items) if items.len() == rank => Some(items.clone()),
        Value::Tuple(items) => {
            errors.push(
                span,
                format!(
                    "`{name}` has {} entries, but the input has {rank} spatial dimension{} {}: input and {name} must have the same number of spatial dimensions",
                    items.len(),
                    if rank == 1 { "" } else { "s" },
                    shape_str(spatial)
                ),
            );
            None
        }
        v => Some(vec![v.clone(); rank]),
    }
}
