//! torchvision's segmentation models in the zoo: LR-ASPP and DeepLabV3 on a
//! dilated MobileNetV3-Large, FCN on a dilated ResNet-50, at 3x520x520 with
//! 21 classes and no auxiliary head. Params and MACs equal the reference
//! files (`tests/data/reference/segmentation_*.json`, PyTorch's
//! `FlopCounterMode` / 2 on the model's `out`) to the unit, their tensors are
//! torchvision's state dicts name by name and shape by shape, and a small
//! LR-ASPP on PyTorch's weights reproduces PyTorch's output on both backends.

use netspec::zoo::{DeepLabV3MobileNetV3Large, FcnResNet50, LrasppMobileNetV3Large, SmallLraspp};
use netspec::{Backend, Model, Network, Tensor};
use safetensors::SafeTensors;

mod common;
use common::{
    assert_product_counts, assert_reproduces, assert_sums, data, reference, relative_error, shape,
};

/// `N`'s params and MACs equal the reference file `name` (each kind of
/// product too), are `params` and `macs`, and are the sums over `LAYERS`.
fn assert_counts<N: Network>(name: &str, params: u64, macs: u64) {
    assert_product_counts::<N>(name);
    assert_eq!((N::PARAMS, N::MACS), (params, macs), "{}", N::NAME);
    assert_sums::<N>();
}

#[test]
fn lraspp_counts_equal_torchvision() {
    assert_counts::<LrasppMobileNetV3Large>(
        "segmentation_lraspp_mobilenet_v3_large",
        3_221_538,
        2_086_219_688,
    );
}

#[test]
fn deeplabv3_counts_equal_torchvision() {
    assert_counts::<DeepLabV3MobileNetV3Large>(
        "segmentation_deeplabv3_mobilenet_v3_large",
        11_025_477,
        10_436_350_688,
    );
}

#[test]
fn fcn_counts_equal_torchvision() {
    assert_counts::<FcnResNet50>("segmentation_fcn_resnet50", 32_957_013, 142_725_772_800);
}

/// The output shape of the first layer named `name`.
fn output_of<N: Network>(name: &str) -> Vec<usize> {
    N::LAYERS
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{}: no layer {name}", N::NAME))
        .output
        .to_vec()
}

#[test]
fn shapes_follow_the_dilated_backbones() {
    type L = LrasppMobileNetV3Large;
    type D = DeepLabV3MobileNetV3Large;
    type F = FcnResNet50;
    for (input, output) in [
        (L::INPUT_SHAPE, L::OUTPUT_SHAPE),
        (D::INPUT_SHAPE, D::OUTPUT_SHAPE),
        (F::INPUT_SHAPE, F::OUTPUT_SHAPE),
    ] {
        assert_eq!(input, [3, 520, 520]);
        assert_eq!(output, [21, 520, 520]);
    }
    // MobileNetV3: C2 (item 4) at stride 8, C5 (item 16) at stride 16, the
    // last stage dilated rather than strided (item 13 keeps 33x33).
    assert_eq!(output_of::<L>("backbone.4.block.3.0"), [40, 65, 65]);
    assert_eq!(output_of::<L>("backbone.12.block.3.0"), [112, 33, 33]);
    assert_eq!(output_of::<L>("backbone.13.block.1.0"), [672, 33, 33]);
    assert_eq!(output_of::<L>("backbone.16.0"), [960, 33, 33]);
    assert_eq!(output_of::<L>("classifier.cbr.0"), [128, 33, 33]);
    assert_eq!(output_of::<L>("classifier.scale.1"), [128, 1, 1]);
    assert_eq!(output_of::<L>("classifier.low_classifier"), [21, 65, 65]);
    assert_eq!(output_of::<L>("classifier.high_classifier"), [21, 65, 65]);
    assert_eq!(output_of::<D>("classifier.0.convs.3.0"), [256, 33, 33]);
    assert_eq!(output_of::<D>("classifier.0.convs.4.1"), [256, 1, 1]);
    assert_eq!(output_of::<D>("classifier.0.project.0"), [256, 33, 33]);
    assert_eq!(output_of::<D>("classifier.4"), [21, 33, 33]);
    // ResNet-50 with layer3 and layer4 dilated: stride 8 from layer2 on.
    assert_eq!(output_of::<F>("backbone.layer2.3.conv3"), [512, 65, 65]);
    assert_eq!(output_of::<F>("backbone.layer4.2.conv3"), [2048, 65, 65]);
    assert_eq!(output_of::<F>("classifier.0"), [512, 65, 65]);
    assert_eq!(output_of::<F>("classifier.4"), [21, 65, 65]);
}

/// Every tensor `N` stores (state-dict name and shape, in graph order).
fn stored<N: Network>() -> Vec<(String, Vec<usize>)> {
    let g = N::GRAPH;
    let mut out = Vec::new();
    for (node, layer) in g.nodes.iter().zip(g.layers) {
        for t in node.op.stored_tensors() {
            out.push((format!("{}.{}", layer.name, t.suffix), t.shape.to_vec()));
        }
    }
    out
}

/// `N` stores exactly the tensors of torchvision's state dict, in its order
/// (`tests/data/reference/segmentation_state_dicts.json`, made by
/// `scripts/make_segmentation_state_dicts.py`; `num_batches_tracked` left out).
fn assert_state_dict<N: Network>(model: &str) {
    let r = reference("segmentation_state_dicts");
    let theirs: Vec<(String, Vec<usize>)> = r[model]
        .as_array()
        .unwrap_or_else(|| panic!("no {model} in segmentation_state_dicts.json"))
        .iter()
        .map(|t| (t[0].as_str().unwrap().to_string(), shape(&t[1])))
        .collect();
    let ours = stored::<N>();
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(o, t, "{model}: tensor {i} (ours, torchvision's)");
    }
    assert_eq!(ours.len(), theirs.len(), "{model}: number of tensors");
}

#[test]
fn state_dicts_are_torchvisions() {
    assert_state_dict::<LrasppMobileNetV3Large>("lraspp_mobilenet_v3_large");
    assert_state_dict::<DeepLabV3MobileNetV3Large>("deeplabv3_mobilenet_v3_large");
    assert_state_dict::<FcnResNet50>("fcn_resnet50");
}

/// `python scripts/make_small_lraspp.py` prints `small_lraspp params 281306
/// macs 4029784 {'aten.convolution': 4029784}` (PyTorch's `FlopCounterMode`
/// / 2 on the model's `out`): every product is a convolution's.
#[test]
fn small_lraspp_counts_equal_pytorch() {
    assert_eq!(SmallLraspp::PARAMS, 281_306);
    assert_eq!(SmallLraspp::MACS, 4_029_784);
    let conv: u64 = SmallLraspp::LAYERS
        .iter()
        .filter(|l| l.kind == "Conv2d")
        .map(|l| l.macs)
        .sum();
    assert_eq!(conv, 4_029_784);
    assert_sums::<SmallLraspp>();
    assert_eq!(SmallLraspp::INPUT_SHAPE, [3, 72, 56]);
    assert_eq!(SmallLraspp::OUTPUT_SHAPE, [5, 72, 56]);
    // Low features 9x7, high 5x4: neither resizing has an integer ratio.
    assert_eq!(output_of::<SmallLraspp>("classifier.cbr.0"), [128, 5, 4]);
    assert_eq!(
        output_of::<SmallLraspp>("classifier.low_classifier"),
        [5, 9, 7]
    );
}

/// The fixture of `scripts/make_small_lraspp.py` (PyTorch's weights, input
/// and output) through both backends, alone and as both samples of a batch
/// of two, within 1e-4 of the largest output.
#[test]
fn small_lraspp_matches_pytorch_on_both_backends() {
    let bytes = data("fixtures/small_lraspp.safetensors");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (x, y) = (
        common::tensor(&st, "__input__"),
        common::tensor(&st, "__output__"),
    );
    assert_eq!(x.shape(), [1, 3, 72, 56]);
    assert_eq!(y.shape(), [1, 5, 72, 56]);
    let model = Model::from_safetensors(SmallLraspp::GRAPH, &bytes).unwrap();
    for backend in [Backend::Reference, Backend::Fast] {
        let net = model.clone().with_backend(backend);
        assert_reproduces(&format!("small_lraspp, {backend:?}"), &net, &x, &y);
    }
}

/// The full-size models through both backends: the fast kernels agree with
/// the reference loops to 1e-4 of the largest output, DeepLabV3's ASPP among
/// them (dilations 12, 24 and 36 on a 33x33 map, where the outer taps of the
/// rate-36 kernel only ever read padding). The weights are PyTorch's default
/// initialisation doubled (with the default, identity batch norms shrink
/// the activations to 1e-9 through MobileNetV3's depth, and DeepLabV3's
/// output is its last bias alone) and the biases zero, so the output is all
/// products. A minute or two in a debug build:
/// `cargo test -p netspec-tests --test segmentation -- --ignored`.
#[test]
#[ignore]
fn full_size_models_agree_on_both_backends() {
    fn check<N: Network>() {
        let mut model = Model::random(N::GRAPH, 3);
        let changed: Vec<(String, Tensor)> = model
            .tensors()
            .into_iter()
            .filter_map(|(name, t)| {
                let scale = match t.shape().len() {
                    4 if name.ends_with(".weight") => 2.0,
                    1 if name.ends_with(".bias") => 0.0,
                    _ => return None,
                };
                let data = t.data().iter().map(|v| v * scale).collect();
                Some((name, Tensor::new(t.shape(), data).unwrap()))
            })
            .collect();
        for (name, t) in changed {
            model.set_tensor(&name, t).unwrap();
        }
        let mut shape = vec![1];
        shape.extend_from_slice(N::INPUT_SHAPE);
        let n: usize = shape.iter().product();
        let data = (0..n).map(|i| ((i * 7919 % 10_007) as f32 / 10_007.0) * 2.0 - 1.0);
        let x = Tensor::new(&shape, data.collect()).unwrap();
        let reference = model.clone().with_backend(Backend::Reference);
        let want = reference.forward(&x).unwrap();
        let got = model.with_backend(Backend::Fast).forward(&x).unwrap();
        let largest = want.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let err = relative_error(&got, &want);
        eprintln!(
            "{}: largest output {largest}, max |fast - reference| / largest = {err:e}",
            N::NAME
        );
        assert!(largest > 0.0, "{}: the output is all zero", N::NAME);
        assert!(err <= 1e-4, "{}: relative error {err}", N::NAME);
    }
    check::<LrasppMobileNetV3Large>();
    check::<DeepLabV3MobileNetV3Large>();
    check::<FcnResNet50>();
}
