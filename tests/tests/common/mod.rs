//! Helpers shared by the suites that compare the zoo with the PyTorch
//! reference files in `tests/data/reference/`.
#![allow(dead_code)] // each suite uses a part

use netspec::Network;
use serde_json::Value;

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
