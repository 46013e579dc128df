//! Hand-computed cases of the 3-D and transposed convolutions (every one
//! also checked against PyTorch's `F.conv3d` / `F.conv_transpose{1,2}d` when
//! it was written), and random cross-checks: rank 1 and 2 against the
//! existing `conv1d` / `conv2d`, and each transposed convolution as the
//! adjoint of the convolution with the same weight.

use super::*;
use crate::kernels::conv;
use netspec_model::Conv2d;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A `rank`-D convolution (or transpose) without bias, every spatial axis
/// given the same kernel `k`, stride `s`, padding `p` (both sides), output
/// padding `op` and dilation `d` (right-aligned; the unused leading axes
/// trivial). The one builder of the runtime's test convolutions (a bias:
/// `ConvNd { bias: true, ..conv_of(...) }`).
#[allow(clippy::too_many_arguments)]
pub(crate) const fn conv_of(
    rank: usize,
    transposed: bool,
    cin: usize,
    cout: usize,
    k: usize,
    s: usize,
    p: usize,
    op: usize,
    d: usize,
    groups: usize,
) -> ConvNd {
    let mut c = ConvNd::new(
        rank,
        transposed,
        cin,
        cout,
        [1; 3],
        [1; 3],
        [[0, 0]; 3],
        [0; 3],
        [1; 3],
        groups,
        false,
    );
    let mut a = 3usize.saturating_sub(rank);
    while a < 3 {
        c.kernel[a] = k;
        c.stride[a] = s;
        c.padding[a] = [p, p];
        c.output_padding[a] = op;
        c.dilation[a] = d;
        a += 1;
    }
    c
}

fn t(shape: &[usize], data: &[f32]) -> Tensor {
    Tensor::new(shape, data.to_vec()).unwrap()
}

fn arange(shape: &[usize], from: f32) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::new(shape, (0..n).map(|i| from + i as f32).collect()).unwrap()
}

#[test]
fn transposed_2d_stride_2_places_one_kernel_per_input() {
    // x = [[1, 2], [3, 4]], w = [[1, 2], [3, 4]], k 2, s 2: each input value
    // times the kernel, in its own 2x2 block of the 4x4 output:
    //   block (0, 0) = 1·w = [[1, 2], [3, 4]]    block (0, 1) = 2·w = [[2, 4], [6, 8]]
    //   block (1, 0) = 3·w = [[3, 6], [9, 12]]   block (1, 1) = 4·w = [[4, 8], [12, 16]]
    let x = t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = [1.0, 2.0, 3.0, 4.0];
    let c = conv_of(2, true, 1, 1, 2, 2, 0, 0, 1, 1);
    let y = conv_transpose_nd(&x, &w, None, &c).unwrap();
    assert_eq!(y.shape(), &[1, 1, 4, 4]);
    #[rustfmt::skip]
    let expect = [
        1.0, 2.0, 2.0, 4.0,
        3.0, 4.0, 6.0, 8.0,
        3.0, 6.0, 4.0, 8.0,
        9.0, 12.0, 12.0, 16.0,
    ];
    assert_eq!(y.data(), &expect);

    // Output padding 1 and bias 0.5: (2 − 1)·2 + (2 − 1) + 1 + 1 = 5 per axis;
    // the extra last row and column receive nothing but the bias.
    let mut c1 = c;
    c1.output_padding = [0, 1, 1];
    let y = conv_transpose_nd(&x, &w, Some(&[0.5]), &c1).unwrap();
    assert_eq!(y.shape(), &[1, 1, 5, 5]);
    let mut want = Vec::new();
    for r in 0..5 {
        for col in 0..5 {
            let v = if r < 4 && col < 4 {
                expect[r * 4 + col]
            } else {
                0.0
            };
            want.push(v + 0.5);
        }
    }
    assert_eq!(y.data(), want.as_slice());

    // Padding 1 crops one row and column from each side of the 4x4:
    // (2 − 1)·2 − 2 + 1 + 1 = 2, the centre [[4, 6], [6, 4]].
    let mut c2 = c;
    c2.padding = [[0, 0], [1, 1], [1, 1]];
    let y = conv_transpose_nd(&x, &w, None, &c2).unwrap();
    assert_eq!(
        (y.shape(), y.data()),
        (&[1, 1, 2, 2][..], &[4.0, 6.0, 6.0, 4.0][..])
    );
}

#[test]
fn transposed_2d_groups_dilation_and_padding() {
    // Two groups of one channel, k 2, s 1, dilation 2, padding 1. The full
    // output is (2 − 1) + 2·(2 − 1) + 1 = 4 per axis; tap (a, b) lands at
    // (i + 2a, j + 2b); cropping 1 from each side leaves rows/cols 1..3.
    // Channel 0: x = [[1, 2], [3, 4]], w = [[1, 0], [0, 1]]: the full output is
    //   [1 2 0 0; 3 4 0 0; 0 0 1 2; 0 0 3 4] -> centre [[4, 0], [0, 1]].
    // Channel 1: x = [[5, 6], [7, 8]], w = [[0, 1], [1, 0]]:
    //   [0 0 5 6; 0 0 7 8; 5 6 0 0; 7 8 0 0] -> centre [[0, 7], [6, 0]].
    let x = arange(&[1, 2, 2, 2], 1.0);
    let w = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let c = conv_of(2, true, 2, 2, 2, 1, 1, 0, 2, 2);
    let y = conv_transpose_nd(&x, &w, None, &c).unwrap();
    assert_eq!(y.shape(), &[1, 2, 2, 2]);
    assert_eq!(y.data(), &[4.0, 0.0, 0.0, 1.0, 0.0, 7.0, 6.0, 0.0]);
}

#[test]
fn transposed_1d_dilation_groups_stride_and_output_padding() {
    // x = [1, 2, 3], w = [1, 10], dilation 2: length (3 − 1) + 2·1 + 1 = 5;
    // x[i] adds 1·x[i] at i and 10·x[i] at i + 2: [1, 2, 3 + 10, 20, 30].
    let x = t(&[1, 1, 3], &[1.0, 2.0, 3.0]);
    let c = conv_of(1, true, 1, 1, 2, 1, 0, 0, 2, 1);
    let y = conv_transpose_nd(&x, &[1.0, 10.0], None, &c).unwrap();
    assert_eq!(
        (y.shape(), y.data()),
        (&[1, 1, 5][..], &[1.0, 2.0, 13.0, 20.0, 30.0][..])
    );

    // Groups 2, 2 -> 4 channels, k 1: input channel 0 (x = [1, 2]) feeds
    // outputs 0 and 1 with weights 1 and 2, channel 1 (x = [3, 4]) outputs 2
    // and 3 with 3 and 4: [1, 2], [2, 4], [9, 12], [12, 16].
    let x = t(&[1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let c = conv_of(1, true, 2, 4, 1, 1, 0, 0, 1, 2);
    let y = conv_transpose_nd(&x, &[1.0, 2.0, 3.0, 4.0], None, &c).unwrap();
    assert_eq!(y.shape(), &[1, 4, 2]);
    assert_eq!(y.data(), &[1.0, 2.0, 2.0, 4.0, 9.0, 12.0, 12.0, 16.0]);

    // x = [1, 2, 3], w = [1, 2, 3], stride 2, padding 1, output padding 1:
    // length (3 − 1)·2 − 2 + 2 + 1 + 1 = 6. Uncropped positions 2i + t:
    // x0 at 0..3 adds [1, 2, 3], x1 at 2..5 adds [2, 4, 6], x2 at 4..7 adds
    // [3, 6, 9]: [1, 2, 5, 4, 9, 6, 9, (0)]; output j is position j + 1:
    // [2, 5, 4, 9, 6, 9] (the output padding keeps position 6).
    let x = t(&[1, 1, 3], &[1.0, 2.0, 3.0]);
    let c = conv_of(1, true, 1, 1, 3, 2, 1, 1, 1, 1);
    let y = conv_transpose_nd(&x, &[1.0, 2.0, 3.0], None, &c).unwrap();
    assert_eq!(y.data(), &[2.0, 5.0, 4.0, 9.0, 6.0, 9.0]);
}

#[test]
fn conv3d_on_a_tiny_cube() {
    // x = 1..=8 as [2, 2, 2] (depth plane 0 = 1..=4, plane 1 = 5..=8).
    let x = arange(&[1, 1, 2, 2, 2], 1.0);
    // Weight 1..=8 on the same cube: Σ i² for i = 1..=8 = 204.
    let c = conv_of(3, false, 1, 1, 2, 1, 0, 0, 1, 1);
    let w: Vec<f32> = (1..=8).map(|v| v as f32).collect();
    let y = conv_nd(&x, &w, Some(&[0.5]), &c).unwrap();
    assert_eq!((y.shape(), y.data()), (&[1, 1, 1, 1, 1][..], &[204.5][..]));

    // All-ones 2x2x2 kernel, padding 1 on the depth only: depth
    // 2 + 2 − 2 + 1 = 3, height and width 1. Output 0 sees the zero plane and
    // plane 0 (1+2+3+4 = 10), output 1 both planes (36), output 2 plane 1 (26).
    let mut c = c;
    c.padding = [[1, 1], [0, 0], [0, 0]];
    let y = conv_nd(&x, &[1.0; 8], None, &c).unwrap();
    assert_eq!(
        (y.shape(), y.data()),
        (&[1, 1, 3, 1, 1][..], &[10.0, 36.0, 26.0][..])
    );

    // Stride 2 and groups 2 (two channels, k 1): channel 0 (1..=8) times 2,
    // channel 1 (9..=16) times 3, at the even positions (0, 0, 0) only:
    // [2·1, 3·9] = [2, 27].
    let x = arange(&[1, 2, 2, 2, 2], 1.0);
    let c = conv_of(3, false, 2, 2, 1, 2, 0, 0, 1, 2);
    let y = conv_nd(&x, &[2.0, 3.0], None, &c).unwrap();
    assert_eq!(
        (y.shape(), y.data()),
        (&[1, 2, 1, 1, 1][..], &[2.0, 27.0][..])
    );

    // Dilation 2 on a 3x3x3 cube of 0..27 with a 2x2x2 kernel of ones:
    // one output, the eight corners 0 + 2 + 6 + 8 + 18 + 20 + 24 + 26 = 104.
    let x = arange(&[1, 1, 3, 3, 3], 0.0);
    let c = conv_of(3, false, 1, 1, 2, 1, 0, 0, 2, 1);
    let y = conv_nd(&x, &[1.0; 8], None, &c).unwrap();
    assert_eq!(y.data(), &[104.0]);
}

fn random_values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
        .collect()
}

fn pick(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
    lo + rng.next_u32() as usize % (hi - lo + 1)
}

#[test]
fn ranks_1_and_2_agree_with_conv1d_and_conv2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..40 {
        let rank = 1 + case % 2;
        let groups = pick(&mut rng, 1, 3);
        let (cin, cout) = (groups * pick(&mut rng, 1, 3), groups * pick(&mut rng, 1, 3));
        let (k, s, d) = (
            pick(&mut rng, 1, 3),
            pick(&mut rng, 1, 2),
            pick(&mut rng, 1, 2),
        );
        let mut c = conv_of(rank, false, cin, cout, k, s, 0, 0, d, groups);
        c.bias = true;
        for a in 3 - rank..3 {
            c.padding[a] = [pick(&mut rng, 0, 2), pick(&mut rng, 0, 2)];
        }
        let (h, w) = (
            pick(&mut rng, d * (k - 1) + 1, 9),
            pick(&mut rng, d * (k - 1) + 1, 9),
        );
        let mut shape = vec![2, cin];
        if rank == 2 {
            shape.push(h);
        }
        shape.push(w);
        let x = t(&shape, &random_values(&mut rng, shape.iter().product()));
        let weight = random_values(&mut rng, c.weight_shape().iter().product());
        let bias = random_values(&mut rng, cout);
        let c2 = Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: [c.kernel[1], c.kernel[2]],
            stride: [c.stride[1], c.stride[2]],
            padding: [c.padding[1], c.padding[2]],
            dilation: [c.dilation[1], c.dilation[2]],
            groups,
            bias: true,
        };
        let want = if rank == 1 {
            conv::conv1d(&x, &weight, Some(&bias), &c2).unwrap()
        } else {
            conv::conv2d(&x, &weight, Some(&bias), &c2).unwrap()
        };
        let got = conv_nd(&x, &weight, Some(&bias), &c).unwrap();
        assert_eq!(got.shape(), want.shape(), "case {case}: {c:?}");
        let diff = got.max_abs_diff(&want).unwrap();
        assert!(diff < 1e-5, "case {case}: {c:?} differs by {diff}");
    }
}

/// `Σ a·b` in f64.
fn inner(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

#[test]
fn transposed_is_the_adjoint_of_the_convolution() {
    // For a convolution C (weight W [C_out, C_in/g, k...]) from u to v and
    // the transposed convolution T with the same W, read as [in, out/g, k...]
    // (in = C_out, out = C_in), same stride, padding and dilation, and the
    // output padding that gives back u's size: <T·v, u> = <v, C·u>.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for case in 0..60 {
        let rank = 1 + case % 3;
        let groups = pick(&mut rng, 1, 2);
        let (cu, cv) = (groups * pick(&mut rng, 1, 3), groups * pick(&mut rng, 1, 3));
        let (k, s, d) = (
            pick(&mut rng, 1, 3),
            pick(&mut rng, 1, 3),
            pick(&mut rng, 1, 2),
        );
        let p = pick(&mut rng, 0, (d * (k - 1)) / 2);
        let fwd = conv_of(rank, false, cu, cv, k, s, p, 0, d, groups);
        let mut shape_u = vec![1, cu];
        for _ in 0..rank {
            shape_u.push(pick(&mut rng, d * (k - 1) + 1, 7));
        }
        let u = t(&shape_u, &random_values(&mut rng, shape_u.iter().product()));
        let w = random_values(&mut rng, fwd.weight_shape().iter().product());
        let v_of_u = conv_nd(&u, &w, None, &fwd).unwrap();
        let v = t(v_of_u.shape(), &random_values(&mut rng, v_of_u.len()));
        let mut back = conv_of(rank, true, cv, cu, k, s, p, 0, d, groups);
        // Output padding: what the transposed size misses of u's.
        for a in 3 - rank..3 {
            let l = v.shape()[2 + a - (3 - rank)];
            let full = (l - 1) * s + d * (k - 1) + 1 - 2 * p;
            back.output_padding[a] = shape_u[2 + a - (3 - rank)] - full;
        }
        let tv = conv_transpose_nd(&v, &w, None, &back).unwrap();
        assert_eq!(tv.shape(), u.shape(), "case {case}: {back:?}");
        let (lhs, rhs) = (inner(tv.data(), u.data()), inner(v.data(), v_of_u.data()));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + rhs.abs()),
            "case {case}: <T v, u> = {lhs}, <v, C u> = {rhs}"
        );
    }
}

#[test]
fn errors_name_the_op_and_the_numbers() {
    let x = Tensor::zeros(&[1, 1, 3]).unwrap();
    // Output padding 2 with stride 2 and dilation 1.
    let c = conv_of(1, true, 1, 1, 3, 2, 0, 2, 1, 1);
    let e = conv_transpose_nd(&x, &[0.0; 3], None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ConvTranspose1d: output padding 2 along the length must be smaller than either stride 2 or dilation 1"
    );
    // Channels.
    let c = conv_of(1, true, 2, 1, 3, 1, 0, 0, 1, 1);
    let e = conv_transpose_nd(&x, &[0.0; 6], None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ConvTranspose1d: expects 2 input channels, found 1"
    );
    // Rank.
    let c = conv_of(3, false, 1, 1, 1, 1, 0, 0, 1, 1);
    let e = conv_nd(&x, &[0.0], None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conv3d: expects a [N, C, D, H, W] tensor, found [1, 1, 3]"
    );
    // Weight length.
    let x = Tensor::zeros(&[1, 2, 2, 2, 2]).unwrap();
    let c = conv_of(3, false, 2, 4, 2, 1, 0, 0, 1, 2);
    let e = conv_nd(&x, &[0.0; 5], None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conv3d: weight must have shape [4, 1, 2, 2, 2] (32 values), found 5 values"
    );
    // Kernel larger than the padded input.
    let c = conv_of(3, false, 2, 2, 3, 1, 0, 0, 1, 1);
    let e = conv_nd(&x, &[0.0; 108], None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conv3d: kernel extent 3 along the depth is larger than the padded input 2 + 0 + 0"
    );
    // Padding that crops everything: (1 − 1)·1 + 1 + 1 − 2·1 = 0.
    let x = Tensor::zeros(&[1, 1, 1, 1]).unwrap();
    let c = conv_of(2, true, 1, 1, 1, 1, 1, 0, 1, 1);
    let e = conv_transpose_nd(&x, &[0.0], None, &c).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("ConvTranspose2d: the output's height"),
        "{e}"
    );
}
