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
//!
//! The small transformers (`tests/data/reference/training_small.json`, made
//! by `scripts/make_small_training_reference.py` the same way, with the math
//! attention backend) are held to the same, exactly.

use netspec::zoo::{
    AlexNet, EfficientNetB0, MnasNet1_0, MobileNetV2, MobileNetV3Large, MobileNetV3Small, ResNet18,
    ResNet50, ShuffleNetV2X0_5, ShuffleNetV2X1_0, SmallConvNeXt, SmallSwin, SmallVit,
    SqueezeNet1_0, SqueezeNet1_1, Vgg16,
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
    ("training_small", "small_vit", ours::<SmallVit>),
    ("training_small", "small_convnext", ours::<SmallConvNeXt>),
    ("training_small", "small_swin", ours::<SmallSwin>),
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

// The README's examples hold, at compile time.
netspec::assert_budget!(
    ResNet18,
    train_memory(batch = 64, optimizer = adam) <= 2 * netspec::budget::units::GIB,
    train_flops <= 11_000_000_000
);
const _: () = assert!(MobileNetV2::BACKWARD_MACS == 590_710_528);
const _: () = assert!(MobileNetV2::saved_bytes(8) == 625_908_224);
const _: () = assert!(MobileNetV2::backward_macs_as(Convention::TorchFlopCounter) == 5_839_076_224);

#[test]
fn train_memory_adds_weights_gradients_state_and_saved_tensors() {
    use netspec::{Optimizer, Precision};
    let p = ResNet18::PARAMS;
    let saved = ResNet18::saved_bytes(64);
    // 4 bytes of weights and 4 of gradients per parameter, plus 0, 1 or 2 f32 of state.
    assert_eq!(ResNet18::train_memory(64, Optimizer::Sgd), 8 * p + saved);
    assert_eq!(
        ResNet18::train_memory(64, Optimizer::SgdMomentum),
        12 * p + saved
    );
    assert_eq!(ResNet18::train_memory(64, Optimizer::Adam), 16 * p + saved);
    assert_eq!(ResNet18::train_memory(64, Optimizer::AdamW), 16 * p + saved);
    // Mixed: 4 + 2 + 2 bytes per parameter, 8 of Adam state; the saved floats
    // halve, the max-pool indices (one int64 per output of maxpool:
    // 64·56·56) and the 4·C batch-norm statistics do not.
    let indices = 64 * 56 * 56;
    let stats = ResNet18::saved_bytes(0);
    let floats = (saved - stats - 8 * indices * 64) / 4;
    assert_eq!(
        ResNet18::train_memory_in(64, Optimizer::Adam, Precision::Mixed),
        16 * p + 2 * floats + 8 * indices * 64 + stats
    );
    // batch-norm statistics: 4 per channel over ResNet-18's 20 batch norms (4,800 channels)
    assert_eq!(stats, 4 * 4 * 4_800);
}

#[test]
fn the_first_layer_has_no_grad_input() {
    let first = &ResNet18::LAYERS[0];
    assert_eq!(first.training.grad_input_macs, 0);
    assert_eq!(first.training.grad_weight_macs, first.macs);
    // ResNet-18: every other conv and the fc layer do both.
    assert_eq!(ResNet18::BACKWARD_MACS, 2 * ResNet18::MACS - first.macs);
    assert_eq!(
        ResNet18::TRAIN_MACS,
        ResNet18::MACS + ResNet18::BACKWARD_MACS
    );
}

#[test]
fn per_layer_training_sums_to_the_totals() {
    for (name, layers, totals) in [
        (
            "MobileNetV2",
            MobileNetV2::LAYERS,
            MobileNetV2::GRAPH.totals,
        ),
        (
            "ShuffleNetV2X1_0",
            ShuffleNetV2X1_0::LAYERS,
            ShuffleNetV2X1_0::GRAPH.totals,
        ),
    ] {
        let sum = layers
            .iter()
            .try_fold(netspec::Training::ZERO, |a, l| a.checked_add(&l.training))
            .unwrap();
        assert_eq!(sum, totals.training, "{name}");
    }
}

netspec::network! {
    /// An in-place ReLU on a view: `narrow` shares the convolution's output,
    /// which `c3` keeps (as a view) anyway.
    pub struct InPlace(x: [4, 8, 8]) {
        let y = x -> conv: Conv2d(8, 1);
        let a = narrow(y, 0, 4) -> ReLU(inplace = true) -> c2: Conv2d(4, 1);
        let b = narrow(y, 4, 4) -> c3: Conv2d(4, 1);
        a + b
    }

    /// The same with an out-of-place ReLU.
    pub struct OutOfPlace(x: [4, 8, 8]) {
        let y = x -> conv: Conv2d(8, 1);
        let a = narrow(y, 0, 4) -> ReLU -> c2: Conv2d(4, 1);
        let b = narrow(y, 4, 4) -> c3: Conv2d(4, 1);
        a + b
    }
}

#[test]
fn in_place_relu_changes_what_is_kept() {
    // PyTorch 2.15, batch 2, the same graph (`y.narrow(1, 0, 4)`, `torch.relu_`
    // or `torch.relu`), saved_tensors_hooks by storage: 6,144 and 8,192 bytes.
    // In place: the input x (2·4·64 floats) and y (2·8·64), which the ReLU
    // and c2 (its output is y's storage) and c3 (a view of y) all keep.
    // Out of place, the ReLU's own output (2·4·64) comes on top.
    assert_eq!(InPlace::saved_bytes(2), 6_144);
    assert_eq!(OutOfPlace::saved_bytes(2), 8_192);
}
