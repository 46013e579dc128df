//! Shifted-window attention in ordinary `network!` code (compile-time
//! arrays for the relative-position index and the attention mask, a gather
//! from the learnable bias table): torchvision's Swin-T and a small Swin
//! against PyTorch. Counts equal the reference files
//! (`tests/data/reference/swin_t.json`, `small_swin.json`: PyTorch's
//! `FlopCounterMode` / 2, and fvcore's total) to the unit; the small Swin's
//! forward pass on its fixture's weights reproduces PyTorch's output
//! (`tests/data/fixtures/small_swin.safetensors`), on both backends; the
//! `relative_position_index` buffers the state dict carries are checked.

use netspec::zoo::{SmallSwin, SwinT};
use netspec::{Backend, Convention, Error, Model, Network, Tensor, WeightProblem};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

mod common;
use common::{assert_product_counts, data, reference, relative_error};

/// Params, MACs (and each product kind against `macs_by_op`) and fvcore's
/// count against the reference file.
fn assert_counts<N: Network>(name: &str) {
    assert_product_counts::<N>(name);
    let r = reference(name);
    // fvcore traces the products and counts layer norms (5 per element)
    // and the average pool: netspec's fvcore convention gives its number.
    assert_eq!(
        N::count_as(Convention::Fvcore),
        r["fvcore"].as_u64().unwrap(),
        "{name} fvcore"
    );
}

#[test]
fn swin_t_counts_equal_torchvision() {
    assert_counts::<SwinT>("swin_t");
    // 4.49 G, torchvision's documented 4.49 GFLOPS for swin_t.
    assert_eq!(SwinT::MACS, 4_490_566_656);
    assert_eq!(SwinT::PARAMS, 28_288_354);
}

#[test]
fn small_swin_counts_equal_torchvision() {
    assert_counts::<SmallSwin>("small_swin");
}

#[test]
fn the_graph_carries_the_index_and_the_masks() {
    let g = SwinT::GRAPH;
    // Buffers: one relative-position index per block (12), named as in
    // torchvision's state dict, all [2401] (window 7).
    let buffers: Vec<_> = g.constants.iter().filter(|c| !c.name.is_empty()).collect();
    assert_eq!(buffers.len(), 12);
    assert_eq!(buffers[0].name, "features.1.0.attn.relative_position_index");
    assert!(buffers.iter().all(|c| c.shape == [2401] && c.integer));
    // Masks, one per shifted resolution (56, 28 and 14: 64, 16 and 4
    // windows), shared by the blocks that use them; the 7x7 stage does not
    // shift.
    let masks: Vec<&[usize]> = g
        .constants
        .iter()
        .filter(|c| c.name.is_empty())
        .map(|c| c.shape)
        .collect();
    assert_eq!(
        masks,
        [&[64, 1, 49, 49][..], &[16, 1, 49, 49], &[4, 1, 49, 49]]
    );
    // torchvision's first index entries: (6, 6) offset for token 0 against 0
    let index = buffers[0].values().unwrap();
    assert_eq!(index[..3], [84.0, 83.0, 82.0]);
    assert_eq!(index[2400], 84.0);
    // Every shifted block adds its mask; the others do not.
    let masks_added = SwinT::LAYERS
        .iter()
        .filter(|l| l.kind == "Add" && l.name.ends_with("attn.add") && l.inputs[1][0] > 1)
        .count();
    assert_eq!(masks_added, 5);
}

/// The fixture's weights (with torchvision's int64
/// `relative_position_index` buffers) without `__input__` / `__output__`,
/// re-serialised after `edit`, plus the input and the output.
fn fixture(
    edit: impl Fn(&str, TensorView<'_>) -> Option<(Dtype, Vec<usize>, Vec<u8>)>,
) -> (Vec<u8>, Tensor, Tensor) {
    let bytes = data("fixtures/small_swin.safetensors");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let tensor = |n: &str| common::tensor(&st, n);
    let (x, y) = (tensor("__input__"), tensor("__output__"));
    let kept: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .iter()
        .filter(|(n, _)| !n.starts_with("__"))
        .filter_map(|(n, v)| edit(n, v).map(|(d, s, b)| (n.to_string(), d, s, b)))
        .collect();
    let views: Vec<(String, TensorView<'_>)> = kept
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    (safetensors::serialize(views, None).unwrap(), x, y)
}

fn unchanged(_: &str, v: TensorView<'_>) -> Option<(Dtype, Vec<usize>, Vec<u8>)> {
    Some((v.dtype(), v.shape().to_vec(), v.data().to_vec()))
}

#[test]
fn small_swin_matches_pytorch_on_both_backends() {
    let (weights, x, y) = fixture(unchanged);
    let net = Model::from_safetensors(SmallSwin::GRAPH, &weights).unwrap();
    for backend in [Backend::Reference, Backend::Fast] {
        let ours = net.clone().with_backend(backend).forward(&x).unwrap();
        let err = relative_error(&ours, &y);
        eprintln!("small_swin ({backend:?}): max |ours - PyTorch| / max |PyTorch| = {err:e}");
        assert!(
            err <= 1e-4,
            "small_swin ({backend:?}): relative error {err}"
        );
    }
    // A batch of two equal samples gives the same output twice (the masks
    // and the bias broadcast over the batch).
    let mut two = x.data().to_vec();
    two.extend_from_slice(x.data());
    let x2 = Tensor::new(&[2, 3, 32, 32], two).unwrap();
    let y2 = net.forward(&x2).unwrap();
    assert_eq!(y2.data()[..10], y2.data()[10..]);
    assert!(
        relative_error(
            &Tensor::new(&[1, 10], y2.data()[10..].to_vec()).unwrap(),
            &y
        ) <= 1e-4
    );
}

#[test]
fn relative_position_index_buffers_are_checked_or_ignored() {
    // Without the buffers: loads, and computes the same output.
    let (weights, x, y) = fixture(|n, v| {
        (!n.ends_with("relative_position_index"))
            .then(|| unchanged(n, v))
            .flatten()
    });
    let net = Model::from_safetensors(SmallSwin::GRAPH, &weights).unwrap();
    assert!(relative_error(&net.forward(&x).unwrap(), &y) <= 1e-4);
    // A wrong index is an error that names it.
    let (weights, _, _) = fixture(|n, v| {
        let (d, s, mut b) = unchanged(n, v)?;
        if n == "features.1.1.attn.relative_position_index" {
            b[8] ^= 1; // entry 1, int64 little-endian
        }
        Some((d, s, b))
    });
    match Model::from_safetensors(SmallSwin::GRAPH, &weights) {
        Err(Error::Weights { problems, .. }) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            let WeightProblem::Buffer { name, message } = &problems[0] else {
                panic!("{problems:?}")
            };
            assert_eq!(name, "features.1.1.attn.relative_position_index");
            assert!(message.contains("value 1"), "{message}");
        }
        other => panic!("expected a weights error, got {other:?}"),
    }
    // As f32 it is accepted too; saved, it is written back as int64.
    let (weights, _, _) = fixture(|n, v| {
        let (d, s, b) = unchanged(n, v)?;
        if d == Dtype::I64 {
            let f: Vec<u8> = b
                .chunks_exact(8)
                .flat_map(|c| (i64::from_le_bytes(c.try_into().unwrap()) as f32).to_le_bytes())
                .collect();
            return Some((Dtype::F32, s, f));
        }
        Some((d, s, b))
    });
    let net = Model::from_safetensors(SmallSwin::GRAPH, &weights).unwrap();
    let saved = net.to_safetensors().unwrap();
    let st = SafeTensors::deserialize(&saved).unwrap();
    let index = st
        .tensor("features.1.0.attn.relative_position_index")
        .unwrap();
    assert_eq!((index.dtype(), index.shape()), (Dtype::I64, &[256][..]));
    Model::from_safetensors(SmallSwin::GRAPH, &saved).unwrap();
}

/// Swin-T against torchvision on `make_transformer_reference.py --fixtures
/// swin_t` weights (113 MB, not in the repository): set
/// `NETSPEC_SWIN_T_FIXTURE` to the file and run with `--ignored`.
#[test]
#[ignore]
fn swin_t_matches_pytorch() {
    let Ok(path) = std::env::var("NETSPEC_SWIN_T_FIXTURE") else {
        eprintln!("NETSPEC_SWIN_T_FIXTURE is not set");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let tensor = |n: &str| common::tensor(&st, n);
    let (x, y) = (tensor("__input__"), tensor("__output__"));
    // The script runs thop on the model before saving it: its counters
    // (`total_ops`, `total_params`) are not weights.
    let kept: Vec<(String, TensorView<'_>)> = st
        .iter()
        .filter(|(n, _)| {
            !n.starts_with("__") && !n.ends_with("total_ops") && !n.ends_with("total_params")
        })
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    let weights = safetensors::serialize(kept, None).unwrap();
    let net = Model::from_safetensors(SwinT::GRAPH, &weights).unwrap();
    let err = relative_error(&net.forward(&x).unwrap(), &y);
    eprintln!("swin_t: max |ours - PyTorch| / max |PyTorch| = {err:e}");
    assert!(err <= 1e-4, "swin_t: relative error {err}");
}
