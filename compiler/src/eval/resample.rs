//! `interpolate(x, size, scale_factor, mode = "nearest", align_corners,
//! recompute_scale_factor, antialias = false)`: PyTorch's `F.interpolate`,
//! a function only (PyTorch has no such tensor method), lowered to one
//! [`Op::Interpolate`] node. Its arguments are the module `Upsample`'s,
//! checked by [`crate::layers::upsample`].

use super::{Ctx, Env};
use crate::ast::Arg;
use crate::layers::upsample::{self, INTERPOLATE_PARAMS};
use crate::layers::Bound;
use crate::value::{Range, Value};
use netspec_model::{Blame, Op};
use std::collections::HashMap;

const USAGE: &str = "interpolate(x, size = ..., scale_factor = ..., mode = \"nearest\", align_corners = ..., recompute_scale_factor = ...)";

impl Ctx<'_> {
    /// `interpolate(x, ...)`: the input first, then `size`, `scale_factor`,
    /// ... by position or keyword.
    pub(super) fn interpolate_call(&mut self, env: &mut Env, args: &[Arg], span: Range) -> Value {
        let vals = self.args(env, args);
        if vals.iter().any(|a| a.value == Value::Poison) {
            return Value::Poison;
        }
        let Some(positional) = self.split_args("interpolate", &vals, INTERPOLATE_PARAMS) else {
            return Value::Poison;
        };
        let Some((x, rest)) = positional.split_first() else {
            return self.fail(
                span,
                format!("`interpolate` needs a tensor as its first argument: {USAGE}"),
            );
        };
        if let Some(surplus) = rest.get(INTERPOLATE_PARAMS.len()) {
            return self.fail(
                surplus.span,
                format!(
                    "`interpolate` takes at most {} arguments after its input, found a surplus one: {USAGE}",
                    INTERPOLATE_PARAMS.len()
                ),
            );
        }
        let Some(t) = self.tensor_arg(x, "the first argument of `interpolate`") else {
            return Value::Poison;
        };
        let x_span = x.span;
        let mut bound: HashMap<&'static str, (Value, Range)> = INTERPOLATE_PARAMS
            .iter()
            .zip(rest)
            .map(|(p, a)| (*p, (a.value.clone(), a.span)))
            .collect();
        for a in &vals {
            let Some(name) = &a.name else { continue };
            let Some(param) = INTERPOLATE_PARAMS.iter().find(|p| name == *p) else {
                continue;
            };
            if bound.contains_key(param) {
                return self.fail(
                    name.span(),
                    format!("argument `{param}` of `interpolate` is given twice"),
                );
            }
            bound.insert(param, (a.value.clone(), a.span));
        }
        let b = Bound::new("interpolate", bound, span);
        let view = Self::sample_shape(&t).to_vec();
        let Some(op) = upsample::interpolate(&b, &view, x_span, false, self.errors) else {
            return Value::Poison;
        };
        let path = env.join("interpolate");
        self.node_named(
            Op::Interpolate(op),
            vec![t],
            path,
            false,
            span,
            &|blame| match blame {
                Blame::Arg(a) => b.span_of(a),
                Blame::Input(_) => x_span,
                Blame::Layer => span,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};
    use netspec_model::{Interpolate, InterpolationMode, Op};

    fn interp(op: Op) -> Interpolate {
        match op {
            Op::Interpolate(i) => i,
            other => panic!("not an interpolation: {other:?}"),
        }
    }

    #[test]
    fn upsample_and_interpolate_follow_pytorchs_output_sizes() {
        let i = run("pub struct N(x: [3, 5, 7]) {
            let y = x -> up: Upsample(scale_factor = 2, mode = \"bilinear\", align_corners = true);
            let z = x -> Conv2d(4, 3, stride = 2);
            let w = interpolate(z, size = (x.height, x.width), mode = \"bicubic\");
            let v = interpolate(x, scale_factor = 1.5);
            let u = interpolate(x, scale_factor = (0.5, 1.3), recompute_scale_factor = true, mode = \"nearest-exact\");
            cat(y, u -> Upsample(size = (10, 14)), dim = 1)
        }")
        .unwrap();
        let node = |name: &str| i.nodes.iter().find(|n| n.name == name).unwrap();
        let up = node("up");
        assert!(up.module);
        assert_eq!(up.output, [3, 10, 14]);
        assert_eq!(
            interp(up.op),
            Interpolate {
                mode: InterpolationMode::Linear,
                rank: 2,
                size: [1, 10, 14],
                scale: [0.0, 2.0, 2.0],
                align_corners: true,
                upsample: true,
            }
        );
        assert_eq!(interp(up.op).mode_name(), "bilinear");
        let w = &i.nodes[2];
        assert_eq!((w.name.as_str(), w.module), ("interpolate", false));
        assert_eq!(w.output, [4, 5, 7]);
        let w = interp(w.op);
        assert_eq!(
            (w.mode, w.size, w.scale),
            (InterpolationMode::Bicubic, [1, 5, 7], [0.0; 3])
        );
        assert!(!w.align_corners && !w.upsample);
        let v = &i.nodes[3];
        // floor(5 · 1.5) = 7, floor(7 · 1.5) = 10
        assert_eq!(v.output, [3, 7, 10]);
        assert_eq!(interp(v.op).scale, [0.0, 1.5, 1.5]);
        assert_eq!(interp(v.op).mode, InterpolationMode::Nearest);
        let u = &i.nodes[4];
        // floor(5 · 0.5) = 2, floor(7 · 1.3) = floor(9.1) = 9; recomputed: no scale kept
        assert_eq!(u.output, [3, 2, 9]);
        assert_eq!(interp(u.op).scale, [0.0; 3]);
        assert_eq!(interp(u.op).mode, InterpolationMode::NearestExact);
        assert_eq!(i.nodes[5].output, [3, 10, 14]);
    }

    #[test]
    fn every_rank_has_its_modes() {
        let i = run("pub struct N(x: [2, 6]) {
            let a = interpolate(x, 9, mode = \"linear\", align_corners = false);
            let b = x.reshape(2, 1, 2, 3) -> Upsample(scale_factor = (1, 2, 3), mode = \"trilinear\");
            a
        }")
        .unwrap();
        assert_eq!(i.nodes[0].output, [2, 9]);
        let a = interp(i.nodes[0].op);
        assert_eq!((a.rank, a.size, a.mode_name()), (1, [1, 1, 9], "linear"));
        let b = &i.nodes[2];
        assert_eq!(b.output, [2, 1, 4, 9]);
        assert_eq!(interp(b.op).mode_name(), "trilinear");
        assert_eq!(interp(b.op).scale, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn scaled_sizes_are_floored_in_double_precision() {
        // 100 · 0.29 = 28.999999999999996 in doubles: PyTorch gives 28.
        let i = run("pub struct N(x: [3, 100, 10]) { interpolate(x, scale_factor = (0.29, 2.3)) }")
            .unwrap();
        assert_eq!(i.nodes[0].output, [3, 28, 23]);
        assert_eq!(interp(i.nodes[0].op).scale, [0.0, 0.29, 2.3]);
    }

    #[test]
    fn resampling_mistakes_are_errors_in_pytorchs_words() {
        let cases: &[(&str, &str)] = &[
            (
                "x: [3, 8, 8]) { interpolate(x, size = 4, scale_factor = 2.0) }",
                "`interpolate` takes `size` or `scale_factor`, not both: only one of size or scale_factor should be defined",
            ),
            (
                "x: [3, 8, 8]) { x -> Upsample(mode = \"bilinear\") }",
                "`Upsample` needs its output `size` or a `scale_factor`: either size or scale_factor should be defined",
            ),
            (
                "x: [4, 16]) { interpolate(x, scale_factor = 2, mode = \"bilinear\") }",
                "bilinear needs a 2-D spatial input [C, H, W], got [4, 16] (a 1-D spatial input [C, L])",
            ),
            (
                "x: [4, 6, 6]) { x -> Upsample(scale_factor = 2, mode = \"trilinear\") }",
                "trilinear needs a 3-D spatial input [C, D, H, W], got [4, 6, 6] (a 2-D spatial input [C, H, W])",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = 2, align_corners = false) }",
                "align_corners can only be set with the interpolating modes linear | bilinear | bicubic | trilinear, not with mode \"nearest\"",
            ),
            (
                "x: [4, 6, 6]) { x -> Upsample(size = 3, mode = \"nearest-exact\", align_corners = true) }",
                "align_corners can only be set with the interpolating modes linear | bilinear | bicubic | trilinear, not with mode \"nearest-exact\"",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, size = 3, recompute_scale_factor = true) }",
                "recompute_scale_factor is not meaningful with an explicit size",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, size = (3, 3, 3)) }",
                "`size` has 3 entries, but the input has 2 spatial dimensions [6, 6]: input and size must have the same number of spatial dimensions",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = 0.1) }",
                "`scale_factor` 0.1 makes the output size floor(6 · 0.1) = 0: input and output sizes should be greater than 0",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = -2) }",
                "`scale_factor` must be a positive number, found -2.0",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = 1e300) }",
                "`scale_factor` 1e300 makes the output size floor(6 · 1e300), which is too large",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, size = 0) }",
                "`size` must be positive, found 0",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = 2, mode = \"area\") }",
                "`mode` must be \"nearest\", \"nearest-exact\", \"linear\", \"bilinear\", \"bicubic\" or \"trilinear\", found \"area\"",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, scale_factor = 2, antialias = true) }",
                "`interpolate` only supports antialias = false, found the boolean true",
            ),
            (
                "x: [4]) { interpolate(x, scale_factor = 2) }",
                "`interpolate` resamples the spatial axes of [C, L], [C, H, W] or [C, D, H, W], got [4]",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, 2, size = 3) }",
                "argument `size` of `interpolate` is given twice",
            ),
            (
                "x: [4, 6, 6]) { interpolate(x, sizes = 3) }",
                "unknown argument `sizes` of `interpolate`; expected one of: size, scale_factor, mode, align_corners, recompute_scale_factor, antialias",
            ),
            (
                "x: [4, 6, 6]) { interpolate(2, size = 3) }",
                "the first argument of `interpolate` must be a tensor, found the integer 2",
            ),
            (
                "x: [4, 6, 6]) { x.interpolate(size = 3) }",
                "unknown tensor method `interpolate`",
            ),
        ];
        for (src, want) in cases {
            let e = errors_of(&format!("pub struct N({src}"));
            assert_eq!(e, [*want], "{src}");
        }
    }
}
