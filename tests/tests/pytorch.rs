//! Agreement with PyTorch: the zoo's forward pass on torchvision's weights
//! reproduces PyTorch's output (fixtures in `tests/data/fixtures`, see the
//! README there), and bad weights and inputs are errors that say what is wrong.

use netspec::zoo::{MobileNetV2, SqueezeNet1_0};
use netspec::Tensor;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;

mod common;
use common::{relative_error, tensor};

fn fixture(name: &str) -> Vec<u8> {
    common::data(&format!("fixtures/{name}.safetensors"))
}

#[test]
fn mobilenet_v2_matches_pytorch() {
    let bytes = fixture("mobilenet_v2");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let net = MobileNetV2::from_safetensors(&bytes).unwrap();
    let y = net.forward(&tensor(&st, "__input__")).unwrap();
    let err = relative_error(&y, &tensor(&st, "__output__"));
    eprintln!("max |ours - PyTorch| / max |PyTorch| = {err:e}");
    assert!(err <= 1e-4, "relative error {err}");
}

#[test]
fn squeezenet1_0_matches_pytorch() {
    let bytes = fixture("squeezenet1_0");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let net = SqueezeNet1_0::from_safetensors(&bytes).unwrap();
    let y = net.forward(&tensor(&st, "__input__")).unwrap();
    let err = relative_error(&y, &tensor(&st, "__output__"));
    eprintln!("max |ours - PyTorch| / max |PyTorch| = {err:e}");
    assert!(err <= 1e-4, "relative error {err}");
}

#[test]
fn a_batch_gives_each_sample_its_own_output() {
    let bytes = fixture("squeezenet1_0");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let net = SqueezeNet1_0::from_safetensors(&bytes).unwrap();
    let x = tensor(&st, "__input__");
    let mut data = x.data().to_vec();
    data.extend(x.data().iter().map(|v| -v));
    let batch = Tensor::new(&[2, 3, 224, 224], data).unwrap();
    let y = net.forward(&batch).unwrap();
    assert_eq!(y.shape(), &[2, 1000]);
    let first = Tensor::new(&[1, 1000], y.data()[..1000].to_vec()).unwrap();
    assert!(relative_error(&first, &tensor(&st, "__output__")) <= 1e-4);
}

#[test]
fn saving_and_loading_round_trips() {
    let net = SqueezeNet1_0::random(3);
    let path = std::env::temp_dir().join(format!(
        "netspec-roundtrip-{}.safetensors",
        std::process::id()
    ));
    net.save_safetensors(&path).unwrap();
    let back = SqueezeNet1_0::load_safetensors(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let x = Tensor::new(
        &[1, 3, 224, 224],
        (0..3 * 224 * 224)
            .map(|i| ((i % 17) as f32 - 8.0) / 8.0)
            .collect(),
    )
    .unwrap();
    assert_eq!(
        net.forward(&x).unwrap().data(),
        back.forward(&x).unwrap().data()
    );
}

#[test]
fn a_wrong_input_shape_is_an_error_naming_both_shapes() {
    let net = MobileNetV2::random(1);
    let err = net
        .forward(&Tensor::zeros(&[1, 3, 32, 32]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("MobileNetV2"), "{err}");
    assert!(err.contains("[N, 3, 224, 224]"), "{err}");
    assert!(err.contains("[1, 3, 32, 32]"), "{err}");
}

#[test]
fn bad_weights_list_every_offender() {
    let bytes = fixture("squeezenet1_0");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    // Keep everything but one missing tensor, one reshaped and one extra.
    let mut owned: HashMap<String, (Vec<usize>, Vec<u8>)> = HashMap::new();
    for (name, view) in st.tensors() {
        if name == "features.0.bias" {
            continue;
        }
        let shape = if name == "classifier.1.weight" {
            vec![1000, 512, 1, 2]
        } else {
            view.shape().to_vec()
        };
        let mut data = view.data().to_vec();
        if name == "classifier.1.weight" {
            data.extend_from_slice(view.data());
        }
        owned.insert(name, (shape, data));
    }
    owned.insert("features.99.weight".to_string(), (vec![2], vec![0; 8]));
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, (s, d))| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let broken = safetensors::serialize(views, None).unwrap();
    let err = SqueezeNet1_0::from_safetensors(&broken)
        .unwrap_err()
        .to_string();
    assert!(err.contains("3 problems"), "{err}");
    assert!(
        err.contains("`features.0.bias`: missing (expected shape [96])"),
        "{err}"
    );
    assert!(
        err.contains(
            "`classifier.1.weight`: expected shape [1000, 512, 1, 1], found [1000, 512, 1, 2]"
        ),
        "{err}"
    );
    assert!(
        err.contains("`features.99.weight`: unexpected tensor (shape [2])"),
        "{err}"
    );
    // One problem per line after the header.
    assert_eq!(err.lines().count(), 4, "{err}");
}

/// The file with `rename` renamed, all else kept.
fn renamed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let views: Vec<(String, TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (if n == from { to.to_string() } else { n }, v))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn a_misspelt_tensor_name_gets_a_suggestion() {
    let bytes = renamed(
        &fixture("squeezenet1_0"),
        "features.0.weight",
        "features.0.weigth",
    );
    let err = SqueezeNet1_0::from_safetensors(&bytes)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "weights do not match `SqueezeNet1_0` (2 problems):\n  \
         `features.0.weight`: missing (expected shape [96, 3, 7, 7])\n  \
         `features.0.weigth`: unexpected tensor (shape [96, 3, 7, 7]), \
         did you mean `features.0.weight`?"
    );
}

#[test]
fn another_networks_file_shows_ten_problems_then_a_count() {
    // MobileNetV2 has 262 tensors: 52 convs without bias (features.0, two
    // in the first inverted residual, three in each of the other 16,
    // features.18), 52 batch norms of 4, and the linear `classifier.1` of 2.
    // SqueezeNet1_0's file has 52 (26 convs with bias: features.0, 3 in each
    // of 8 fire modules, classifier.1). Shared names: `classifier.1.bias`
    // ([1000] in both: fine) and `classifier.1.weight` (shape differs). So
    // 260 missing + 1 shape + 50 unexpected = 311 problems, 10 shown.
    let err = MobileNetV2::from_safetensors(&fixture("squeezenet1_0"))
        .unwrap_err()
        .to_string();
    eprintln!("{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 12, "{err}");
    assert_eq!(
        lines[0],
        "weights do not match `MobileNetV2` (311 problems):"
    );
    assert_eq!(
        lines[1],
        "  `features.0.0.weight`: missing (expected shape [32, 3, 3, 3])"
    );
    assert!(lines[1..11].iter().all(|l| l.starts_with("  `")), "{err}");
    assert_eq!(lines[11], "  and 301 more");
    assert!(err.len() < 1500, "{} characters", err.len());
}

#[test]
fn a_file_that_is_not_safetensors_is_an_error() {
    let err = MobileNetV2::from_safetensors(b"definitely not a safetensors file")
        .unwrap_err()
        .to_string();
    assert!(!err.is_empty());
    let missing = MobileNetV2::load_safetensors("no/such/weights.safetensors")
        .unwrap_err()
        .to_string();
    assert!(missing.contains("no/such/weights.safetensors"), "{missing}");
}
