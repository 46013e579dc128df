//! The model's unit tests, on two small graphs whose outputs are worked out
//! by hand; the graphs also serve the plan's tests.

use super::*;
use crate::error::Error;
use netspec_model::{Activation, BatchNorm2d, Conv2d, Linear, Totals};
use netspec_model::{Graph, LayerInfo, Node, Op};
use safetensors::Dtype;

const NO_TOTALS: Totals = Totals::ZERO;

const fn info(name: &'static str, kind: &'static str) -> LayerInfo<'static> {
    LayerInfo::from_parts(name, kind, true, &[], &[], [0; 6], [0; 5])
}

const fn conv(cin: usize, cout: usize, k: usize, pad: usize, bias: bool) -> Op {
    Op::Conv2d(Conv2d {
        in_channels: cin,
        out_channels: cout,
        kernel: [k, k],
        stride: [1, 1],
        padding: [[pad, pad], [pad, pad]],
        dilation: [1, 1],
        groups: 1,
        bias,
    })
}

/// x -> conv1x1(2 -> 2) -> bn -> relu -> (+ x) -> relu
pub(crate) static RESIDUAL: Graph<'static> = Graph {
    name: "Residual",
    input: &[2, 2, 2],
    nodes: &[
        Node {
            op: conv(2, 2, 1, 0, true),
            inputs: &[0],
            shares: None,
        },
        Node {
            op: Op::BatchNorm2d(BatchNorm2d {
                channels: 2,
                eps: 0.0,
            }),
            inputs: &[1],
            shares: None,
        },
        Node {
            op: Op::Activation(Activation::ReLU),
            inputs: &[2],
            shares: None,
        },
        Node {
            op: Op::Add,
            inputs: &[3, 0],
            shares: None,
        },
        Node {
            op: Op::Activation(Activation::ReLU),
            inputs: &[4],
            shares: None,
        },
    ],
    layers: &[
        info("block.conv", "Conv2d"),
        info("block.bn", "BatchNorm2d"),
        info("block.relu", "ReLU"),
        info("block.add", "Add"),
        info("relu", "ReLU"),
    ],
    output: 5,
    outputs: &[5],
    scopes: &[],
    constants: &[],
    totals: NO_TOTALS,
};

/// Fire-like: x -> (conv1x1 1 -> 2, conv3x3 1 -> 1) -> cat -> avgpool(1) -> flatten -> linear(3 -> 1)
pub(crate) static CONCAT: Graph<'static> = Graph {
    name: "Concat",
    input: &[1, 2, 2],
    nodes: &[
        Node {
            op: conv(1, 2, 1, 0, false),
            inputs: &[0],
            shares: None,
        },
        Node {
            op: conv(1, 1, 3, 1, false),
            inputs: &[0],
            shares: None,
        },
        Node {
            op: Op::Concat { dim: 0 },
            inputs: &[1, 2],
            shares: None,
        },
        Node {
            op: Op::AdaptiveAvgPool2d { output: [1, 1] },
            inputs: &[3],
            shares: None,
        },
        Node {
            op: Op::Flatten,
            inputs: &[4],
            shares: None,
        },
        Node {
            op: Op::Linear(Linear {
                in_features: 3,
                out_features: 1,
                bias: true,
            }),
            inputs: &[5],
            shares: None,
        },
    ],
    layers: &[
        info("expand1x1", "Conv2d"),
        info("expand3x3", "Conv2d"),
        info("cat", "Concat"),
        info("pool", "AdaptiveAvgPool2d"),
        info("flatten", "Flatten"),
        info("fc", "Linear"),
    ],
    output: 6,
    outputs: &[6],
    scopes: &[],
    constants: &[],
    totals: NO_TOTALS,
};

/// x -> conv1x1(1 -> 1) -> relu -> the same conv again -> (+ the first
/// conv's output); returns (the sum, the relu's output).
pub(crate) static SHARED: Graph<'static> = Graph {
    name: "Shared",
    input: &[1, 2, 2],
    nodes: &[
        Node::new(conv(1, 1, 1, 0, true), &[0]),
        Node::new(Op::Activation(Activation::ReLU), &[1]),
        Node::shared(conv(1, 1, 1, 0, true), &[2], 0),
        Node::new(Op::Add, &[3, 1]),
    ],
    layers: &[
        info("conv", "Conv2d"),
        info("relu", "ReLU"),
        info("conv", "Conv2d"),
        info("add", "Add"),
    ],
    output: 4,
    outputs: &[4, 2],
    scopes: &[],
    constants: &[],
    totals: NO_TOTALS,
};

fn t(shape: &[usize], data: &[f32]) -> Tensor {
    Tensor::new(shape, data.to_vec()).unwrap()
}

#[test]
fn residual_block() {
    let mut m = Model::random(&RESIDUAL, 0);
    // conv: y0 = 2·x0 + 1, y1 = 2·x1 - 1; batch norm with eps 0 is the identity.
    m.set_tensor("block.conv.weight", t(&[2, 2, 1, 1], &[2.0, 0.0, 0.0, 2.0]))
        .unwrap();
    m.set_tensor("block.conv.bias", t(&[2], &[1.0, -1.0]))
        .unwrap();
    // x: channel 0 [1, -2, 3, -4], channel 1 [0.5, 0.5, -3, 1].
    // conv: [3, -3, 7, -7], [0, 0, -7, 1]; relu: [3, 0, 7, 0], [0, 0, 0, 1];
    // + x: [4, -2, 10, -4], [0.5, 0.5, -3, 2]; relu: [4, 0, 10, 0], [0.5, 0.5, 0, 2].
    let sample = [1.0, -2.0, 3.0, -4.0, 0.5, 0.5, -3.0, 1.0];
    let expect = [4.0, 0.0, 10.0, 0.0, 0.5, 0.5, 0.0, 2.0];
    let x = t(&[2, 2, 2, 2], &[sample, sample].concat());
    let mut seen = Vec::new();
    let y = m
        .forward_observed(&x, &mut |e| {
            seen.push((e.index, e.info.name, e.output.shape().to_vec()))
        })
        .unwrap();
    assert_eq!(y.shape(), &[2, 2, 2, 2]);
    assert_eq!(y.data(), &[expect, expect].concat()[..]);
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[3], (3, "block.add", vec![2, 2, 2, 2]));
    // The input is not consumed by the in-place layers.
    assert_eq!(x.data()[..8], sample);
}

#[test]
fn concat_branches() {
    let mut m = Model::random(&CONCAT, 0);
    m.set_tensor("expand1x1.weight", t(&[2, 1, 1, 1], &[1.0, -1.0]))
        .unwrap();
    m.set_tensor("expand3x3.weight", t(&[1, 1, 3, 3], &[1.0; 9]))
        .unwrap();
    m.set_tensor("fc.weight", t(&[1, 3], &[1.0, 1.0, 1.0]))
        .unwrap();
    m.set_tensor("fc.bias", t(&[1], &[0.5])).unwrap();
    // x = [1, 2, 3, 4]: 1x1 branch [1, 2, 3, 4] and [-1, -2, -3, -4]; the 3x3
    // window with padding 1 covers the whole 2x2 input: [10, 10, 10, 10].
    // Means [2.5, -2.5, 10]; fc: 2.5 - 2.5 + 10 + 0.5 = 10.5.
    let y = m.forward(&t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0])).unwrap();
    assert_eq!((y.shape(), y.data()), (&[1, 1][..], &[10.5][..]));
}

#[test]
fn bad_input_shape_names_expected_and_found() {
    let m = Model::random(&RESIDUAL, 0);
    let e = m.forward(&Tensor::zeros(&[2, 2, 2]).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`Residual` expects input [N, 2, 2, 2] with N >= 1, found [2, 2, 2]"
    );
    let e = m
        .forward(&Tensor::zeros(&[0, 2, 2, 2]).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "`Residual` expects input [N, 2, 2, 2] with N >= 1, found [0, 2, 2, 2]"
    );
}

fn file(entries: &[(&str, Dtype, &[usize])]) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = entries
        .iter()
        .map(|(_, d, s)| vec![0u8; s.iter().product::<usize>() * d.bitsize() / 8])
        .collect();
    let views: Vec<_> = entries
        .iter()
        .zip(&bytes)
        .map(|((n, d, s), b)| {
            (
                n.to_string(),
                safetensors::tensor::TensorView::new(*d, s.to_vec(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn bad_weights_list_every_offender() {
    let bytes = file(&[
        ("block.conv.weight", Dtype::F32, &[2, 2, 3, 3]),
        ("block.bn.weight", Dtype::F16, &[2]),
        ("block.bn.bias", Dtype::F32, &[2]),
        ("block.bn.running_mean", Dtype::F32, &[2]),
        ("block.bn.running_var", Dtype::F32, &[2]),
        ("block.bn.num_batches_tracked", Dtype::I64, &[]),
        ("__input__", Dtype::F32, &[1, 2, 2, 2]),
        ("head.weight", Dtype::F32, &[10, 2]),
        ("block.conv.bais", Dtype::F32, &[2]),
    ]);
    let e = Model::from_safetensors(&RESIDUAL, &bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        "weights do not match `Residual` (5 problems):
  `block.conv.weight`: expected shape [2, 2, 1, 1], found [2, 2, 3, 3]
  `block.conv.bias`: missing (expected shape [2])
  `block.bn.weight`: expected dtype F32, found F16
  `block.conv.bais`: unexpected tensor (shape [2]), did you mean `block.conv.bias`?
  `head.weight`: unexpected tensor (shape [10, 2])"
    );
    let Error::Weights { problems, .. } = e else {
        panic!("not a weights error")
    };
    assert_eq!(problems.len(), 5);
    let e = Model::from_safetensors(&RESIDUAL, b"not a file").unwrap_err();
    assert!(
        e.to_string().starts_with("invalid safetensors data: "),
        "{e}"
    );
    let e = Model::load_safetensors(&RESIDUAL, "/nonexistent/w.safetensors").unwrap_err();
    assert!(
        e.to_string().starts_with("/nonexistent/w.safetensors: "),
        "{e}"
    );
}

#[test]
fn many_bad_weights_show_ten_then_a_count() {
    // None of the 6 tensors, and 6 strangers: 12 problems, 10 shown.
    let strangers: Vec<(String, Dtype, &[usize])> = (0..6)
        .map(|i| (format!("other.{i}"), Dtype::F32, &[1usize][..]))
        .collect();
    let entries: Vec<(&str, Dtype, &[usize])> = strangers
        .iter()
        .map(|(n, d, s)| (n.as_str(), *d, *s))
        .collect();
    let e = Model::from_safetensors(&RESIDUAL, &file(&entries)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "weights do not match `Residual` (12 problems):
  `block.conv.weight`: missing (expected shape [2, 2, 1, 1])
  `block.conv.bias`: missing (expected shape [2])
  `block.bn.weight`: missing (expected shape [2])
  `block.bn.bias`: missing (expected shape [2])
  `block.bn.running_mean`: missing (expected shape [2])
  `block.bn.running_var`: missing (expected shape [2])
  `other.0`: unexpected tensor (shape [1])
  `other.1`: unexpected tensor (shape [1])
  `other.2`: unexpected tensor (shape [1])
  `other.3`: unexpected tensor (shape [1])
  and 2 more"
    );
}

#[test]
fn layers_are_typed_and_the_plan_is_shared() {
    let a = Model::random(&RESIDUAL, 1);
    let b = Model::random(&RESIDUAL, 2);
    assert!(Arc::ptr_eq(&a.plan, &b.plan));
    match &a.layers()[0] {
        Layer::Conv2d(c) => {
            assert_eq!(c.weight.shape(), &[2, 2, 1, 1]);
            assert_eq!(c.bias.as_ref().map(Tensor::shape), Some(&[2][..]));
        }
        other => panic!("expected a conv, found {other:?}"),
    }
    match &a.layers()[1] {
        Layer::BatchNorm2d(bn) => assert_eq!(bn.eps, 0.0),
        other => panic!("expected a batch norm, found {other:?}"),
    }
    assert_eq!(a.layers()[2], Layer::Stateless);
    assert_eq!(a.backend(), Backend::Fast);
}

#[test]
fn safetensors_round_trip() {
    let m = Model::random(&CONCAT, 3);
    let bytes = m.to_safetensors().unwrap();
    let back = Model::from_safetensors(&CONCAT, &bytes).unwrap();
    assert_eq!(m.tensors(), back.tensors());
    let x = t(
        &[3, 1, 2, 2],
        &(0..12).map(|i| i as f32).collect::<Vec<_>>(),
    );
    assert_eq!(m.forward(&x).unwrap(), back.forward(&x).unwrap());
    let path = std::env::temp_dir().join(format!("netspec-rt-{}.safetensors", std::process::id()));
    m.save_safetensors(&path).unwrap();
    let loaded = Model::load_safetensors(&CONCAT, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(m.tensors(), loaded.tensors());
}

#[test]
fn random_init_is_deterministic_and_pytorch_like() {
    let a = Model::random(&RESIDUAL, 42);
    assert_eq!(a.tensors(), Model::random(&RESIDUAL, 42).tensors());
    assert_ne!(a.tensors(), Model::random(&RESIDUAL, 43).tensors());
    // fan_in of a 1x1 conv over 2 channels is 2: bound 1/sqrt(2).
    let w = a.tensor("block.conv.weight").unwrap();
    assert!(w
        .data()
        .iter()
        .all(|v| v.abs() <= std::f32::consts::FRAC_1_SQRT_2));
    assert_eq!(a.tensor("block.bn.weight").unwrap().data(), &[1.0, 1.0]);
    assert_eq!(a.tensor("block.bn.bias").unwrap().data(), &[0.0, 0.0]);
    assert_eq!(
        a.tensor("block.bn.running_mean").unwrap().data(),
        &[0.0, 0.0]
    );
    assert_eq!(
        a.tensor("block.bn.running_var").unwrap().data(),
        &[1.0, 1.0]
    );
    // Pinned values: the same seed must give the same weights on every
    // platform and after dependency upgrades.
    let first: Vec<f32> = w.data().to_vec();
    assert_eq!(first, PINNED_SEED_42);
    assert!(a.tensor("nope.weight").is_none());
    let mut b = a.clone();
    let e = b
        .set_tensor("block.conv.bias", Tensor::zeros(&[3]).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "weights do not match `Residual` (1 problem):\n  `block.conv.bias`: expected shape [2], found [3]"
    );
}

const PINNED_SEED_42: [f32; 4] = [-0.390_208_75, 0.257_24, -0.500_085_4, 0.636_785_5];

#[test]
fn a_shared_layer_runs_on_its_owners_tensors_and_every_output_is_returned() {
    let mut m = Model::random(&SHARED, 5);
    // One conv's tensors, held by the first application only.
    assert_eq!(m.layers()[2], Layer::Stateless);
    let names: Vec<String> = m.tensors().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["conv.weight", "conv.bias"]);
    m.set_tensor("conv.weight", t(&[1, 1, 1, 1], &[2.0]))
        .unwrap();
    m.set_tensor("conv.bias", t(&[1], &[1.0])).unwrap();
    // x = [1, -2, 3, -4]: conv 2x + 1 = [3, -3, 7, -7], relu [3, 0, 7, 0],
    // conv again [7, 1, 15, 1], + the first conv [10, -2, 22, -6].
    let x = t(&[1, 1, 2, 2], &[1.0, -2.0, 3.0, -4.0]);
    for backend in [Backend::Fast, Backend::Reference] {
        let m = m.clone().with_backend(backend);
        let all = m.forward_outputs(&x).unwrap();
        let data: Vec<&[f32]> = all.iter().map(Tensor::data).collect();
        assert_eq!(
            data,
            [&[10.0, -2.0, 22.0, -6.0][..], &[3.0, 0.0, 7.0, 0.0][..]]
        );
        assert_eq!(m.forward(&x).unwrap().data(), &[10.0, -2.0, 22.0, -6.0]);
    }
    // The state dict holds the conv once, and loads back.
    let bytes = m.to_safetensors().unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut keys: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    keys.sort();
    assert_eq!(keys, ["conv.bias", "conv.weight"]);
    let back = Model::from_safetensors(&SHARED, &bytes).unwrap();
    assert_eq!(
        back.forward_outputs(&x).unwrap()[1].data(),
        &[3.0, 0.0, 7.0, 0.0]
    );
}
