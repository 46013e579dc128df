//! The report in other formats: Markdown, JSON and CSV, from the same graph
//! and rows as the text report (`netspec::report::render_text`).

use netspec_model::format::{bytes, shape, si, thousands};
use netspec_model::report::{
    kind_rows, output_shape, rows, training_lines, REPORT_BATCH, TRAINING_TITLE,
};
use netspec_model::{Convention, Counts, Graph, Optimizer, Precision, Training};
use serde::Serialize;

/// A Markdown table: one row per layer and scope (hierarchy shown by
/// indentation of the path), then the totals.
pub fn markdown(graph: &Graph<'_>) -> String {
    let mut out = format!(
        "### {}\n\nInput {} → {} (per sample).\n\n| Layer | Kind | Output shape | Params | MACs | FLOPs | Memory access |\n|---|---|---|---:|---:|---:|---:|\n",
        graph.name,
        shape(graph.input),
        netspec_model::report::outputs_text(graph)
    );
    for r in rows(graph) {
        let indent = "&nbsp;&nbsp;".repeat(r.depth);
        let dash = |n: u64, f: fn(u64) -> String| if n == 0 { "-".to_string() } else { f(n) };
        out.push_str(&format!(
            "| {indent}`{}` | {} | {} | {} | {} | {} | {} |\n",
            r.label,
            // A shared module's application: which one.
            match r.application {
                Some((k, n)) => format!("{}, application {k} of {n}", r.kind),
                None => r.kind.clone(),
            },
            r.output.as_deref().map(shape).unwrap_or_default(),
            dash(r.costs.params, thousands),
            dash(r.costs.macs, si),
            dash(r.costs.flops, si),
            dash(r.costs.memory_access_bytes, bytes),
        ));
    }
    out.push_str("\n| Total | Value |\n|---|---:|\n");
    let totals = netspec_model::report::total_lines(graph);
    for (k, v) in totals {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push_str(&format!(
        "\n#### {TRAINING_TITLE}\n\n| Training | Value |\n|---|---:|\n"
    ));
    for (k, v) in training_lines(graph) {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push_str(&markdown_conventions(graph));
    out
}

/// The conventions section as Markdown: totals, then counts and rules per
/// layer kind (the same content as the text report's section).
fn markdown_conventions(graph: &Graph<'_>) -> String {
    let mut out = String::from(
        "\n#### Counting conventions\n\nEvery tool calls its number \"FLOPs\".\n\n| Convention | Total | Rules from |\n|---|---:|---|\n",
    );
    for c in Convention::ALL {
        let n = graph.totals.count_as(c);
        out.push_str(&format!(
            "| {} | {} ({}) | {} |\n",
            c.name(),
            thousands(n),
            si(n),
            c.source()
        ));
    }
    out.push_str("\n| Kind | Layers |");
    for c in Convention::ALL {
        out.push_str(&format!(" {} |", c.name()));
    }
    out.push_str("\n|---|---:|");
    for _ in Convention::ALL {
        out.push_str("---:|");
    }
    out.push('\n');
    for r in kind_rows(graph) {
        out.push_str(&format!("| {} | {} |", r.label, r.layers));
        for (i, c) in Convention::ALL.iter().enumerate() {
            let n = r.counts.get(*c);
            let value = if n == 0 { "-".to_string() } else { si(n) };
            match r.rules {
                Some(rules) => out.push_str(&format!(" {value} ({}) |", rules[i])),
                None => out.push_str(&format!(" {value} |")),
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct JsonLayer<'a> {
    name: &'a str,
    kind: &'a str,
    inputs: &'a [&'a [usize]],
    output: &'a [usize],
    params: u64,
    buffers: u64,
    macs: u64,
    flops: u64,
    memory_access_bytes: u64,
    activations: u64,
    arithmetic_intensity: f64,
    counts: JsonCounts,
    training: JsonTraining,
}

/// A layer's or the network's training costs, per sample.
#[derive(Serialize)]
struct JsonTraining {
    backward_macs: u64,
    grad_input_macs: u64,
    grad_weight_macs: u64,
    backward_flops: u64,
    grad_input_flops: u64,
    grad_weight_flops: u64,
    torch_flop_counter_backward_macs: u64,
    saved_bytes_per_sample: u64,
    saved_statistics_bytes: u64,
}

impl From<Training> for JsonTraining {
    fn from(t: Training) -> Self {
        let stats = t.saved_bytes(0);
        JsonTraining {
            backward_macs: t.backward_macs(),
            grad_input_macs: t.grad_input_macs,
            grad_weight_macs: t.grad_weight_macs,
            backward_flops: t.backward_flops(),
            grad_input_flops: t.grad_input_flops,
            grad_weight_flops: t.grad_weight_flops,
            torch_flop_counter_backward_macs: t.torch_backward_macs,
            saved_bytes_per_sample: t.saved_bytes(1).saturating_sub(stats),
            saved_statistics_bytes: stats,
        }
    }
}

/// The memory of a training step at one batch, by optimizer.
#[derive(Serialize)]
struct JsonTrainMemory {
    batch: u64,
    precision: &'static str,
    sgd: u64,
    sgd_momentum: u64,
    adam: u64,
    adamw: u64,
}

/// The counts under every convention, by convention name.
#[derive(Serialize)]
struct JsonCounts {
    torchvision: u64,
    fvcore: u64,
    thop: u64,
    ptflops: u64,
    flops: u64,
}

impl From<Counts> for JsonCounts {
    fn from(c: Counts) -> Self {
        JsonCounts {
            torchvision: c.torchvision,
            fvcore: c.fvcore,
            thop: c.thop,
            ptflops: c.ptflops,
            flops: c.flops,
        }
    }
}

#[derive(Serialize)]
struct JsonScope<'a> {
    path: &'a str,
    kind: &'a str,
}

#[derive(Serialize)]
struct JsonTotals {
    params: u64,
    buffers: u64,
    macs: u64,
    flops: u64,
    memory_access_bytes: u64,
    activations: u64,
    weight_bytes: u64,
    buffer_bytes: u64,
    peak_activation_bytes: u64,
    counts: JsonCounts,
    train_macs: u64,
    train_flops: u64,
    training: JsonTraining,
    train_memory: Vec<JsonTrainMemory>,
}

/// One output of the network: its shape per sample and the layer that
/// makes it (`input` for the network's input returned as it is).
#[derive(Serialize)]
struct JsonOutput<'a> {
    shape: &'a [usize],
    layer: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    name: &'a str,
    input: &'a [usize],
    /// The first output's shape (kept from before several outputs).
    output: &'a [usize],
    /// Every output, in the order the network returns them.
    outputs: Vec<JsonOutput<'a>>,
    totals: JsonTotals,
    layers: Vec<JsonLayer<'a>>,
    scopes: Vec<JsonScope<'a>>,
}

/// The whole report as pretty-printed JSON: the input and output shapes
/// (`output`, the first; `outputs`, every one with the layer that makes
/// it), totals, every layer's record (with its arithmetic intensity in
/// FLOPs per byte) and the scopes.
pub fn json(graph: &Graph<'_>) -> String {
    let t = graph.totals;
    let report = JsonReport {
        name: graph.name,
        input: graph.input,
        output: output_shape(graph),
        outputs: graph
            .output_values()
            .iter()
            .map(|&v| JsonOutput {
                shape: graph.value_shape(v).unwrap_or(&[]),
                layer: match v.checked_sub(1) {
                    None => "input",
                    Some(i) => graph.layers.get(i).map_or("", |l| l.name),
                },
            })
            .collect(),
        totals: JsonTotals {
            params: t.params,
            buffers: t.buffers,
            macs: t.macs,
            flops: t.flops,
            memory_access_bytes: t.memory_access_bytes,
            activations: t.activations,
            weight_bytes: t.weight_bytes,
            buffer_bytes: t.buffer_bytes,
            peak_activation_bytes: t.peak_activation_bytes,
            counts: t.counts.into(),
            train_macs: t.train_macs(),
            train_flops: t.train_flops(),
            training: t.training.into(),
            train_memory: [Precision::F32, Precision::Mixed]
                .map(|precision| {
                    let m = |o: Optimizer| t.train_memory(REPORT_BATCH, o, precision);
                    JsonTrainMemory {
                        batch: REPORT_BATCH,
                        precision: precision.name(),
                        sgd: m(Optimizer::Sgd),
                        sgd_momentum: m(Optimizer::SgdMomentum),
                        adam: m(Optimizer::Adam),
                        adamw: m(Optimizer::AdamW),
                    }
                })
                .into(),
        },
        layers: graph
            .layers
            .iter()
            .map(|l| JsonLayer {
                name: l.name,
                kind: l.kind,
                inputs: l.inputs,
                output: l.output,
                params: l.params,
                buffers: l.buffers,
                macs: l.macs,
                flops: l.flops,
                memory_access_bytes: l.memory_access_bytes,
                activations: l.activations,
                arithmetic_intensity: l.arithmetic_intensity(),
                counts: l.counts.into(),
                training: l.training.into(),
            })
            .collect(),
        scopes: graph
            .scopes
            .iter()
            .map(|s| JsonScope {
                path: s.path,
                kind: s.kind,
            })
            .collect(),
    };
    // Serialising plain structs of numbers and strings cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// One CSV row per layer (shapes as `64x56x56`, several inputs joined by
/// `;`), with the layer's fvcore, thop and ptflops counts (torchvision's
/// and netspec's are the `macs` and `flops` columns), then its training
/// costs per sample: grad-input and grad-weight MACs and FLOPs, and the
/// bytes it keeps for backward (per sample, and batch-norm statistics).
pub fn csv(graph: &Graph<'_>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "name",
        "kind",
        "inputs",
        "output",
        "params",
        "buffers",
        "macs",
        "flops",
        "memory_access_bytes",
        "activations",
        "arithmetic_intensity",
        "fvcore",
        "thop",
        "ptflops",
        "grad_input_macs",
        "grad_weight_macs",
        "grad_input_flops",
        "grad_weight_flops",
        "saved_bytes_per_sample",
        "saved_statistics_bytes",
    ];
    let mut ok = w.write_record(header).is_ok();
    for l in graph.layers {
        let inputs = l
            .inputs
            .iter()
            .map(|s| dims(s))
            .collect::<Vec<_>>()
            .join(";");
        ok &= w
            .write_record([
                l.name.to_string(),
                l.kind.to_string(),
                inputs,
                dims(l.output),
                l.params.to_string(),
                l.buffers.to_string(),
                l.macs.to_string(),
                l.flops.to_string(),
                l.memory_access_bytes.to_string(),
                l.activations.to_string(),
                format!("{:.4}", l.arithmetic_intensity()),
                l.counts.fvcore.to_string(),
                l.counts.thop.to_string(),
                l.counts.ptflops.to_string(),
                l.training.grad_input_macs.to_string(),
                l.training.grad_weight_macs.to_string(),
                l.training.grad_input_flops.to_string(),
                l.training.grad_weight_flops.to_string(),
                l.training
                    .saved_bytes(1)
                    .saturating_sub(l.training.saved_bytes(0))
                    .to_string(),
                l.training.saved_bytes(0).to_string(),
            ])
            .is_ok();
    }
    // Writing to memory cannot fail; `ok` is kept for clarity.
    let bytes = if ok {
        w.into_inner().unwrap_or_default()
    } else {
        Vec::new()
    };
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netspec_model::{Activation, LayerInfo, Node, Op, Totals};

    /// x [2] -> fc1 [3] -> relu [3] -> fc2 [4], returning (fc2, relu, x).
    static HEADS: Graph<'static> = Graph {
        name: "Heads",
        input: &[2],
        nodes: &[
            Node::new(Op::Identity, &[0]),
            Node::new(Op::Activation(Activation::ReLU), &[1]),
            Node::new(Op::Identity, &[2]),
        ],
        layers: &[
            LayerInfo::from_parts("fc1", "Linear", true, &[&[2]], &[3], [0; 6], [0; 5]),
            LayerInfo::from_parts("relu", "ReLU", true, &[&[3]], &[3], [0; 6], [0; 5]),
            LayerInfo::from_parts("fc2", "Linear", true, &[&[3]], &[4], [0; 6], [0; 5]),
        ],
        output: 3,
        outputs: &[3, 2, 0],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    #[test]
    fn json_lists_every_output_with_its_layer() {
        let v: serde_json::Value = serde_json::from_str(&json(&HEADS)).unwrap();
        assert_eq!(v["output"], serde_json::json!([4]));
        assert_eq!(
            v["outputs"],
            serde_json::json!([
                {"shape": [4], "layer": "fc2"},
                {"shape": [3], "layer": "relu"},
                {"shape": [2], "layer": "input"},
            ])
        );
        // A graph with one output (an empty list) has that one.
        let one = Graph {
            outputs: &[],
            ..HEADS
        };
        let v: serde_json::Value = serde_json::from_str(&json(&one)).unwrap();
        assert_eq!(
            v["outputs"],
            serde_json::json!([{"shape": [4], "layer": "fc2"}])
        );
    }
}
