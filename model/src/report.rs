//! The text report: one row per layer, indented by hierarchy, then totals.
//!
//! The compiler renders it into each network's `REPORT` const; the runtime
//! renders the same rows as Markdown, JSON and CSV.

use crate::convention::{Convention, Counts};
use crate::cost::Costs;
use crate::format::{bytes, shape, si, thousands, Text};
use crate::info::{Graph, LayerInfo};
use crate::metric::{push_value, Metric, Unit};
use crate::op::Op;
use crate::training::{Optimizer, Precision};
use std::collections::HashMap;

/// One row of the report: a scope header or a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Nesting depth (0 at the top).
    pub depth: usize,
    /// The path relative to the enclosing scope.
    pub label: String,
    /// Full dotted path.
    pub path: String,
    /// Block or layer kind.
    pub kind: String,
    /// Output shape (layers only).
    pub output: Option<Vec<usize>>,
    /// The layer's costs, or the sums over a scope's layers (saturating).
    pub costs: Costs,
    /// For a module applied more than once (shared weights): `(k, n)`, this
    /// row is its `k`-th application of `n`. The first carries the params;
    /// the later ones count 0 params and every MAC again.
    pub application: Option<(usize, usize)>,
}

impl Row {
    /// `label (kind)`, with `, application k of n` for a shared module.
    pub fn title(&self) -> String {
        match self.application {
            Some((k, n)) => format!("{} ({}, application {k} of {n})", self.label, self.kind),
            None => format!("{} ({})", self.label, self.kind),
        }
    }
}

fn in_scope(name: &str, scope: &str) -> bool {
    name.len() > scope.len() && name.starts_with(scope) && name.as_bytes()[scope.len()] == b'.'
}

/// The scopes containing layer `layer` named `name`, outermost first: for
/// every prefix of the dotted path that is a scope's path (`layer1`,
/// `layer1.0` for `layer1.0.conv1`), and the path itself when it is one (a
/// block's own tensors, `"": LayerNorm`), the scope of that path the layer
/// belongs to: the last one started at or before it (a block module has a
/// scope per application, one after the other).
fn chain(
    name: &str,
    layer: usize,
    graph: &Graph<'_>,
    index: &HashMap<&str, Vec<usize>>,
) -> Vec<usize> {
    let at = |path: &str| -> Option<usize> {
        let entries = index.get(path)?;
        entries
            .iter()
            .rev()
            .find(|&&s| graph.scopes.get(s).is_some_and(|sc| sc.start <= layer))
            .or(entries.first())
            .copied()
    };
    name.match_indices('.')
        .filter_map(|(i, _)| at(&name[..i]))
        .chain(at(name))
        .collect()
}

/// The report's rows: each scope appears once, before its first layer, with
/// the sums over its layers; a layer is labelled relative to its innermost
/// scope. A block module applied several times appears once per
/// application, each with its own sums; a shared layer's rows say which
/// application each is. Linear in layers times nesting depth.
pub fn rows(graph: &Graph<'_>) -> Vec<Row> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, scope) in graph.scopes.iter().enumerate() {
        index.entry(scope.path).or_default().push(i);
    }
    // How many applications each block module's path has.
    let applications = |path: &str| -> usize {
        index.get(path).map_or(0, |e| {
            e.iter()
                .filter(|&&s| graph.scopes.get(s).is_some_and(|sc| sc.application > 0))
                .count()
        })
    };
    let chains: Vec<Vec<usize>> = graph
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| chain(l.name, i, graph, &index))
        .collect();
    let mut sums = vec![Costs::ZERO; graph.scopes.len()];
    for (info, chain) in graph.layers.iter().zip(&chains) {
        for &s in chain {
            sums[s] = sums[s].saturating_add(&info.costs);
        }
    }
    let scope_application = |s: usize| -> Option<(usize, usize)> {
        let scope = graph.scopes.get(s)?;
        let n = applications(scope.path);
        (scope.application > 0 && n > 1).then_some((scope.application, n))
    };
    // The layers that share tensors: each owner's applications so far, and
    // in all.
    let mut group = vec![0usize; graph.layers.len()];
    for i in 0..graph.layers.len() {
        if let Some(g) = group.get_mut(graph.tensor_owner(i)) {
            *g += 1;
        }
    }
    let mut seen = vec![0usize; graph.layers.len()];
    let mut out = Vec::new();
    let mut opened = vec![false; graph.scopes.len()];
    for (i, (info, chain)) in graph.layers.iter().zip(&chains).enumerate() {
        for (depth, &s) in chain.iter().enumerate() {
            if opened[s] {
                continue;
            }
            opened[s] = true;
            let scope = &graph.scopes[s];
            let parent = depth.checked_sub(1).map(|d| graph.scopes[chain[d]].path);
            out.push(Row {
                depth,
                label: relative(scope.path, parent).to_string(),
                path: scope.path.to_string(),
                kind: scope.kind.to_string(),
                output: None,
                costs: sums[s],
                application: scope_application(s),
            });
        }
        let parent = chain.last().map(|&s| graph.scopes[s].path);
        let mut row = layer_row(info, chain.len(), relative(info.name, parent));
        let owner = graph.tensor_owner(i);
        if let (Some(&n), Some(k)) = (group.get(owner), seen.get_mut(owner)) {
            *k += 1;
            // Marked here unless a block module's header already says it.
            if n > 1 && !chain.iter().any(|&s| scope_application(s).is_some()) {
                row.application = Some((*k, n));
            }
        }
        out.push(row);
    }
    out
}

fn relative<'a>(path: &'a str, parent: Option<&str>) -> &'a str {
    match parent {
        Some(p) if in_scope(path, p) => &path[p.len() + 1..],
        // The scope's own layer (its tensors are the block's own).
        Some(p) if p == path => "self",
        _ => path,
    }
}

fn layer_row(info: &LayerInfo<'_>, depth: usize, label: &str) -> Row {
    Row {
        depth,
        label: label.to_string(),
        path: info.name.to_string(),
        kind: info.kind.to_string(),
        output: Some(info.output.to_vec()),
        costs: info.costs,
        application: None,
    }
}

fn count(n: u64) -> String {
    if n == 0 {
        "-".to_string()
    } else {
        si(n)
    }
}

/// The output shape of the graph (its first output's, for a network that
/// returns several).
pub fn output_shape<'a>(graph: &Graph<'a>) -> &'a [usize] {
    graph.value_shape(graph.output).unwrap_or(graph.input)
}

/// What the report's first line says of the outputs: `output [10]`, or for
/// a network returning several, `outputs [10] (fc), [4, 8, 8] (aux.conv)`,
/// each with the layer that makes it (`input` for the input itself).
pub fn outputs_text(graph: &Graph<'_>) -> String {
    let values = graph.output_values();
    if values.len() == 1 {
        return format!("output {}", shape(output_shape(graph)));
    }
    let all: Vec<String> = values
        .iter()
        .map(|&v| {
            let by = match v.checked_sub(1) {
                None => "input",
                Some(i) => graph.layers.get(i).map_or("?", |l| l.name),
            };
            format!("{} ({by})", shape(graph.value_shape(v).unwrap_or(&[])))
        })
        .collect();
    format!("outputs {}", all.join(", "))
}

/// The totals as labelled lines, shared by every rendering of the report:
/// the layer count, then every [`Metric`] in [`Metric::REPORT`] order,
/// each as its unit prints it (buffers with their element count).
pub fn total_lines(graph: &Graph<'_>) -> Vec<(&'static str, String)> {
    let t = &graph.totals;
    let mut lines = vec![("layers", thousands(graph.layers.len() as u64))];
    for metric in Metric::REPORT {
        let value = match metric {
            Metric::Buffers => {
                let mut v = Text::<96>::new();
                push_value(&mut v, Unit::Bytes, t.buffer_bytes);
                v.push_str(", ");
                v.push_thousands(t.buffers);
                v.push_str(" elements");
                v.as_str().to_string()
            }
            _ => {
                let mut v = Text::<96>::new();
                push_value(&mut v, metric.unit(), metric.get(t));
                v.as_str().to_string()
            }
        };
        lines.push((metric.report_label(), value));
    }
    lines
}

/// Renders the text report of `graph`. Deterministic: the same graph always
/// gives the same bytes.
pub fn render_text(graph: &Graph<'_>) -> String {
    let rows = rows(graph);
    let header = [
        "Layer (kind)",
        "Output shape",
        "Params",
        "MACs",
        "FLOPs",
        "Mem access",
    ];
    let mut table: Vec<[String; 6]> = Vec::with_capacity(rows.len());
    for r in &rows {
        table.push([
            format!("{}{}", "  ".repeat(r.depth), r.title()),
            r.output.as_deref().map(shape).unwrap_or_default(),
            if r.costs.params == 0 {
                "-".to_string()
            } else {
                thousands(r.costs.params)
            },
            count(r.costs.macs),
            count(r.costs.flops),
            if r.costs.memory_access_bytes == 0 {
                "-".to_string()
            } else {
                bytes(r.costs.memory_access_bytes)
            },
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let total_width = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let rule = |c: char| c.to_string().repeat(total_width);
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i < 2 {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string()
    };
    let mut out = String::new();
    out.push_str(&format!(
        "{}: input {} -> {} (per sample)\n",
        graph.name,
        shape(graph.input),
        outputs_text(graph)
    ));
    out.push_str(&rule('='));
    out.push('\n');
    out.push_str(&line(header));
    out.push('\n');
    out.push_str(&rule('-'));
    out.push('\n');
    for row in &table {
        out.push_str(&line([
            &row[0], &row[1], &row[2], &row[3], &row[4], &row[5],
        ]));
        out.push('\n');
    }
    out.push_str(&rule('='));
    out.push('\n');
    let totals = total_lines(graph);
    for (k, v) in totals {
        out.push_str(&format!("{k:<17} {v}\n"));
    }
    out.push_str("MACs: multiply-accumulates of every matrix product (conv, linear, matmul), bias excluded; FLOPs: every layer, 2 per MAC\n");
    out.push('\n');
    out.push_str(TRAINING_TITLE);
    out.push_str(":\n");
    for (k, v) in training_lines(graph) {
        out.push_str(&format!("  {k:<20} {v}\n"));
    }
    out.push('\n');
    out.push_str(&render_conventions(graph));
    out
}

/// The batch at which the reports show a training step's memory.
pub const REPORT_BATCH: u64 = 64;

/// The title of the training section.
pub const TRAINING_TITLE: &str =
    "Training step (per sample unless said; backward of a loss, input without grad)";

/// The training section as labelled lines, shared by every rendering of
/// the report: backward and training-step MACs and FLOPs, PyTorch's
/// `FlopCounterMode` count, what autograd keeps, and the memory of a step
/// at [`REPORT_BATCH`] with each optimizer.
pub fn training_lines(graph: &Graph<'_>) -> Vec<(&'static str, String)> {
    let t = &graph.totals;
    let tr = &t.training;
    let count = |n: u64| {
        let mut v = Text::<96>::new();
        push_value(&mut v, Unit::Count, n);
        v.as_str().to_string()
    };
    let size = |n: u64| {
        let mut v = Text::<96>::new();
        push_value(&mut v, Unit::Bytes, n);
        v.as_str().to_string()
    };
    let memory = |precision: Precision| {
        let all: Vec<String> = Optimizer::ALL
            .iter()
            .map(|&o| {
                let m = t.train_memory(REPORT_BATCH, o, precision);
                format!("{} {}", o.label(), bytes(m))
            })
            .collect();
        all.join(", ")
    };
    let torch = if tr.torch_backward_macs == tr.backward_macs() {
        String::new()
    } else {
        " (grouped convolutions' grad-weight counted `groups` times)".to_string()
    };
    let stats = tr.saved_bytes(0);
    let per_sample = tr.saved_bytes(1).saturating_sub(stats);
    let saved = if stats == 0 {
        format!("{} per sample", size(per_sample))
    } else {
        format!(
            "{} per sample + {} whatever the batch (batch-norm statistics, gather indices)",
            size(per_sample),
            bytes(stats)
        )
    };
    vec![
        (
            "backward MACs",
            format!(
                "{}: grad-input {} + grad-weight {}",
                count(tr.backward_macs()),
                si(tr.grad_input_macs),
                si(tr.grad_weight_macs)
            ),
        ),
        (
            "backward FLOPs",
            format!(
                "{}: grad-input {} + grad-weight {}",
                count(tr.backward_flops()),
                si(tr.grad_input_flops),
                si(tr.grad_weight_flops)
            ),
        ),
        ("train MACs", count(t.train_macs())),
        ("train FLOPs", count(t.train_flops())),
        (
            "FlopCounterMode",
            format!("{} backward MACs{torch}", count(tr.torch_backward_macs)),
        ),
        ("saved for backward", saved),
        ("memory, batch 64", memory(Precision::F32)),
        ("mixed precision", memory(Precision::Mixed)),
    ]
}

/// The layers of one kind in the conventions section: their number, the sums
/// of their counts and each convention's rule for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindRow {
    /// The kind, qualified where the rules differ: `Conv2d + bias`,
    /// `GELU tanh`, `ReLU (functional)` for a functional call.
    pub label: String,
    /// Layers of this kind.
    pub layers: u64,
    /// The sums of their counts.
    pub counts: Counts,
    /// Each convention's rule, in [`Convention::ALL`] order (`None` when the
    /// graph has no operations to read them from).
    pub rules: Option<[&'static str; 5]>,
}

/// The label a layer is grouped under: its kind, with what changes a rule.
fn kind_label(info: &LayerInfo<'_>, op: Option<&Op>) -> String {
    let mut label = info.kind.to_string();
    match op {
        Some(Op::Conv2d(c) | Op::Conv1d(c)) if c.bias => label.push_str(" + bias"),
        Some(Op::Linear(l) | Op::MhaInProj { linear: l, .. }) if l.bias => {
            label.push_str(" + bias")
        }
        Some(Op::Activation(crate::op::Activation::GELU { tanh: true })) => label.push_str(" tanh"),
        // Inside a scaled dot-product attention: one call the tools see whole.
        Some(Op::Matmul { fused: true, .. } | Op::Softmax { fused: true, .. }) => {
            label.push_str(" fused")
        }
        Some(Op::LayerNorm(crate::op::LayerNorm { affine: false, .. }))
        | Some(Op::GroupNorm(crate::op::GroupNorm { affine: false, .. })) => {
            label.push_str(" no affine")
        }
        _ => {}
    }
    if !info.module {
        label.push_str(" (functional)");
    }
    label
}

fn saturating_sum(a: Counts, b: &Counts) -> Counts {
    a.checked_add(b).unwrap_or(Counts {
        torchvision: a.torchvision.saturating_add(b.torchvision),
        fvcore: a.fvcore.saturating_add(b.fvcore),
        thop: a.thop.saturating_add(b.thop),
        ptflops: a.ptflops.saturating_add(b.ptflops),
        flops: a.flops.saturating_add(b.flops),
    })
}

/// One row per layer kind (and per module / functional use), in order of
/// first appearance.
pub fn kind_rows(graph: &Graph<'_>) -> Vec<KindRow> {
    let mut out: Vec<KindRow> = Vec::new();
    for (i, info) in graph.layers.iter().enumerate() {
        let op = graph.nodes.get(i).map(|n| &n.op);
        let label = kind_label(info, op);
        let row = match out.iter().position(|r| r.label == label) {
            Some(at) => &mut out[at],
            None => {
                out.push(KindRow {
                    label,
                    layers: 0,
                    counts: Counts::ZERO,
                    rules: op.map(|op| Convention::ALL.map(|c| c.rule(op, info.module))),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        row.layers += 1;
        row.counts = saturating_sum(row.counts, &info.counts);
    }
    out
}

/// The conventions section of the report: the network's total under every
/// [`Convention`] with where it comes from, then per layer kind what each
/// convention counts, so that the differences between the totals can be
/// read off. Deterministic.
pub fn render_conventions(graph: &Graph<'_>) -> String {
    let mut out =
        String::from("Counting conventions (per sample; every tool calls its number \"FLOPs\"):\n");
    let totals: Vec<String> = Convention::ALL
        .iter()
        .map(|&c| {
            let n = graph.totals.count_as(c);
            format!("{} ({})", thousands(n), si(n))
        })
        .collect();
    let width = totals.iter().map(String::len).max().unwrap_or(0);
    for (c, total) in Convention::ALL.iter().zip(&totals) {
        out.push_str(&format!(
            "  {:<12} {total:>width$}  {}\n",
            c.name(),
            c.source()
        ));
    }
    out.push_str("Per layer kind, summed over its layers:\n");
    let rows = kind_rows(graph);
    let mut table: Vec<[String; 7]> = vec![[
        "kind".to_string(),
        "layers".to_string(),
        Convention::ALL[0].name().to_string(),
        Convention::ALL[1].name().to_string(),
        Convention::ALL[2].name().to_string(),
        Convention::ALL[3].name().to_string(),
        Convention::ALL[4].name().to_string(),
    ]];
    for r in &rows {
        let c = Convention::ALL.map(|c| count(r.counts.get(c)));
        let [a, b, d, e, f] = c;
        table.push([r.label.clone(), thousands(r.layers), a, b, d, e, f]);
    }
    let mut widths = [0usize; 7];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &table {
        let mut line = format!("  {:<w$}", row[0], w = widths[0]);
        for (cell, w) in row.iter().zip(widths).skip(1) {
            line.push_str(&format!("  {cell:>w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(
        "Rules per layer kind (per element of the output unless said; MACs exclude bias):\n",
    );
    for r in &rows {
        let Some(rules) = r.rules else { continue };
        let parts: Vec<String> = Convention::ALL
            .iter()
            .zip(rules)
            .map(|(c, rule)| format!("{} {rule}", c.name()))
            .collect();
        out.push_str(&format!("  {}: {}\n", r.label, parts.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{Node, Scope, Totals};
    use crate::op::{Activation, Linear};

    const fn layer(name: &'static str, kind: &'static str, params: u64) -> LayerInfo<'static> {
        LayerInfo::from_parts(
            name,
            kind,
            true,
            &[],
            &[4],
            [params, 0, 16, 32, 0, 4],
            [0; 5],
        )
    }

    const FC: Op = Op::Linear(Linear {
        in_features: 4,
        out_features: 4,
        bias: true,
    });
    const RELU: Op = Op::Activation(Activation::ReLU);

    /// `x -> step -> step` for a block module `step`, then a tied `fc`
    /// applied twice; returns `(fc, x)`.
    static GRAPH: Graph<'static> = Graph {
        name: "Shared",
        input: &[4],
        nodes: &[
            Node::new(FC, &[0]),
            Node::new(RELU, &[1]),
            Node::shared(FC, &[2], 0),
            Node::new(RELU, &[3]),
            Node::new(FC, &[4]),
            Node::shared(FC, &[5], 4),
        ],
        layers: &[
            layer("step.lin", "Linear", 20),
            layer("step.relu", "ReLU", 0),
            layer("step.lin", "Linear", 0),
            layer("step.relu", "ReLU", 0),
            layer("fc", "Linear", 20),
            layer("fc", "Linear", 0),
        ],
        output: 6,
        outputs: &[6, 0],
        scopes: &[
            Scope::applied("step", "Refine", 0, 1),
            Scope::applied("step", "Refine", 2, 2),
        ],
        constants: &[],
        totals: Totals::ZERO,
    };

    #[test]
    fn each_application_has_its_rows() {
        let titles: Vec<(usize, String, u64)> = rows(&GRAPH)
            .iter()
            .map(|r| (r.depth, r.title(), r.costs.params))
            .collect();
        let want = [
            (0, "step (Refine, application 1 of 2)", 20),
            (1, "lin (Linear)", 20),
            (1, "relu (ReLU)", 0),
            (0, "step (Refine, application 2 of 2)", 0),
            (1, "lin (Linear)", 0),
            (1, "relu (ReLU)", 0),
            (0, "fc (Linear, application 1 of 2)", 20),
            (0, "fc (Linear, application 2 of 2)", 0),
        ];
        let want: Vec<(usize, String, u64)> = want
            .iter()
            .map(|(d, t, p)| (*d, t.to_string(), *p))
            .collect();
        assert_eq!(titles, want);
        // Each header sums its own application: 2 layers of 16 MACs.
        let headers: Vec<u64> = rows(&GRAPH)
            .iter()
            .filter(|r| r.output.is_none())
            .map(|r| r.costs.macs)
            .collect();
        assert_eq!(headers, [32, 32]);
    }

    #[test]
    fn every_output_is_listed() {
        assert_eq!(outputs_text(&GRAPH), "outputs [4] (fc), [4] (input)");
        let text = render_text(&GRAPH);
        assert!(
            text.starts_with("Shared: input [4] -> outputs [4] (fc), [4] (input) (per sample)\n"),
            "{text}"
        );
        let one = Graph {
            outputs: &[],
            ..GRAPH
        };
        assert_eq!(outputs_text(&one), "output [4]");
        assert_eq!(one.output_values(), [6]);
    }
}
