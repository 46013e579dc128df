//! The text report: one row per layer, indented by hierarchy, then totals.
//!
//! The compiler renders it into each network's `REPORT` const; the runtime
//! renders the same rows as Markdown, JSON and CSV.

use crate::format::{bytes, shape, si, thousands};
use crate::info::{Graph, LayerInfo};

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
    /// Params, MACs, FLOPs and bytes moved (summed over a scope's layers).
    pub params: u64,
    /// MACs.
    pub macs: u64,
    /// FLOPs.
    pub flops: u64,
    /// Bytes moved.
    pub memory_access_bytes: u64,
}

fn in_scope(name: &str, scope: &str) -> bool {
    name.len() > scope.len() && name.starts_with(scope) && name.as_bytes()[scope.len()] == b'.'
}

/// The report's rows: each scope appears once, before its first layer, with
/// the sums over its layers; a layer is labelled relative to its innermost scope.
pub fn rows(graph: &Graph<'_>) -> Vec<Row> {
    let mut out = Vec::new();
    let mut opened = vec![false; graph.scopes.len()];
    for info in graph.layers {
        // Scopes containing this layer, outermost first (a shorter path is an ancestor).
        let mut chain: Vec<usize> = (0..graph.scopes.len())
            .filter(|&s| in_scope(info.name, graph.scopes[s].path))
            .collect();
        chain.sort_by_key(|&s| graph.scopes[s].path.len());
        for (depth, &s) in chain.iter().enumerate() {
            if opened[s] {
                continue;
            }
            opened[s] = true;
            let scope = &graph.scopes[s];
            let parent = depth.checked_sub(1).map(|d| graph.scopes[chain[d]].path);
            let members = graph.layers.iter().filter(|l| in_scope(l.name, scope.path));
            let mut row = Row {
                depth,
                label: relative(scope.path, parent).to_string(),
                path: scope.path.to_string(),
                kind: scope.kind.to_string(),
                output: None,
                params: 0,
                macs: 0,
                flops: 0,
                memory_access_bytes: 0,
            };
            for l in members {
                row.params = row.params.saturating_add(l.params);
                row.macs = row.macs.saturating_add(l.macs);
                row.flops = row.flops.saturating_add(l.flops);
                row.memory_access_bytes = row
                    .memory_access_bytes
                    .saturating_add(l.memory_access_bytes);
            }
            out.push(row);
        }
        let parent = chain.last().map(|&s| graph.scopes[s].path);
        out.push(layer_row(info, chain.len(), relative(info.name, parent)));
    }
    out
}

fn relative<'a>(path: &'a str, parent: Option<&str>) -> &'a str {
    match parent {
        Some(p) if in_scope(path, p) => &path[p.len() + 1..],
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
        params: info.params,
        macs: info.macs,
        flops: info.flops,
        memory_access_bytes: info.memory_access_bytes,
    }
}

fn count(n: u64) -> String {
    if n == 0 {
        "-".to_string()
    } else {
        si(n)
    }
}

/// The output shape of the graph.
pub fn output_shape<'a>(graph: &Graph<'a>) -> &'a [usize] {
    match graph
        .output
        .checked_sub(1)
        .and_then(|i| graph.layers.get(i))
    {
        Some(info) => info.output,
        None => graph.input,
    }
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
            format!("{}{} ({})", "  ".repeat(r.depth), r.label, r.kind),
            r.output.as_deref().map(shape).unwrap_or_default(),
            if r.params == 0 {
                "-".to_string()
            } else {
                thousands(r.params)
            },
            count(r.macs),
            count(r.flops),
            if r.memory_access_bytes == 0 {
                "-".to_string()
            } else {
                bytes(r.memory_access_bytes)
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
    let t = &graph.totals;
    let mut out = String::new();
    out.push_str(&format!(
        "{}: input {} -> output {} (per sample)\n",
        graph.name,
        shape(graph.input),
        shape(output_shape(graph))
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
    let totals: [(&str, String); 9] = [
        ("layers", thousands(graph.layers.len() as u64)),
        (
            "params",
            format!("{} ({})", thousands(t.params), si(t.params)),
        ),
        ("MACs", format!("{} ({})", thousands(t.macs), si(t.macs))),
        ("FLOPs", format!("{} ({})", thousands(t.flops), si(t.flops))),
        (
            "memory access",
            format!(
                "{} B ({})",
                thousands(t.memory_access_bytes),
                bytes(t.memory_access_bytes)
            ),
        ),
        (
            "activations",
            format!("{} ({})", thousands(t.activations), si(t.activations)),
        ),
        (
            "weights (f32)",
            format!(
                "{} B ({})",
                thousands(t.weight_bytes),
                bytes(t.weight_bytes)
            ),
        ),
        (
            "buffers (f32)",
            format!(
                "{} B ({}), {} elements",
                thousands(t.buffer_bytes),
                bytes(t.buffer_bytes),
                thousands(t.buffers)
            ),
        ),
        (
            "peak activations",
            format!(
                "{} B ({})",
                thousands(t.peak_activation_bytes),
                bytes(t.peak_activation_bytes)
            ),
        ),
    ];
    for (k, v) in totals {
        out.push_str(&format!("{k:<17} {v}\n"));
    }
    out.push_str("MACs: conv and linear multiply-accumulates, bias excluded; FLOPs: every layer, 2 per MAC\n");
    out
}
