//! Training costs against PyTorch: one training step at batch 8 (train mode,
//! dropout off, loss = sum of the outputs, input without grad), measured with
//! `FlopCounterMode` and `saved_tensors_hooks` by `scripts/make_training_reference.py`
//! (`tests/data/reference/training_batch8*.json`).
//!
//! - `backward_macs` equals `FlopCounterMode`'s exactly for every model
//!   without grouped convolutions;
//! - for models with grouped convolutions, `FlopCounterMode` counts each
//!   grouped convolution's grad-weight `groups` times over:
//!   `backward_macs_as(Convention::TorchFlopCounter)` reproduces its number
//!   exactly, and the true count is below it;
//! - `saved_bytes(8)` equals the bytes of the distinct storages autograd saved.

use netspec::zoo::{
    AlexNet, EfficientNetB0, MnasNet1_0, MobileNetV2, MobileNetV3Large, MobileNetV3Small, ResNet18,
    ResNet50, ShuffleNetV2X0_5, ShuffleNetV2X1_0, SqueezeNet1_0, SqueezeNet1_1, Vgg16,
};
use netspec::{Convention, Network};
use serde_json::Value;

const BATCH: u64 = 8;

/// Our figures for one model at batch 8.
#[derive(Debug)]
struct Ours {
    params: u64,
    forward_macs: u64,
    backward_macs: u64,
    torch_backward_macs: u64,
    saved_bytes: u64,
    grouped: bool,
}

fn ours<N: Network>() -> Ours {
    let grouped = N::GRAPH
        .nodes
        .iter()
        .any(|n| matches!(n.op, netspec::Op::Conv2d(c) if c.groups > 1));
    Ours {
        params: N::PARAMS,
        forward_macs: BATCH * N::MACS,
        backward_macs: BATCH * N::BACKWARD_MACS,
        torch_backward_macs: BATCH
            * N::GRAPH
                .totals
                .backward_macs_as(Convention::TorchFlopCounter),
        saved_bytes: N::saved_bytes(BATCH),
        grouped,
    }
}

/// A reference file, the model's name in it, and our figures for it.
type Model = (&'static str, &'static str, fn() -> Ours);

/// The reference file and the network type of each model.
const MODELS: &[Model] = &[
    ("training_batch8", "resnet18", ours::<ResNet18>),
    ("training_batch8", "alexnet", ours::<AlexNet>),
    ("training_batch8", "vgg16", ours::<Vgg16>),
    ("training_batch8", "mobilenet_v2", ours::<MobileNetV2>),
    ("training_batch8_zoo", "resnet50", ours::<ResNet50>),
    (
        "training_batch8_zoo",
        "squeezenet1_0",
        ours::<SqueezeNet1_0>,
    ),
    (
        "training_batch8_zoo",
        "squeezenet1_1",
        ours::<SqueezeNet1_1>,
    ),
    (
        "training_batch8_zoo",
        "shufflenet_v2_x0_5",
        ours::<ShuffleNetV2X0_5>,
    ),
    (
        "training_batch8_zoo",
        "shufflenet_v2_x1_0",
        ours::<ShuffleNetV2X1_0>,
    ),
    (
        "training_batch8_zoo",
        "efficientnet_b0",
        ours::<EfficientNetB0>,
    ),
    (
        "training_batch8_zoo",
        "mobilenet_v3_large",
        ours::<MobileNetV3Large>,
    ),
    (
        "training_batch8_zoo",
        "mobilenet_v3_small",
        ours::<MobileNetV3Small>,
    ),
    ("training_batch8_zoo", "mnasnet1_0", ours::<MnasNet1_0>),
];

fn reference(file: &str) -> Value {
    let path = format!("{}/data/reference/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

#[test]
fn every_model_matches_pytorch() {
    let mut problems = Vec::new();
    for (file, model, ours) in MODELS {
        let r = &reference(file)[*model];
        let get = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{model}: no {k}"));
        assert_eq!(get("batch"), BATCH, "{model}");
        let o = ours();
        let mut check = |what: &str, mine: u64, theirs: u64| {
            if mine != theirs {
                problems.push(format!("{model}: {what} {mine} != PyTorch's {theirs}"));
            }
        };
        check("params", o.params, get("params"));
        check("forward MACs", o.forward_macs, get("forward_macs"));
        check("saved bytes", o.saved_bytes, get("saved_bytes"));
        check(
            "FlopCounterMode backward MACs",
            o.torch_backward_macs,
            get("backward_macs"),
        );
        if o.grouped {
            if o.backward_macs >= o.torch_backward_macs {
                problems.push(format!("{model}: grouped convolutions, yet no overcount"));
            }
        } else {
            check("backward MACs", o.backward_macs, get("backward_macs"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
