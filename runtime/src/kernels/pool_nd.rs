//! Max, average and adaptive average pooling over one to three spatial axes
//! (`MaxPool1d/3d`, `AvgPool1d/3d`, `AdaptiveAvgPool1d/3d`), with the 2-D
//! kernels' window rules ([`super::pool`]) applied per axis. Every rank runs
//! as 3-D on `[N, C, D, H, W]`, the missing leading axes of size 1 with
//! kernel and stride 1 and no padding (the op's arrays are right-aligned).

use super::pool::pool_out;
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::PoolNd;

/// The spatial size of `x` (`[N, C, *spatial]`, `rank` spatial axes) as
/// `(N·C, [D, H, W])`, or why it is not such a tensor.
fn planes(op: &'static str, x: &Tensor, rank: usize) -> Result<(usize, [usize; 3]), Error> {
    let s = x.shape();
    if !(1..=3).contains(&rank) || s.len() != rank + 2 {
        return kernel(
            op,
            format!(
                "expects a tensor of {} spatial axes after [N, C], found {}",
                rank,
                shape_str(s)
            ),
        );
    }
    let mut size = [1usize; 3];
    size[3 - rank..].copy_from_slice(&s[2..]);
    if size.contains(&0) {
        return kernel(
            op,
            format!(
                "the input's spatial size {} must be non-empty",
                shape_str(&s[2..])
            ),
        );
    }
    Ok((s[0] * s[1], size))
}

/// `[N, C, *out]` for the `rank` trailing entries of `out`.
fn out_shape(x: &Tensor, rank: usize, out: [usize; 3]) -> Vec<usize> {
    let mut s = x.shape()[..2].to_vec();
    s.extend_from_slice(&out[3 - rank..]);
    s
}

/// PyTorch's name of a max (`avg` false) or average pool of `rank` axes.
fn name(avg: bool, rank: usize) -> &'static str {
    match (avg, rank) {
        (false, 1) => "MaxPool1d",
        (false, 2) => "MaxPool2d",
        (false, _) => "MaxPool3d",
        (true, 1) => "AvgPool1d",
        (true, 2) => "AvgPool2d",
        (true, _) => "AvgPool3d",
    }
}

/// Output size of every axis (the unused ones 1, and their window trivial).
fn out_sizes(op: &'static str, p: &PoolNd, size: [usize; 3]) -> Result<[usize; 3], Error> {
    let mut out = [1usize; 3];
    for a in 0..3 {
        if a < 3 - p.rank {
            if p.kernel[a] != 1 || p.stride[a] != 1 || p.padding[a] != 0 || p.dilation[a] != 1 {
                return kernel(
                    op,
                    format!(
                        "a {}-D pool needs kernel 1, stride 1, dilation 1 and no padding on unused axis {a}, found {}, {}, {}, {}",
                        p.rank, p.kernel[a], p.stride[a], p.dilation[a], p.padding[a]
                    ),
                );
            }
            continue;
        }
        out[a] = pool_out(
            op,
            size[a],
            p.padding[a],
            p.kernel[a],
            p.stride[a],
            p.dilation[a],
            p.ceil_mode,
        )?;
    }
    Ok(out)
}

/// Max pooling of `x` (`[N, C, *spatial]`, `p.rank` spatial axes): per axis
/// the window of output `o` reads `o·s − pad + j·d` for `j < k`, positions
/// outside the input skipped (padding counts as `−∞`); a NaN in a window
/// propagates, as in PyTorch.
pub fn max_pool_nd(x: &Tensor, p: &PoolNd) -> Result<Tensor, Error> {
    let op = name(false, p.rank);
    let (planes_n, size) = planes(op, x, p.rank)?;
    let out = out_sizes(op, p, size)?;
    let [id, ih, iw] = size;
    let [od, oh, ow] = out;
    let (in_plane, out_plane) = (id * ih * iw, od * oh * ow);
    // Per axis, per output index: the input positions of its window.
    let taps = |a: usize| -> Vec<Vec<usize>> {
        (0..out[a])
            .map(|o| {
                (0..p.kernel[a])
                    .filter_map(|j| {
                        let i =
                            (o * p.stride[a] + j * p.dilation[a]) as isize - p.padding[a] as isize;
                        (i >= 0 && (i as usize) < size[a]).then_some(i as usize)
                    })
                    .collect()
            })
            .collect()
    };
    let (td, th, tw) = (taps(0), taps(1), taps(2));
    let mut y = vec![0.0f32; planes_n * out_plane];
    for (xp, yp) in x
        .data()
        .chunks_exact(in_plane.max(1))
        .zip(y.chunks_exact_mut(out_plane.max(1)))
    {
        for z in 0..od {
            for r in 0..oh {
                for c in 0..ow {
                    let mut m = f32::NEG_INFINITY;
                    for &zi in &td[z] {
                        for &ri in &th[r] {
                            for &ci in &tw[c] {
                                let v = xp[(zi * ih + ri) * iw + ci];
                                if v > m || v.is_nan() {
                                    m = v;
                                }
                            }
                        }
                    }
                    yp[(z * oh + r) * ow + c] = m;
                }
            }
        }
    }
    Ok(Tensor::from_parts(out_shape(x, p.rank, out), y))
}

/// Average pooling of `x` (`[N, C, *spatial]`, `p.rank` spatial axes), as
/// PyTorch: per axis a window spans `start = o·s − pad` to
/// `end = min(start + k, L + pad)`; the sum is over its part inside the
/// input, divided, with `count_include_pad`, by the product of the spans
/// `end − start` (padding counts, a ceil-mode overhang past it does not),
/// otherwise by the number of input elements summed.
pub fn avg_pool_nd(x: &Tensor, p: &PoolNd) -> Result<Tensor, Error> {
    let op = name(true, p.rank);
    if p.dilation != [1, 1, 1] {
        return kernel(op, format!("dilation must be 1, found {:?}", p.dilation));
    }
    let (planes_n, size) = planes(op, x, p.rank)?;
    let out = out_sizes(op, p, size)?;
    let [id, ih, iw] = size;
    let [od, oh, ow] = out;
    let (in_plane, out_plane) = (id * ih * iw, od * oh * ow);
    // Per axis, per output index: (first input, end, padded span).
    let spans = |a: usize| -> Vec<(usize, usize, usize)> {
        let (len, pad) = (size[a] as isize, p.padding[a] as isize);
        (0..out[a])
            .map(|o| {
                let start = (o * p.stride[a]) as isize - pad;
                let end = (start + p.kernel[a] as isize).min(len + pad);
                let (s, e) = (start.max(0), end.min(len).max(0));
                (s as usize, e.max(s) as usize, (end - start).max(0) as usize)
            })
            .collect()
    };
    let (sd, sh, sw) = (spans(0), spans(1), spans(2));
    let mut y = vec![0.0f32; planes_n * out_plane];
    for (xp, yp) in x
        .data()
        .chunks_exact(in_plane.max(1))
        .zip(y.chunks_exact_mut(out_plane.max(1)))
    {
        for (z, &(z0, z1, pz)) in sd.iter().enumerate() {
            for (r, &(r0, r1, pr)) in sh.iter().enumerate() {
                for (c, &(c0, c1, pc)) in sw.iter().enumerate() {
                    let mut sum = 0.0f32;
                    for zi in z0..z1 {
                        for ri in r0..r1 {
                            for &v in &xp[(zi * ih + ri) * iw + c0..(zi * ih + ri) * iw + c1] {
                                sum += v;
                            }
                        }
                    }
                    let count = if p.count_include_pad {
                        pz * pr * pc
                    } else {
                        (z1 - z0) * (r1 - r0) * (c1 - c0)
                    };
                    yp[(z * oh + r) * ow + c] = if count == 0 { 0.0 } else { sum / count as f32 };
                }
            }
        }
    }
    Ok(Tensor::from_parts(out_shape(x, p.rank, out), y))
}

/// Adaptive average pooling of `x` (`[N, C, *spatial]`, `rank` spatial
/// axes) to the `rank` trailing entries of `output`, with PyTorch's bins:
/// bin `i` of `out` over length `L` spans `floor(i·L / out) ..
/// ceil((i + 1)·L / out)` (neighbouring bins may overlap, uneven ones differ
/// in size).
pub fn adaptive_avg_pool_nd(x: &Tensor, rank: usize, output: [usize; 3]) -> Result<Tensor, Error> {
    let op = match rank {
        1 => "AdaptiveAvgPool1d",
        2 => "AdaptiveAvgPool2d",
        _ => "AdaptiveAvgPool3d",
    };
    let (planes_n, size) = planes(op, x, rank)?;
    let mut out = [1usize; 3];
    out[3 - rank..].copy_from_slice(&output[3 - rank..]);
    if out.contains(&0) || size.contains(&0) {
        return kernel(
            op,
            format!(
                "input {} and output {} must be non-empty",
                shape_str(&size[3 - rank..]),
                shape_str(&out[3 - rank..])
            ),
        );
    }
    let [id, ih, iw] = size;
    let [od, oh, ow] = out;
    let (in_plane, out_plane) = (id * ih * iw, od * oh * ow);
    let bins = |a: usize| -> Vec<(usize, usize)> {
        (0..out[a])
            .map(|i| (i * size[a] / out[a], ((i + 1) * size[a]).div_ceil(out[a])))
            .collect()
    };
    let (bd, bh, bw) = (bins(0), bins(1), bins(2));
    let mut y = vec![0.0f32; planes_n * out_plane];
    for (xp, yp) in x
        .data()
        .chunks_exact(in_plane)
        .zip(y.chunks_exact_mut(out_plane))
    {
        for (z, &(z0, z1)) in bd.iter().enumerate() {
            for (r, &(r0, r1)) in bh.iter().enumerate() {
                for (c, &(c0, c1)) in bw.iter().enumerate() {
                    let mut sum = 0.0f32;
                    for zi in z0..z1 {
                        for ri in r0..r1 {
                            for &v in &xp[(zi * ih + ri) * iw + c0..(zi * ih + ri) * iw + c1] {
                                sum += v;
                            }
                        }
                    }
                    yp[(z * oh + r) * ow + c] = sum / ((z1 - z0) * (r1 - r0) * (c1 - c0)) as f32;
                }
            }
        }
    }
    Ok(Tensor::from_parts(out_shape(x, rank, out), y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::pool;
    use netspec_model::Pool2d;

    /// A `rank`-D pool with the same numbers on every spatial axis.
    fn pool_of(rank: usize, k: usize, s: usize, pad: usize, ceil: bool, include: bool) -> PoolNd {
        let mut p = PoolNd::new(rank, [1; 3], [1; 3], [0; 3], [1; 3], ceil, include);
        for a in 3 - rank..3 {
            p.kernel[a] = k;
            p.stride[a] = s;
            p.padding[a] = pad;
        }
        p
    }

    fn arange(shape: &[usize], from: f32) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| from + i as f32).collect()).unwrap()
    }

    #[test]
    fn max_pool_1d_ceil_mode_padding_and_dilation() {
        // x = [3, 1, 4, 1, 5, 9, 2], k 2, s 2: floor windows {0,1} {2,3} {4,5}
        // -> [3, 4, 9]; ceil adds the window {6} -> [3, 4, 9, 2].
        let x = Tensor::new(&[1, 1, 7], vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]).unwrap();
        let y = max_pool_nd(&x, &pool_of(1, 2, 2, 0, false, true)).unwrap();
        assert_eq!(
            (y.shape(), y.data()),
            (&[1, 1, 3][..], &[3.0, 4.0, 9.0][..])
        );
        let y = max_pool_nd(&x, &pool_of(1, 2, 2, 0, true, true)).unwrap();
        assert_eq!(y.data(), &[3.0, 4.0, 9.0, 2.0]);
        // k 3, s 2, pad 1: (7 + 2 − 3) / 2 + 1 = 4 windows {−1,0,1} {1,2,3}
        // {3,4,5} {5,6,7}: [3, 4, 9, 9] (padding never wins).
        let y = max_pool_nd(&x, &pool_of(1, 3, 2, 1, false, true)).unwrap();
        assert_eq!(y.data(), &[3.0, 4.0, 9.0, 9.0]);
        // k 2, dilation 3, s 1: windows {i, i + 3} for i < 4:
        // max(3,1) max(1,5) max(4,9) max(1,2) = [3, 5, 9, 2].
        let mut p = pool_of(1, 2, 1, 0, false, true);
        p.dilation[2] = 3;
        let y = max_pool_nd(&x, &p).unwrap();
        assert_eq!(y.data(), &[3.0, 5.0, 9.0, 2.0]);
    }

    #[test]
    fn max_pool_3d() {
        // 0..27 as 3x3x3 (value 9z + 3r + c), k 2, s 1: each window's max is
        // its far corner (z+1, r+1, c+1): 13, 14, 16, 17, 22, 23, 25, 26.
        let x = arange(&[1, 1, 3, 3, 3], 0.0);
        let y = max_pool_nd(&x, &pool_of(3, 2, 1, 0, false, true)).unwrap();
        assert_eq!(y.shape(), &[1, 1, 2, 2, 2]);
        assert_eq!(y.data(), &[13.0, 14.0, 16.0, 17.0, 22.0, 23.0, 25.0, 26.0]);
        // k 2, s 2, ceil: 2 per axis, the last window the single far plane:
        // window (1, 1, 1) = {26}; (0, 0, 0) = 13; (0, 1, 1) = max over z 0..2,
        // r 2, c 2 = 9 + 6 + 2 = 17.
        let y = max_pool_nd(&x, &pool_of(3, 2, 2, 0, true, true)).unwrap();
        assert_eq!(y.data(), &[13.0, 14.0, 16.0, 17.0, 22.0, 23.0, 25.0, 26.0]);
    }

    #[test]
    fn avg_pool_1d_count_include_pad_and_ceil_mode() {
        // x = [1, 2, 3, 4, 5], k 2, s 2, pad 1: windows {−1,0} {1,2} {3,4}:
        // sums 1, 5, 9. Included: /2 each -> [0.5, 2.5, 4.5]; excluded: the
        // first window has one element -> [1, 2.5, 4.5].
        let x = arange(&[1, 1, 5], 1.0);
        let y = avg_pool_nd(&x, &pool_of(1, 2, 2, 1, false, true)).unwrap();
        assert_eq!(y.data(), &[0.5, 2.5, 4.5]);
        let y = avg_pool_nd(&x, &pool_of(1, 2, 2, 1, false, false)).unwrap();
        assert_eq!(y.data(), &[1.0, 2.5, 4.5]);
        // k 2, s 2, no padding, ceil: windows {0,1} {2,3} {4}: [1.5, 3.5, 5]
        // with or without count_include_pad (the overhang never counts).
        for include in [true, false] {
            let y = avg_pool_nd(&x, &pool_of(1, 2, 2, 0, true, include)).unwrap();
            assert_eq!(y.data(), &[1.5, 3.5, 5.0]);
        }
        // k 3, s 2, pad 1, ceil: (5 + 2 − 3) / 2 ceil + 1 = 3 windows
        // {−1,0,1} {1,2,3} {3,4,5}: the last one's end is min(3 + 3, 5 + 1) = 6,
        // its span 3 includes the pad position 5. Sums 3, 9, 9.
        // Included: [1, 3, 3]; excluded: [3/2, 3, 9/2].
        let y = avg_pool_nd(&x, &pool_of(1, 3, 2, 1, true, true)).unwrap();
        assert_eq!(y.data(), &[1.0, 3.0, 3.0]);
        let y = avg_pool_nd(&x, &pool_of(1, 3, 2, 1, true, false)).unwrap();
        assert_eq!(y.data(), &[1.5, 3.0, 4.5]);
    }

    #[test]
    fn avg_pool_3d() {
        // 1..=8 as 2x2x2, k 2: the mean 4.5. Pad 1, k 2, s 2: 2 windows per
        // axis, each holding one input corner and seven padding positions:
        // included v / 8, excluded v.
        let x = arange(&[1, 1, 2, 2, 2], 1.0);
        let y = avg_pool_nd(&x, &pool_of(3, 2, 2, 0, false, true)).unwrap();
        assert_eq!((y.shape(), y.data()), (&[1, 1, 1, 1, 1][..], &[4.5][..]));
        let y = avg_pool_nd(&x, &pool_of(3, 2, 2, 1, false, true)).unwrap();
        let v: Vec<f32> = (1..=8).map(|i| i as f32 / 8.0).collect();
        assert_eq!(y.data(), v.as_slice());
        let y = avg_pool_nd(&x, &pool_of(3, 2, 2, 1, false, false)).unwrap();
        let v: Vec<f32> = (1..=8).map(|i| i as f32).collect();
        assert_eq!(y.data(), v.as_slice());
    }

    #[test]
    fn rank_2_agrees_with_the_2d_kernels() {
        // 0..35 as 5x7, k 3, s 2, pad 1, ceil and floor, both divisors.
        let x = arange(&[2, 3, 5, 7], -10.0);
        for ceil in [false, true] {
            for include in [false, true] {
                let p = pool_of(2, 3, 2, 1, ceil, include);
                let p2 = Pool2d::new([3, 3], [2, 2], [1, 1], [1, 1], ceil, include);
                assert_eq!(
                    max_pool_nd(&x, &p).unwrap(),
                    pool::max_pool2d(&x, &p2).unwrap()
                );
                assert_eq!(
                    avg_pool_nd(&x, &p).unwrap(),
                    pool::avg_pool2d(&x, &p2).unwrap()
                );
            }
        }
        assert_eq!(
            adaptive_avg_pool_nd(&x, 2, [1, 2, 3]).unwrap(),
            pool::adaptive_avg_pool2d(&x, [2, 3]).unwrap()
        );
    }

    #[test]
    fn adaptive_pools_with_uneven_bins() {
        // Length 5 -> 3: bins [0, 2), [1, 4), [3, 5) (floor(5i/3), ceil(5(i+1)/3));
        // x = 0..5: means 0.5, 2, 3.5.
        let x = arange(&[1, 1, 5], 0.0);
        let y = adaptive_avg_pool_nd(&x, 1, [1, 1, 3]).unwrap();
        assert_eq!(
            (y.shape(), y.data()),
            (&[1, 1, 3][..], &[0.5, 2.0, 3.5][..])
        );
        // Length 3 -> 5 (more bins than inputs): [0,1) [0,2) [1,2) [1,3) [2,3):
        // 0, 0.5, 1, 1.5, 2.
        let x = arange(&[1, 1, 3], 0.0);
        let y = adaptive_avg_pool_nd(&x, 1, [1, 1, 5]).unwrap();
        assert_eq!(y.data(), &[0.0, 0.5, 1.0, 1.5, 2.0]);
        // 3-D: 0..27 as 3x3x3 (9z + 3r + c) to [1, 2, 1]: the rows split into
        // bins [0, 2) and [1, 3); means over z, c of 9z + c are 9 + 1 = 10,
        // plus 3·(mean row) = 1.5 and 4.5: [11.5, 14.5].
        let x = arange(&[1, 1, 3, 3, 3], 0.0);
        let y = adaptive_avg_pool_nd(&x, 3, [1, 2, 1]).unwrap();
        assert_eq!(
            (y.shape(), y.data()),
            (&[1, 1, 1, 2, 1][..], &[11.5, 14.5][..])
        );
    }

    #[test]
    fn errors_name_the_numbers() {
        let x = Tensor::zeros(&[1, 1, 4, 4]).unwrap();
        let e = max_pool_nd(&x, &pool_of(1, 2, 2, 0, false, true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MaxPool1d: expects a tensor of 1 spatial axes after [N, C], found [1, 1, 4, 4]"
        );
        let x = Tensor::zeros(&[1, 1, 3]).unwrap();
        let e = avg_pool_nd(&x, &pool_of(1, 4, 1, 0, false, true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "AvgPool1d: kernel extent 4 does not fit input 3 with padding 0"
        );
        let e = max_pool_nd(
            &Tensor::zeros(&[1, 1, 0]).unwrap(),
            &pool_of(1, 2, 2, 1, false, true),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "MaxPool1d: the input's spatial size [0] must be non-empty"
        );
        let e = adaptive_avg_pool_nd(&x, 1, [1, 1, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "AdaptiveAvgPool1d: input [3] and output [0] must be non-empty"
        );
    }
}
