//! Tensor plumbing: add, broadcasting mul, concat, channel slice, channel shuffle, flatten.

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;

/// Adds `x` into `acc` elementwise; both must have the same shape.
pub fn add_assign(acc: &mut Tensor, x: &Tensor) -> Result<(), Error> {
    if acc.shape() != x.shape() {
        return kernel(
            "Add",
            format!(
                "cannot add {} and {}: shapes differ",
                shape_str(acc.shape()),
                shape_str(x.shape())
            ),
        );
    }
    for (a, &b) in acc.data_mut().iter_mut().zip(x.data()) {
        *a += b;
    }
    Ok(())
}

/// Elementwise sum of one or more tensors of the same shape, summed left to right.
pub fn add(inputs: &[&Tensor]) -> Result<Tensor, Error> {
    let Some((first, rest)) = inputs.split_first() else {
        return kernel("Add", "needs at least one input".to_string());
    };
    let mut acc = (*first).clone();
    for x in rest {
        add_assign(&mut acc, x)?;
    }
    Ok(acc)
}

/// Elementwise product of `a` and `b` of the same rank, broadcasting size-1
/// dimensions of either (`[N, C, H, W] · [N, C, 1, 1]` scales each channel).
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    let (sa, sb) = (a.shape(), b.shape());
    let bad = || {
        kernel(
            "Mul",
            format!(
                "cannot multiply {} by {}: shapes do not broadcast",
                shape_str(sa),
                shape_str(sb)
            ),
        )
    };
    if sa.len() != sb.len() {
        return bad();
    }
    if sa == sb {
        let data = a.data().iter().zip(b.data()).map(|(x, y)| x * y).collect();
        return Ok(Tensor::from_parts(sa.to_vec(), data));
    }
    let mut out_shape = Vec::with_capacity(sa.len());
    for (&x, &y) in sa.iter().zip(sb) {
        if x == y || y == 1 || x == 1 {
            out_shape.push(if x == 1 { y } else { x });
        } else {
            return bad();
        }
    }
    // Row-major strides, 0 along broadcast dimensions.
    let strides = |s: &[usize]| -> Vec<usize> {
        let mut st = vec![0; s.len()];
        let mut acc = 1;
        for i in (0..s.len()).rev() {
            st[i] = if s[i] == 1 { 0 } else { acc };
            acc *= s[i];
        }
        st
    };
    let (ta, tb) = (strides(sa), strides(sb));
    let total: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return Ok(Tensor::from_parts(out_shape, out));
    }
    let rank = out_shape.len();
    let inner = out_shape[rank - 1];
    let (ia, ib) = (ta[rank - 1], tb[rank - 1]);
    let mut idx = vec![0usize; rank - 1];
    let (ad, bd) = (a.data(), b.data());
    loop {
        let oa: usize = idx.iter().zip(&ta).map(|(i, s)| i * s).sum();
        let ob: usize = idx.iter().zip(&tb).map(|(i, s)| i * s).sum();
        match (ia, ib) {
            (1, 0) => {
                let bv = bd[ob];
                out.extend(ad[oa..oa + inner].iter().map(|x| x * bv));
            }
            (0, 1) => {
                let av = ad[oa];
                out.extend(bd[ob..ob + inner].iter().map(|y| av * y));
            }
            _ => out.extend((0..inner).map(|j| ad[oa + j * ia] * bd[ob + j * ib])),
        }
        // Advance the outer index, last dimension fastest.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return Ok(Tensor::from_parts(out_shape, out));
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Splits a shape of rank >= 2 into `(N, C, inner)` with `inner` the product of the rest.
fn split(op: &'static str, x: &Tensor) -> Result<(usize, usize, usize), Error> {
    match x.shape() {
        [n, c, rest @ ..] => Ok((*n, *c, rest.iter().product())),
        s => kernel(
            op,
            format!("expects a [N, C, ...] tensor, found {}", shape_str(s)),
        ),
    }
}

/// Concatenation along dimension 1 (channels): inputs `[N, C_i, ...]` that agree
/// on every other dimension give `[N, Σ C_i, ...]`.
pub fn concat(inputs: &[&Tensor]) -> Result<Tensor, Error> {
    let Some(first) = inputs.first() else {
        return kernel("Concat", "needs at least one input".to_string());
    };
    let (n, _, inner) = split("Concat", first)?;
    let mut channels = 0;
    for x in inputs {
        let (_, c, _) = split("Concat", x)?;
        if x.shape()[0] != n || x.shape()[2..] != first.shape()[2..] {
            return kernel(
                "Concat",
                format!(
                    "cannot concatenate {} and {} along channels: the other dimensions differ",
                    shape_str(first.shape()),
                    shape_str(x.shape())
                ),
            );
        }
        channels += c;
    }
    let mut out = Vec::with_capacity(n * channels * inner);
    for s in 0..n {
        for x in inputs {
            let block = x.shape()[1] * inner;
            out.extend_from_slice(&x.data()[s * block..(s + 1) * block]);
        }
    }
    let mut shape = first.shape().to_vec();
    shape[1] = channels;
    Ok(Tensor::from_parts(shape, out))
}

/// Channels `start .. start + len` of `x` (`[N, C, ...]`), giving `[N, len, ...]`.
pub fn slice_channels(x: &Tensor, start: usize, len: usize) -> Result<Tensor, Error> {
    let (n, c, inner) = split("Chunk", x)?;
    if start.checked_add(len).is_none_or(|end| end > c) {
        return kernel(
            "Chunk",
            format!(
                "channels {start}..{} are outside the {c} channels",
                start.saturating_add(len)
            ),
        );
    }
    let mut out = Vec::with_capacity(n * len * inner);
    for sample in x.data().chunks_exact((c * inner).max(1)).take(n) {
        out.extend_from_slice(&sample[start * inner..(start + len) * inner]);
    }
    let mut shape = x.shape().to_vec();
    shape[1] = len;
    Ok(Tensor::from_parts(shape, out))
}

/// ShuffleNet's channel shuffle on `[N, C, ...]`:
/// `view(N, g, C/g, ...).transpose(1, 2)`, i.e. output channel `j·g + i` is
/// input channel `i·(C/g) + j`.
pub fn channel_shuffle(x: &Tensor, groups: usize) -> Result<Tensor, Error> {
    let (n, c, inner) = split("ChannelShuffle", x)?;
    if groups == 0 || c % groups != 0 {
        return kernel(
            "ChannelShuffle",
            format!("groups = {groups} does not divide the {c} channels"),
        );
    }
    let per = c / groups;
    let mut out = Vec::with_capacity(x.len());
    for sample in x.data().chunks_exact((c * inner).max(1)).take(n) {
        for j in 0..per {
            for i in 0..groups {
                let src = (i * per + j) * inner;
                out.extend_from_slice(&sample[src..src + inner]);
            }
        }
    }
    Ok(Tensor::from_parts(x.shape().to_vec(), out))
}

/// `[N, ...]` to `[N, product of the rest]` (no copy).
pub fn flatten(x: Tensor) -> Result<Tensor, Error> {
    let Some((&n, rest)) = x.shape().split_first() else {
        return kernel(
            "Flatten",
            "expects a batch dimension, found a scalar".to_string(),
        );
    };
    let features: usize = rest.iter().product();
    x.reshape(&[n, features])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn add_three() {
        let a = t(&[1, 2], &[1.0, 2.0]);
        let b = t(&[1, 2], &[10.0, 20.0]);
        let c = t(&[1, 2], &[100.0, 200.0]);
        assert_eq!(add(&[&a, &b, &c]).unwrap().data(), &[111.0, 222.0]);
        let d = t(&[2, 1], &[0.0, 0.0]);
        assert_eq!(
            add(&[&a, &d]).unwrap_err().to_string(),
            "Add: cannot add [1, 2] and [2, 1]: shapes differ"
        );
    }

    #[test]
    fn mul_broadcasts() {
        // [1, 2, 2, 2] · [1, 2, 1, 1] with scales (10, -1): channel 0 times 10,
        // channel 1 negated.
        let x = t(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let s = t(&[1, 2, 1, 1], &[10.0, -1.0]);
        let expect = [10.0, 20.0, 30.0, 40.0, -5.0, -6.0, -7.0, -8.0];
        assert_eq!(mul(&x, &s).unwrap().data(), &expect);
        assert_eq!(mul(&s, &x).unwrap().data(), &expect);
        // Both sides broadcast: [1, 2, 1] · [1, 1, 3] = outer product [[1,2,3],[2,4,6]].
        let a = t(&[1, 2, 1], &[1.0, 2.0]);
        let b = t(&[1, 1, 3], &[1.0, 2.0, 3.0]);
        let y = mul(&a, &b).unwrap();
        assert_eq!(y.shape(), &[1, 2, 3]);
        assert_eq!(y.data(), &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0]);
        let c = t(&[1, 3, 1, 1], &[0.0; 3]);
        assert_eq!(
            mul(&x, &c).unwrap_err().to_string(),
            "Mul: cannot multiply [1, 2, 2, 2] by [1, 3, 1, 1]: shapes do not broadcast"
        );
    }

    #[test]
    fn concat_per_sample() {
        // Batch of 2: a has 1 channel, b has 2, each 1x1.
        // Sample 0: [a0, b0, b1]; sample 1: [a1, b2, b3].
        let a = t(&[2, 1, 1, 1], &[1.0, 2.0]);
        let b = t(&[2, 2, 1, 1], &[10.0, 11.0, 20.0, 21.0]);
        let y = concat(&[&a, &b]).unwrap();
        assert_eq!(y.shape(), &[2, 3, 1, 1]);
        assert_eq!(y.data(), &[1.0, 10.0, 11.0, 2.0, 20.0, 21.0]);
    }

    #[test]
    fn slice_is_one_chunk() {
        // 4 channels of 1 element, batch 2; chunk 2 of 2 = channels 2..4.
        let x = t(&[2, 4, 1], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let y = slice_channels(&x, 2, 2).unwrap();
        assert_eq!(y.shape(), &[2, 2, 1]);
        assert_eq!(y.data(), &[2.0, 3.0, 6.0, 7.0]);
        assert!(slice_channels(&x, 3, 2).is_err());
    }

    #[test]
    fn channel_shuffle_transposes_groups() {
        // 6 channels, 2 groups: [g0: 0 1 2 | g1: 3 4 5] -> [0 3 1 4 2 5].
        let x = t(&[1, 6, 1, 1], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let y = channel_shuffle(&x, 2).unwrap();
        assert_eq!(y.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        // 3 groups of 2: [0 1 | 2 3 | 4 5] -> [0 2 4 1 3 5].
        let y = channel_shuffle(&x, 3).unwrap();
        assert_eq!(y.data(), &[0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
    }

    #[test]
    fn flatten_keeps_the_batch() {
        let x = Tensor::zeros(&[2, 3, 2, 2]).unwrap();
        assert_eq!(flatten(x).unwrap().shape(), &[2, 12]);
    }
}
