//! Helpers shared by the suites that compare the zoo with the PyTorch
//! reference files in `tests/data/reference/`, and by those that run
//! networks through both backends.
#![allow(dead_code)] // each suite uses a part

use netspec::{set_num_threads, Backend, Model, Network, Tensor};
use serde_json::Value;
use std::sync::Mutex;

/// A layer as compared: dotted name, params, MACs, output shape.
type Row = (String, u64, u64, Vec<usize>);

pub fn reference(model: &str) -> Value {
    let path = format!("{}/data/reference/{model}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

pub fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// Asserts `N` against `tests/data/reference/{model}.json`: params and MACs
/// to the unit, every parameterised layer's name, params, MACs and output
/// shape in order, the output shape of every module PyTorch lists, and that
/// the totals are the sums over `LAYERS`.
pub fn check<N: Network>(model: &str) {
    let r = reference(model);
    assert_eq!(N::PARAMS, r["params"].as_u64().unwrap(), "{model}: params");
    assert_eq!(N::MACS, r["macs"].as_u64().unwrap(), "{model}: MACs");
    let layers = r["layers"].as_array().unwrap();

    // Every layer holding parameters or doing MACs, in order, by PyTorch name.
    let theirs: Vec<Row> = layers
        .iter()
        .filter(|l| l["params"].as_u64().unwrap() > 0 || l["macs"].as_u64().unwrap() > 0)
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["params"].as_u64().unwrap(),
                l["macs"].as_u64().unwrap(),
                shape(&l["output_shape"]),
            )
        })
        .collect();
    let ours: Vec<Row> = N::LAYERS
        .iter()
        .filter(|l| l.params > 0 || l.macs > 0)
        .map(|l| (l.name.to_string(), l.params, l.macs, l.output.to_vec()))
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{model}: number of parameterised layers"
    );
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t, "{model}: parameterised layer (ours, PyTorch's)");
    }

    // The output shape of every module PyTorch lists, looked up by name; a
    // module called several times is matched call by call.
    let mut calls: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut matched = 0;
    for l in layers {
        let name = l["name"].as_str().unwrap();
        let k = calls.entry(name).or_insert(0);
        if let Some(ours) = N::LAYERS.iter().filter(|x| x.name == name).nth(*k) {
            assert_eq!(
                ours.output,
                shape(&l["output_shape"]).as_slice(),
                "{model}: output shape of {name} (call {k})"
            );
            matched += 1;
        }
        *k += 1;
    }
    assert!(
        matched * 10 >= layers.len() * 9,
        "{model}: only {matched} of {} modules matched by name",
        layers.len()
    );
    assert_sums::<N>();
}

/// The totals are the sums over `LAYERS`.
pub fn assert_sums<N: Network>() {
    let sum = |f: fn(&netspec::LayerInfo<'_>) -> u64| N::LAYERS.iter().map(f).sum::<u64>();
    assert_eq!(sum(|l| l.params), N::PARAMS);
    assert_eq!(sum(|l| l.macs), N::MACS);
    assert_eq!(sum(|l| l.flops), N::FLOPS);
    assert_eq!(sum(|l| l.memory_access_bytes), N::MEMORY_ACCESS_BYTES);
    assert_eq!(sum(|l| l.activations), N::ACTIVATIONS);
    assert_eq!(N::WEIGHT_BYTES, 4 * N::PARAMS);
}

/// The bytes of `tests/data/{path}`.
pub fn data(path: &str) -> Vec<u8> {
    let path = format!("{}/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The f32 tensor `name` of a safetensors file.
pub fn tensor(st: &safetensors::SafeTensors<'_>, name: &str) -> netspec::Tensor {
    let view = st
        .tensor(name)
        .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
    let data: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    netspec::Tensor::new(view.shape(), data).unwrap()
}

/// max |ours - PyTorch| / max |PyTorch|
pub fn relative_error(ours: &netspec::Tensor, theirs: &netspec::Tensor) -> f32 {
    assert_eq!(ours.shape(), theirs.shape());
    let diff = ours
        .data()
        .iter()
        .zip(theirs.data())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let scale = theirs.data().iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    diff / scale
}

/// `net` on a fixture's input `x` (a batch of one) reproduces the fixture's
/// output `y` within 1e-4 of its largest value, alone and as both samples
/// of a batch of two.
pub fn assert_reproduces(what: &str, net: &Model, x: &Tensor, y: &Tensor) {
    let ours = net.forward(x).unwrap();
    let err = relative_error(&ours, y);
    eprintln!("{what}: max |ours - PyTorch| / max |PyTorch| = {err:e}");
    assert!(err <= 1e-4, "{what}: relative error {err}");
    let mut shape = x.shape().to_vec();
    shape[0] = 2;
    let twice = Tensor::new(&shape, [x.data(), x.data()].concat()).unwrap();
    let both = net.forward(&twice).unwrap();
    assert_eq!(both.len(), 2 * y.len(), "{what}: a batch of two's output");
    for (i, half) in both.data().chunks(y.len()).enumerate() {
        let half = Tensor::new(y.shape(), half.to_vec()).unwrap();
        let err = relative_error(&half, y);
        assert!(
            err <= 1e-4,
            "{what}: sample {i} of a batch of 2: relative error {err}"
        );
    }
}

/// Params and MACs of `N` against the attention models' reference file
/// `{name}.json` (PyTorch's `FlopCounterMode` / 2), and each kind of product
/// against its `macs_by_op`: convolutions, linear layers (`addmm`, `mm`;
/// the attention in-projection is one), attention's and other matrix
/// products (`bmm`).
pub fn assert_product_counts<N: Network>(name: &str) {
    let r = reference(name);
    assert_eq!(N::PARAMS, r["params"].as_u64().unwrap(), "{name} params");
    assert_eq!(N::MACS, r["macs"].as_u64().unwrap(), "{name} MACs");
    let by_kind = |kinds: &[&str]| -> u64 {
        N::LAYERS
            .iter()
            .filter(|l| kinds.contains(&l.kind))
            .map(|l| l.macs)
            .sum()
    };
    let op = |k: &str| r["macs_by_op"][k].as_u64().unwrap_or(0);
    assert_eq!(
        by_kind(&["Conv2d", "Conv1d"]),
        op("aten.convolution"),
        "{name} convolutions"
    );
    assert_eq!(
        by_kind(&["Linear", "MultiheadAttention"]),
        op("aten.addmm") + op("aten.mm"),
        "{name} linear layers"
    );
    assert_eq!(
        by_kind(&["Matmul"]),
        op("aten.bmm"),
        "{name} matrix products"
    );
}

/// Deterministic pseudo-random values in [lo, hi).
pub fn values(n: usize, seed: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let u = ((i * 7919 + seed * 104_729 + 13) % 10_007) as f32 / 10_007.0;
            lo + (hi - lo) * u
        })
        .collect()
}

/// A batch of `batch` inputs of `N`, `values` in [-1, 1) from `seed`.
pub fn input<N: Network>(batch: usize, seed: usize) -> Tensor {
    let mut shape = vec![batch];
    shape.extend_from_slice(N::INPUT_SHAPE);
    let n = shape.iter().product();
    Tensor::new(&shape, values(n, seed, -1.0, 1.0)).unwrap()
}

/// Random batch-norm statistics and affine parameters for every batch norm,
/// so that folding them is really exercised (a fresh model's are identities).
pub fn perturb_batch_norms(model: &mut Model) {
    let prefixes: Vec<String> = model
        .tensors()
        .iter()
        .filter_map(|(name, _)| name.strip_suffix(".running_var").map(str::to_string))
        .collect();
    for (k, p) in prefixes.iter().enumerate() {
        let c = model
            .tensor(&format!("{p}.running_var"))
            .map_or(0, Tensor::len);
        for (suffix, lo, hi) in [
            ("weight", 0.5, 1.5),
            ("bias", -0.2, 0.2),
            ("running_mean", -0.2, 0.2),
            ("running_var", 0.5, 2.0),
        ] {
            let t = Tensor::new(&[c], values(c, k * 4 + suffix.len(), lo, hi)).unwrap();
            model.set_tensor(&format!("{p}.{suffix}"), t).unwrap();
        }
    }
}

/// The thread count is global: a test holds this while it sets it and runs.
static THREADS: Mutex<()> = Mutex::new(());

/// `model` (called `name`) on `x` through the reference backend and the fast
/// one, on one thread and on all cores: the reference output is finite and
/// not all zero, and the fast output has its shape and agrees with it to
/// 1e-4 of its largest value. Returns the reference and fast models and the
/// reference output.
pub fn assert_backends_agree(name: &str, model: &Model, x: &Tensor) -> (Model, Model, Tensor) {
    let reference = model.clone().with_backend(Backend::Reference);
    let fast = model.clone().with_backend(Backend::Fast);
    let batch = x.shape()[0];
    let want = reference.forward(x).unwrap();
    assert!(
        want.data().iter().all(|v| v.is_finite()),
        "{name}: the reference output is not finite"
    );
    let largest = want.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(largest > 0.0, "{name}: the reference output is all zero");
    let _guard = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 0] {
        set_num_threads(threads);
        let got = fast.forward(x).unwrap();
        assert_eq!(got.shape(), want.shape(), "{name}: fast output shape");
        let diff = got.max_abs_diff(&want).unwrap();
        eprintln!(
            "{name} batch {batch}, {} thread(s): max |fast - reference| / max |reference| = {:e}",
            netspec::num_threads(),
            diff / largest
        );
        assert!(
            diff <= 1e-4 * largest,
            "{name} batch {batch}, threads {threads}: difference {diff} against largest output {largest}"
        );
    }
    set_num_threads(0);
    (reference, fast, want)
}
