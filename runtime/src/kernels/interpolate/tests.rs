//! Interpolation against PyTorch's values. The constants below are pasted
//! from `scripts/make_interpolate_reference.py` (torch 2.15, CPU, float32,
//! one thread); each names the `F.interpolate` call that produced it. Every
//! input is `((arange(n) * 7) % 11) − 3` in the shape named there, the
//! integers -3..=7 in an order that is not linear in the index.

use super::*;
use values::*;

/// `((arange(n) · 7) mod 11) − 3` in `shape`, as the script builds it.
fn input_of(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::new(shape, (0..n).map(|i| ((i * 7) % 11) as f32 - 3.0).collect()).unwrap()
}

/// An interpolation of `rank` axes to `size` (right-aligned here), with
/// `scale` the scale factor given (0 where none).
fn op(mode: InterpolationMode, size: &[usize], scale: f64, align_corners: bool) -> Interpolate {
    let rank = size.len();
    let mut s = [1usize; 3];
    s[3 - rank..].copy_from_slice(size);
    let mut sc = [0.0f64; 3];
    for v in &mut sc[3 - rank..] {
        *v = scale;
    }
    Interpolate {
        mode,
        rank,
        size: s,
        scale: sc,
        align_corners,
        upsample: false,
    }
}

/// Runs the case and compares with PyTorch's values to 1e-6.
fn check(input: &[usize], p: Interpolate, want: &[f32]) {
    let y = interpolate(&input_of(input), &p).unwrap();
    let mut shape = input[..2].to_vec();
    shape.extend_from_slice(&p.size[3 - p.rank..]);
    assert_eq!(y.shape(), shape.as_slice(), "{p:?}");
    assert_eq!(y.len(), want.len(), "{p:?}");
    for (i, (&a, &b)) in y.data().iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6,
            "{p:?}: element {i} is {a}, PyTorch {b}"
        );
    }
}

use InterpolationMode::{Bicubic, Linear, Nearest, NearestExact};

#[test]
fn bilinear_matches_pytorch_both_align_corners() {
    check(
        &[1, 2, 3, 4],
        op(Linear, &[5, 7], 0.0, false),
        BILINEAR_SIZE,
    );
    check(
        &[1, 2, 3, 4],
        op(Linear, &[5, 7], 0.0, true),
        BILINEAR_SIZE_AC,
    );
    // Scale factor 2: the output is 6x8, sampled with 1 / 2 (here equal to in / out).
    check(&[1, 2, 3, 4], op(Linear, &[6, 8], 2.0, false), BILINEAR_X2);
    check(
        &[1, 2, 3, 4],
        op(Linear, &[6, 8], 2.0, true),
        BILINEAR_X2_AC,
    );
    // Scale factor 1.5: 3x4 -> floor(4.5) x 6 = 4x6, sampled with 1 / 1.5 (not 3 / 4).
    check(
        &[1, 2, 3, 4],
        op(Linear, &[4, 6], 1.5, false),
        BILINEAR_X1_5,
    );
    check(
        &[1, 2, 3, 4],
        op(Linear, &[4, 6], 1.5, true),
        BILINEAR_X1_5_AC,
    );
    // Downsampling 5x7 -> 3x4, by size and by the factor 0.6 (floor(3), floor(4.2)).
    check(
        &[1, 1, 5, 7],
        op(Linear, &[3, 4], 0.0, false),
        BILINEAR_DOWN,
    );
    check(
        &[1, 1, 5, 7],
        op(Linear, &[3, 4], 0.6, false),
        BILINEAR_X0_6,
    );
}

#[test]
fn the_scale_factor_not_the_size_ratio_sets_the_sampling() {
    // 5x7 at 0.6 is 3x4 either way, but sampled with 1/0.6 rather than 5/3
    // and 7/4: the two differ.
    let by_size = interpolate(&input_of(&[1, 1, 5, 7]), &op(Linear, &[3, 4], 0.0, false)).unwrap();
    let by_scale = interpolate(&input_of(&[1, 1, 5, 7]), &op(Linear, &[3, 4], 0.6, false)).unwrap();
    assert!(by_size.max_abs_diff(&by_scale).unwrap() > 0.1);
}

#[test]
fn bicubic_matches_pytorch_both_align_corners() {
    check(
        &[1, 2, 3, 4],
        op(Bicubic, &[5, 7], 0.0, false),
        BICUBIC_SIZE,
    );
    check(
        &[1, 2, 3, 4],
        op(Bicubic, &[5, 7], 0.0, true),
        BICUBIC_SIZE_AC,
    );
    check(&[1, 2, 3, 4], op(Bicubic, &[6, 8], 2.0, false), BICUBIC_X2);
    check(
        &[1, 2, 3, 4],
        op(Bicubic, &[4, 6], 1.5, true),
        BICUBIC_X1_5_AC,
    );
    check(
        &[1, 2, 3, 4],
        op(Bicubic, &[4, 6], 1.5, false),
        BICUBIC_X1_5,
    );
}

#[test]
fn nearest_and_nearest_exact_match_pytorch() {
    check(
        &[1, 2, 3, 4],
        op(Nearest, &[5, 7], 0.0, false),
        NEAREST_SIZE,
    );
    check(&[1, 2, 3, 4], op(Nearest, &[6, 8], 2.0, false), NEAREST_X2);
    check(
        &[1, 2, 3, 4],
        op(Nearest, &[4, 6], 1.5, false),
        NEAREST_X1_5,
    );
    check(
        &[1, 1, 5, 7],
        op(Nearest, &[3, 4], 0.0, false),
        NEAREST_DOWN,
    );
    check(
        &[1, 2, 3, 4],
        op(NearestExact, &[5, 7], 0.0, false),
        NEAREST_EXACT_SIZE,
    );
    check(
        &[1, 2, 3, 4],
        op(NearestExact, &[4, 6], 1.5, false),
        NEAREST_EXACT_X1_5,
    );
    check(
        &[1, 1, 5, 7],
        op(NearestExact, &[3, 4], 0.0, false),
        NEAREST_EXACT_DOWN,
    );
    // 1-D: 5 -> floor(12.5) = 12 at scale 2.5; 3-D: 2x3x4 -> 3x4x5 and x1.5.
    check(&[1, 2, 5], op(Nearest, &[12], 2.5, false), NEAREST_1D_X2_5);
    check(
        &[1, 1, 2, 3, 4],
        op(Nearest, &[3, 4, 5], 0.0, false),
        NEAREST_3D_SIZE,
    );
    check(
        &[1, 1, 2, 3, 4],
        op(NearestExact, &[3, 4, 6], 1.5, false),
        NEAREST_EXACT_3D_X1_5,
    );
}

#[test]
fn linear_and_trilinear_match_pytorch() {
    check(&[1, 2, 5], op(Linear, &[8], 0.0, false), LINEAR_SIZE);
    check(&[1, 2, 5], op(Linear, &[8], 0.0, true), LINEAR_SIZE_AC);
    // 5 -> floor(8.5) = 8 at scale 1.7.
    check(&[1, 2, 5], op(Linear, &[8], 1.7, false), LINEAR_X1_7);
    check(
        &[1, 1, 2, 3, 4],
        op(Linear, &[3, 4, 5], 0.0, false),
        TRILINEAR_SIZE,
    );
    check(
        &[1, 1, 2, 3, 4],
        op(Linear, &[3, 4, 5], 0.0, true),
        TRILINEAR_SIZE_AC,
    );
    // 2x3x4 -> 3x4x6 at scale 1.5.
    check(
        &[1, 1, 2, 3, 4],
        op(Linear, &[3, 4, 6], 1.5, false),
        TRILINEAR_X1_5,
    );
}

/// Every output element as one nested weighted sum, PyTorch's per-element
/// evaluation: what the row-wise kernel must equal bit for bit.
fn per_element(x: &Tensor, p: &Interpolate) -> Vec<f32> {
    let s = x.shape();
    let lead = 3 - p.rank;
    let mut input = [1usize; 3];
    input[lead..].copy_from_slice(&s[2..]);
    let axes: [Axis; 3] = [0, 1, 2].map(|a| {
        if a < lead {
            Axis::unit()
        } else {
            Axis::new(p.mode, input[a], p.size[a], p.scale[a], p.align_corners)
        }
    });
    let [_, ih, iw] = input;
    let mut y = Vec::new();
    for xp in x.data().chunks_exact(input.iter().product()) {
        for z in 0..p.size[0] {
            for r in 0..p.size[1] {
                for c in 0..p.size[2] {
                    y.push(weighted(axes[0].at(z), |zi| {
                        weighted(axes[1].at(r), |ri| {
                            let row = &xp[(zi * ih + ri) * iw..];
                            weighted(axes[2].at(c), |ci| row[ci])
                        })
                    }));
                }
            }
        }
    }
    y
}

#[test]
fn row_wise_evaluation_rounds_as_the_per_element_one() {
    // Random inputs (a fixed LCG), every mode and rank, up and down.
    let mut seed = 12345u32;
    let mut next = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    };
    /// Input shape, mode, output size, scale factor, align_corners.
    type Case = (
        &'static [usize],
        InterpolationMode,
        &'static [usize],
        f64,
        bool,
    );
    let cases: [Case; 8] = [
        (&[2, 3, 7, 9], Linear, &[15, 4], 0.0, false),
        (&[2, 3, 7, 9], Linear, &[15, 4], 0.0, true),
        (&[1, 2, 7, 9], Bicubic, &[16, 19], 0.0, false),
        (&[1, 2, 7, 9], Bicubic, &[3, 20], 0.0, true),
        (&[1, 2, 11], Linear, &[27], 2.5, false),
        (&[1, 2, 3, 4, 5], Linear, &[7, 3, 11], 0.0, false),
        (&[1, 2, 3, 4, 5], Linear, &[4, 6, 7], 1.5, true),
        (&[1, 1, 6, 5], Nearest, &[13, 2], 0.0, false),
    ];
    for (shape, mode, size, scale, ac) in cases {
        let n: usize = shape.iter().product();
        let x = Tensor::new(shape, (0..n).map(|_| next()).collect()).unwrap();
        let p = op(mode, size, scale, ac);
        let got = interpolate(&x, &p).unwrap();
        let want = per_element(&x, &p);
        assert!(
            got.data()
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{p:?}"
        );
    }
}

#[test]
fn hand_computed_linear_cases() {
    // [0, 10] -> 4, align_corners: scale 1/3, sources 0, 1/3, 2/3, 1:
    // [0, 3.333.., 6.666.., 10]. Without: scale 1/2, sources 0.5·(d + 0.5) − 0.5
    // = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (i0 = 1 = last, so i1 = 1):
    // [0, 2.5, 7.5, 10].
    let x = Tensor::new(&[1, 1, 2], vec![0.0, 10.0]).unwrap();
    let y = interpolate(&x, &op(Linear, &[4], 0.0, true)).unwrap();
    let want = [0.0, 10.0 / 3.0, 20.0 / 3.0, 10.0];
    assert!(
        y.data().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
        "{:?}",
        y.data()
    );
    let y = interpolate(&x, &op(Linear, &[4], 0.0, false)).unwrap();
    assert_eq!(y.data(), &[0.0, 2.5, 7.5, 10.0]);
    // One output with align_corners samples index 0.
    let y = interpolate(&x, &op(Linear, &[1], 0.0, true)).unwrap();
    assert_eq!(y.data(), &[0.0]);
    // The same size is a copy, in every mode.
    let x = input_of(&[2, 3, 4, 5]);
    for mode in [Nearest, NearestExact, Linear, Bicubic] {
        for ac in [false, true] {
            if ac && matches!(mode, Nearest | NearestExact) {
                continue;
            }
            let y = interpolate(&x, &op(mode, &[4, 5], 0.0, ac)).unwrap();
            assert_eq!(y, x, "{mode:?} align_corners {ac}");
        }
    }
}

#[test]
fn cubic_weights_sum_to_one_and_interpolate() {
    // Keys' kernel reproduces its sample points: t = 0 gives [0, 1, 0, 0],
    // and its weights sum to 1 for every t.
    assert_eq!(cubic_weights(0.0), [0.0, 1.0, 0.0, 0.0]);
    for i in 0..=16 {
        let w = cubic_weights(i as f32 / 16.0);
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{w:?}");
    }
    // t = 0.5: near(0.5) = (1.25·0.5 − 2.25)·0.25 + 1 = 0.59375,
    // far(1.5) = ((−1.125 + 3.75)·1.5 − 6)·1.5 + 3 = −0.09375.
    assert_eq!(cubic_weights(0.5), [-0.09375, 0.59375, 0.59375, -0.09375]);
}

#[test]
fn errors_name_the_mode_and_the_numbers() {
    let x = Tensor::zeros(&[1, 1, 4]).unwrap();
    let e = interpolate(&x, &op(Linear, &[2, 8], 0.0, false)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Interpolate: mode bilinear expects a tensor of 2 spatial axes after [N, C], found [1, 1, 4]"
    );
    let e = interpolate(&x, &op(Nearest, &[8], 0.0, true)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Interpolate: align_corners is only for the linear and cubic modes, not nearest"
    );
    let mut p = op(Linear, &[0], 0.0, false);
    p.upsample = true;
    let e = interpolate(&x, &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Upsample: input [4] and output [0] must be non-empty"
    );
    let e = interpolate(&x, &op(Bicubic, &[8], 0.0, false)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Interpolate: bicubic needs 2 spatial axes, found 1"
    );
}

/// Pasted from `python scripts/make_interpolate_reference.py` (kept one
/// case per line: not reformatted).
#[rustfmt::skip]
mod values {
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='bilinear', align_corners=False)`: shape [1, 2, 5, 7].
    pub const BILINEAR_SIZE: &[f32] = &[-3.0, -0.49999964, 3.5000002, 1.9999995, 0.50000143, 4.500001, 7.0, -0.59999985, 0.3285716, 1.8142859, 2.2, 2.585715, 4.071429, 5.0, 3.0, 1.5714283, -0.71428585, 2.500001, 5.714285, 3.4285707, 2.0, -7.1525574e-07, 0.92857146, 2.4142866, 2.8000002, 2.7142842, 0.4285701, -1.0000007, -2.0, 0.5000003, 4.5, 2.9999998, 0.7142849, -1.5714293, -3.0, 4.0, 2.5714283, 0.28571415, 3.500001, 6.714285, 4.4285707, 3.0, 1.9999998, 2.142857, 2.3714287, 3.7000003, 4.7142844, 2.4285707, 0.99999976, -1.0, 1.5000002, 5.5, 3.9999995, 1.7142849, -0.57142925, -2.0, 2.6000009, 2.7428575, 2.971428, 0.99999875, -0.8142857, 0.6714293, 1.6000009, 5.0, 3.5714283, 1.2857141, -1.0000005, -2.4999986, 1.5000012, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='bilinear', align_corners=True)`: shape [1, 2, 5, 7].
    pub const BILINEAR_SIZE_AC: &[f32] = &[-3.0, 0.5, 4.0, 2.0, 0.0, 3.5, 7.0, 0.0, 0.75, 1.5, 2.25, 3.0, 3.75, 4.5, 3.0, 1.0, -1.0, 2.5, 6.0, 4.0, 2.0, 0.5, 1.25, 2.0, 2.75, 3.5, 1.5, -0.5, -2.0, 1.5, 5.0, 3.0, 1.0, -1.0, -3.0, 4.0, 2.0, 0.0, 3.5, 7.0, 5.0, 3.0, 1.5, 2.25, 3.0, 3.75, 4.5, 2.5, 0.5, -1.0, 2.5, 6.0, 4.0, 2.0, 0.0, -2.0, 2.0, 2.75, 3.5, 1.5, -0.5, 0.25, 1.0, 5.0, 3.0, 1.0, -1.0, -3.0, 0.5, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=2.0, mode='bilinear', align_corners=False)`: shape [1, 2, 6, 8].
    pub const BILINEAR_X2: &[f32] = &[-3.0, -1.25, 2.25, 3.0, 1.0, 1.75, 5.25, 7.0, -1.5, -0.4375, 1.6875, 2.4375, 1.8125, 2.5625, 4.6875, 5.75, 1.5, 1.1875, 0.5625, 1.3125, 3.4375, 4.1875, 3.5625, 3.25, 1.75, 1.4375, 0.8125, 1.5625, 3.6875, 3.75, 1.75, 0.75, -0.75, 0.3125, 2.4375, 3.1875, 2.5625, 1.25, -0.75, -1.75, -2.0, -0.25, 3.25, 4.0, 2.0, 0.0, -2.0, -3.0, 4.0, 3.0, 1.0, 1.75, 5.25, 6.0, 4.0, 3.0, 2.75, 2.4375, 1.8125, 2.5625, 4.6875, 4.75, 2.75, 1.75, 0.25, 1.3125, 3.4375, 4.1875, 3.5625, 2.25, 0.25, -0.75, 0.5, 1.5625, 3.6875, 3.75, 1.75, 0.4375, -0.1875, -0.5, 3.5, 3.1875, 2.5625, 1.25, -0.75, -0.6875, 1.4375, 2.5, 5.0, 4.0, 2.0, 0.0, -2.0, -1.25, 2.25, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=2.0, mode='bilinear', align_corners=True)`: shape [1, 2, 6, 8].
    pub const BILINEAR_X2_AC: &[f32] = &[-3.0, 1.1920929e-07, 3.0, 2.857143, 1.1428571, 0.9999995, 3.9999998, 7.0, -0.6, 0.5142858, 1.6285716, 2.114286, 2.2857144, 2.7714286, 3.8857143, 5.0000005, 1.8000001, 1.0285714, 0.25714278, 1.3714285, 3.4285715, 4.5428576, 3.7714286, 3.0, 1.9999998, 1.2285713, 0.45714307, 1.5714285, 3.6285713, 4.4285717, 2.7142856, 0.99999976, -1.1920929e-07, 1.1142857, 2.2285717, 2.7142859, 2.8857143, 2.4285717, 0.71428573, -1.0000001, -2.0, 1.0, 4.0, 3.857143, 2.142857, 0.4285717, -1.2857141, -3.0, 4.0, 2.2857141, 0.57142854, 1.9999999, 5.0, 6.4285717, 4.714286, 3.0, 2.0, 2.1714284, 2.3428571, 3.142857, 4.257143, 4.428572, 2.714286, 1.0, -5.9604645e-08, 2.057143, 4.114286, 4.285714, 3.5142856, 2.4285717, 0.71428585, -1.0, 0.20000029, 2.257143, 4.3142858, 3.8571424, 2.142857, 0.74285716, -0.028571278, -0.7999997, 2.6000001, 2.7714283, 2.942857, 1.8571428, 0.14285696, -0.62857175, 0.48571414, 1.6000001, 5.0, 3.2857141, 1.5714285, -0.14285707, -1.8571428, -2.0000005, 0.99999976, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='bilinear', align_corners=False)`: shape [1, 2, 4, 6].
    pub const BILINEAR_X1_5: &[f32] = &[-3.0, 0.5, 3.333333, 0.6666665, 3.5, 7.0, 0.0, 0.75, 1.7500001, 2.75, 3.75, 4.5, 2.1666663, 1.0833334, 0.8611118, 4.3055553, 3.1666665, 1.1666663, -1.1666669, 1.4166667, 3.6388888, 2.1944442, -0.1666668, -2.166667, 4.0, 2.0, 1.1666672, 5.8333335, 5.0, 3.0, 1.5, 2.25, 3.2500002, 4.25, 2.5, 0.5, 4.7683716e-07, 2.5833335, 4.499999, 1.8333327, 0.08333337, -0.99999946, 4.0, 2.9166667, 1.1666662, -1.5000005, 0.41666675, 3.0000002];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='bilinear', align_corners=True)`: shape [1, 2, 4, 6].
    pub const BILINEAR_X1_5_AC: &[f32] = &[-3.0, 1.2000002, 3.1999998, 0.7999997, 2.8000007, 7.0, 1.0000001, 0.8, 1.3333334, 3.3333337, 3.8666668, 3.6666665, 1.3333331, 1.1333333, 1.666667, 3.666667, 2.7333329, 0.33333313, -2.0, 2.2, 4.2, 1.7999997, -0.6000004, -3.0, 4.0, 1.5999999, 1.4000003, 5.6000004, 5.3999996, 3.0, 0.66666657, 2.6666667, 3.9333332, 3.7333333, 2.0666661, -0.33333343, 1.0000002, 3.0000002, 3.5333328, 1.133333, 0.19999999, 2.3841858e-07, 5.0, 2.6, 0.19999981, -2.2000003, -0.19999933, 4.0];
    /// `F.interpolate(x[1, 1, 5, 7], size=(3, 4), mode='bilinear', align_corners=False)`: shape [1, 1, 3, 4].
    pub const BILINEAR_DOWN: &[f32] = &[-0.08333342, 2.0833335, 1.5000002, 2.75, 5.5, -0.125, 2.5, 2.375, 2.8333325, 0.4166674, 3.0416675, 1.0833333];
    /// `F.interpolate(x[1, 1, 5, 7], scale_factor=0.6, mode='bilinear', align_corners=False)`: shape [1, 1, 3, 4].
    pub const BILINEAR_X0_6: &[f32] = &[-0.22222237, 1.6666665, 2.333334, 1.7777767, 5.666667, -1.0, 3.333334, 0.3333311, 2.9999995, 9.536743e-07, 3.1111114, 0.11111045];
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='bicubic', align_corners=False)`: shape [1, 2, 5, 7].
    pub const BICUBIC_SIZE: &[f32] = &[-4.3752894, -0.520038, 4.2526155, 1.9519997, -0.34861228, 4.424039, 8.279288, -0.5044795, 0.28385404, 1.4680376, 2.0837505, 2.8932788, 4.5542746, 5.691056, 3.396867, 1.20654, -1.0944799, 2.500001, 6.0944796, 3.793457, 1.6031342, 0.17951843, 0.9678534, 2.152039, 3.4731255, 3.1467826, 0.27802986, -1.8954443, -3.2792892, 0.57596207, 5.348615, 4.17825, 0.057589117, -2.4279587, -3.876866, 4.981641, 2.261773, -0.65883845, 3.3530016, 7.623259, 5.338399, 3.0831342, 1.522831, 1.8211751, 2.5011551, 4.6026244, 5.272014, 2.4288528, 0.15255477, -1.6945157, 1.6311951, 5.784256, 5.0312495, 1.5863677, -0.88301706, -2.3968658, 2.2068334, 2.9678872, 3.5327015, 0.81924886, -1.4850363, 0.08639332, 1.583061, 6.0776415, 4.099195, 0.99405164, -2.7092505, -3.2038348, 1.5849802, 5.3752885];
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='bicubic', align_corners=True)`: shape [1, 2, 5, 7].
    pub const BICUBIC_SIZE_AC: &[f32] = &[-3.0, 0.875, 4.0, 2.0, 0.0, 3.125, 7.0, 0.46875, 0.4658203, 0.9375, 2.1064453, 3.46875, 4.4560547, 4.96875, 3.0, 0.34375, -1.0, 2.5, 6.0, 4.65625, 2.0, 1.0625, 1.0595703, 1.53125, 3.3125, 4.0625, 1.7841797, -0.96875, -2.0, 1.875, 5.0, 4.03125, 1.0, -1.375, -3.0, 4.0, 1.34375, 0.0, 3.5, 7.0, 5.65625, 3.0, 0.9375, 2.0625, 3.46875, 4.9277344, 4.96875, 2.59375, -0.0625, -1.0, 2.875, 6.0, 5.03125, 2.0, -0.375, -2.0, 1.53125, 3.2685547, 4.0625, 1.6435547, -0.96875, -0.6904297, 0.53125, 5.0, 3.375, 1.0, -2.03125, -3.0, 0.125, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=2.0, mode='bicubic', align_corners=False)`: shape [1, 2, 6, 8].
    pub const BICUBIC_X2: &[f32] = &[-4.493454, -1.6026154, 3.2227936, 3.9320068, -0.037475586, 0.6717377, 5.4971466, 8.387985, -1.8994904, -0.491745, 1.840805, 2.678421, 1.4586029, 2.4382172, 4.982254, 6.518402, 2.449356, 1.3642426, -0.4933319, 0.5557709, 3.949051, 5.4241486, 4.2010345, 3.5011292, 2.7813873, 1.6962738, -0.16130066, 1.0162048, 4.6662903, 4.9286957, 1.7082062, -0.20439148, -1.0908966, 0.31684875, 2.6493988, 3.7997131, 3.2052917, 1.2316437, -1.0885162, -2.5056305, -3.3879852, -0.4971466, 4.3282623, 5.464981, 2.3505096, -0.977829, -2.8025055, -3.9492188, 5.071579, 3.0713654, -0.32435608, 0.8123627, 5.9190216, 7.481735, 4.7204742, 3.1054688, 2.7744904, 2.2437744, 1.3137207, 2.5924377, 5.444916, 5.524536, 2.8085938, 1.1935883, -1.0977936, 0.8371582, 4.0428467, 5.6055603, 4.74527, 2.3320312, -0.38391113, -2.0442352, -0.7657623, 1.2975922, 4.760086, 4.9817047, 1.8672333, -0.54600525, -1.0077667, -1.3269958, 3.583084, 3.3650665, 3.0604095, 1.0731659, -1.5639496, -1.4843292, 1.2893219, 2.940277, 6.1770477, 4.6043396, 2.0636292, -1.2647095, -3.663147, -2.1004333, 2.643402, 5.493454];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='bicubic', align_corners=True)`: shape [1, 2, 4, 6].
    pub const BICUBIC_X1_5_AC: &[f32] = &[-3.0, 1.7160003, 3.8000002, 0.2000022, 2.2840016, 7.0, 1.666666, 0.075999916, 0.58903843, 3.8383718, 4.972298, 4.1296315, 2.0925932, 0.50192505, 1.1274071, 4.7140737, 3.5803702, -0.12962955, -2.0, 2.7160003, 5.064, 2.255999, -0.9840026, -3.0, 4.0, 0.7959995, 0.9440012, 6.0560007, 6.2040005, 3.0, -0.09259194, 2.8780742, 5.1543703, 4.839705, 2.0454068, -1.0925921, 0.33333224, 3.8099992, 4.643258, 0.9552588, -0.9020019, -0.66666746, 5.0, 2.984, -0.25599986, -3.0640001, -0.71599865, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='bicubic', align_corners=False)`: shape [1, 2, 4, 6].
    pub const BICUBIC_X1_5: &[f32] = &[-4.2113614, 0.92111564, 4.275334, -0.36214098, 2.9920795, 8.124555, 0.42805997, 0.4658203, 1.3154294, 2.9833987, 4.4560547, 5.098959, 3.0963097, 0.51739734, 0.13513361, 5.25964, 3.9235756, 0.41827312, -1.6322632, 1.6460143, 4.258772, 2.5964558, -0.48281923, -2.7330108, 4.8641396, 1.2108291, 0.26017213, 6.553561, 6.179797, 3.0868077, 0.7177736, 2.0625, 3.9911027, 5.2341585, 2.59375, -0.49923933, -1.1264024, 3.0796802, 5.687649, 1.8803744, -0.82678556, -1.7830981, 4.2456894, 3.3298252, 0.93255365, -2.2770488, -0.051467396, 3.522682];
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='nearest')`: shape [1, 2, 5, 7].
    pub const NEAREST_SIZE: &[f32] = &[-3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, -3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 3.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, 3.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, 5.0, 5.0, 1.0, 1.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, 5.0, 5.0, 1.0, 1.0, -3.0, -3.0, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=2.0, mode='nearest')`: shape [1, 2, 6, 8].
    pub const NEAREST_X2: &[f32] = &[-3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, -3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, 3.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, -2.0, 5.0, 5.0, 1.0, 1.0, -3.0, -3.0, -2.0, -2.0, 5.0, 5.0, 1.0, 1.0, -3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, 3.0, 4.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, 3.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, -2.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, -2.0, 5.0, 5.0, 1.0, 1.0, -3.0, -3.0, 4.0, 4.0, 5.0, 5.0, 1.0, 1.0, -3.0, -3.0, 4.0, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='nearest')`: shape [1, 2, 4, 6].
    pub const NEAREST_X1_5: &[f32] = &[-3.0, -3.0, 4.0, 0.0, 0.0, 7.0, -3.0, -3.0, 4.0, 0.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, -2.0, 5.0, 5.0, 1.0, -3.0, -3.0, 4.0];
    /// `F.interpolate(x[1, 1, 5, 7], size=(3, 4), mode='nearest')`: shape [1, 1, 3, 4].
    pub const NEAREST_DOWN: &[f32] = &[-3.0, 4.0, 7.0, -1.0, 2.0, -2.0, 1.0, 4.0, 1.0, -3.0, 0.0, 3.0];
    /// `F.interpolate(x[1, 2, 3, 4], size=(5, 7), mode='nearest-exact')`: shape [1, 2, 5, 7].
    pub const NEAREST_EXACT_SIZE: &[f32] = &[-3.0, -3.0, 4.0, 0.0, 0.0, 7.0, 7.0, -3.0, -3.0, 4.0, 0.0, 0.0, 7.0, 7.0, 3.0, 3.0, -1.0, 6.0, 6.0, 2.0, 2.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, -3.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, -3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, 3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, -2.0, -2.0, 5.0, 5.0, 1.0, -3.0, -3.0, 4.0, 4.0, 5.0, 5.0, 1.0, -3.0, -3.0, 4.0, 4.0];
    /// `F.interpolate(x[1, 2, 3, 4], scale_factor=1.5, mode='nearest-exact')`: shape [1, 2, 4, 6].
    pub const NEAREST_EXACT_X1_5: &[f32] = &[-3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, -2.0, 5.0, 5.0, 1.0, -3.0, -3.0, 4.0, 0.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, 4.0, 4.0];
    /// `F.interpolate(x[1, 1, 5, 7], size=(3, 4), mode='nearest-exact')`: shape [1, 1, 3, 4].
    pub const NEAREST_EXACT_DOWN: &[f32] = &[-3.0, 0.0, 3.0, 6.0, 7.0, -1.0, 2.0, 5.0, 6.0, -2.0, 1.0, 4.0];
    /// `F.interpolate(x[1, 2, 5], size=8, mode='linear', align_corners=False)`: shape [1, 2, 8].
    pub const LINEAR_SIZE: &[f32] = &[-3.0, 0.0625, 3.75, 1.25, 2.1875, 6.5625, 4.75, 3.0, -1.0, 2.0625, 5.75, 3.25, 0.75, -1.75, 1.9375, 5.0];
    /// `F.interpolate(x[1, 2, 5], size=8, mode='linear', align_corners=True)`: shape [1, 2, 8].
    pub const LINEAR_SIZE_AC: &[f32] = &[-3.0, 1.0000002, 3.4285712, 1.1428566, 2.0000007, 6.0000005, 5.285713, 3.0, -1.0, 3.0000002, 5.428571, 3.1428566, 0.85714245, -1.4285717, 1.0000019, 5.0];
    /// `F.interpolate(x[1, 2, 5], scale_factor=1.7, mode='linear', align_corners=False)`: shape [1, 2, 8].
    pub const LINEAR_X1_7: &[f32] = &[-3.0, -0.32352936, 3.7941184, 1.7647057, 1.0294127, 5.1470604, 5.705882, 3.3529396, -1.0, 1.6764706, 5.7941184, 3.7647057, 1.4117641, -0.94117737, 0.26470637, 4.3823557];
    /// `F.interpolate(x[1, 2, 5], scale_factor=2.5, mode='nearest')`: shape [1, 2, 12].
    pub const NEAREST_1D_X2_5: &[f32] = &[-3.0, -3.0, -3.0, 4.0, 4.0, 0.0, 0.0, 0.0, 7.0, 7.0, 3.0, 3.0, -1.0, -1.0, -1.0, 6.0, 6.0, 2.0, 2.0, 2.0, -2.0, -2.0, 5.0, 5.0];
    /// `F.interpolate(x[1, 1, 2, 3, 4], size=(3, 4, 5), mode='trilinear', align_corners=False)`: shape [1, 1, 3, 4, 5].
    pub const TRILINEAR_SIZE: &[f32] = &[-3.0, 1.9000003, 2.0, 2.0999997, 7.0, 0.75, 0.8375, 2.3125, 3.7875, 3.875, 1.125, 1.2125, 2.6875, 2.9250002, 0.125, -2.0, 2.9000003, 3.0, -0.19999981, -3.0, 0.5, 1.5500001, 2.75, 3.9499998, 5.0, 0.8125, 1.8625002, 3.0625, 3.23125, 1.875, 1.1875, 2.2375, 2.40625, 1.54375, 0.1875, 1.5, 2.5500002, 1.0, -0.5500001, 0.5, 4.0, 1.1999998, 3.5, 5.8, 3.0, 0.875, 2.8875003, 3.8125, 2.6750002, -0.125, 1.25, 3.2625, 2.125, 0.1625, 0.25, 5.0, 2.1999998, -1.0, -0.90000033, 4.0];
    /// `F.interpolate(x[1, 1, 2, 3, 4], size=(3, 4, 5), mode='trilinear', align_corners=True)`: shape [1, 1, 3, 4, 5].
    pub const TRILINEAR_SIZE_AC: &[f32] = &[-3.0, 2.25, 2.0, 1.75, 7.0, 1.0, 0.74999994, 2.3333335, 3.9166667, 3.6666665, 1.3333331, 1.0833335, 2.6666667, 3.333333, 0.33333313, -2.0, 3.25, 3.0, 0.0, -3.0, 0.5, 1.625, 2.75, 3.875, 5.0, 0.83333325, 1.9583334, 3.0833335, 3.2916665, 1.6666665, 1.1666667, 2.2916667, 2.5, 1.7916665, 0.16666669, 1.5, 2.625, 1.0, -0.625, 0.5, 4.0, 1.0, 3.5, 6.0, 3.0, 0.66666657, 3.1666667, 3.8333333, 2.6666665, -0.33333343, 1.0000002, 3.5, 2.333333, 0.24999991, 2.3841858e-07, 5.0, 2.0, -1.0, -1.25, 4.0];
    /// `F.interpolate(x[1, 1, 2, 3, 4], scale_factor=1.5, mode='trilinear', align_corners=False)`: shape [1, 1, 3, 4, 6].
    pub const TRILINEAR_X1_5: &[f32] = &[-3.0, 0.5, 3.333333, 0.66666603, 3.5, 7.0, 0.0, 0.75, 1.7500001, 2.7500002, 3.75, 4.5, 2.1666663, 1.0833334, 0.8611118, 4.3055563, 3.1666663, 1.1666663, -1.1666675, 1.4166667, 3.6388896, 2.1944435, -0.16666746, -2.1666675, 0.5, 1.25, 2.25, 3.2500002, 4.25, 5.0, 0.75, 1.5, 2.5, 3.5, 3.125, 2.5, 1.0833334, 1.8333335, 2.6805556, 3.0694442, 1.6249998, 0.08333337, 1.4166667, 2.1666667, 2.4027777, 0.34722102, 0.12499964, 0.41666675, 4.0, 2.0, 1.1666672, 5.8333344, 5.0, 3.0, 1.5, 2.25, 3.25, 4.25, 2.5, 0.5, 4.7683716e-07, 2.5833335, 4.4999995, 1.8333323, 0.08333337, -0.9999995, 4.000001, 2.9166667, 1.1666656, -1.5000014, 0.41666675, 3.000001];
    /// `F.interpolate(x[1, 1, 2, 3, 4], size=(3, 4, 5), mode='nearest')`: shape [1, 1, 3, 4, 5].
    pub const NEAREST_3D_SIZE: &[f32] = &[-3.0, -3.0, 4.0, 0.0, 7.0, -3.0, -3.0, 4.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, -3.0, -3.0, -3.0, 4.0, 0.0, 7.0, -3.0, -3.0, 4.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, -3.0, 4.0, 4.0, 0.0, 7.0, 3.0, 4.0, 4.0, 0.0, 7.0, 3.0, -1.0, -1.0, 6.0, 2.0, -2.0, 5.0, 5.0, 1.0, -3.0, 4.0];
    /// `F.interpolate(x[1, 1, 2, 3, 4], scale_factor=1.5, mode='nearest-exact')`: shape [1, 1, 3, 4, 6].
    pub const NEAREST_EXACT_3D_X1_5: &[f32] = &[-3.0, 4.0, 4.0, 0.0, 7.0, 7.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, 3.0, -1.0, -1.0, 6.0, 2.0, 2.0, -2.0, 5.0, 5.0, 1.0, -3.0, -3.0, 4.0, 0.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, 4.0, 4.0, 4.0, 0.0, 0.0, 7.0, 3.0, 3.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, -1.0, 6.0, 6.0, 2.0, -2.0, -2.0, 5.0, 1.0, 1.0, -3.0, 4.0, 4.0];
}
