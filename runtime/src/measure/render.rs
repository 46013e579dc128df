//! A [`Measurement`] as a text table, Markdown and JSON.

use super::{Figures, Measurement};
use crate::roofline::ridge_point;
use std::fmt::Write;

fn opt(v: Option<f64>, scale: f64, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.digits$}", v * scale))
}

/// The cells of one row, in column order.
fn cells(index: &str, f: &Figures) -> [String; 15] {
    [
        index.to_string(),
        f.name.clone(),
        f.kind.clone(),
        format!("{:.3}", f.time.median * 1e3),
        format!("{:.3}-{:.3}", f.time.min * 1e3, f.time.max * 1e3),
        opt(f.share, 100.0, 1),
        opt(f.flop_rate, 1e-9, 2),
        opt(f.mac_rate, 1e-9, 2),
        opt(f.utilization, 100.0, 1),
        opt(f.byte_rate, 1e-9, 2),
        opt(f.bandwidth_utilization, 100.0, 1),
        format!("{:.2}", f.intensity),
        format!("{:.2}", f.attainable * 1e-9),
        f.bound.to_string(),
        opt(f.roofline_efficiency, 100.0, 1),
    ]
}

const HEADERS: [&str; 15] = [
    "#",
    "layer",
    "kind",
    "ms",
    "min-max ms",
    "%time",
    "GFLOP/s",
    "GMAC/s",
    "%peak",
    "GB/s",
    "%bw",
    "FLOP/B",
    "roof GFLOP/s",
    "bound",
    "%roof",
];

impl Measurement {
    /// Title lines shared by the text and Markdown renderings.
    fn title(&self) -> [String; 2] {
        let p = &self.profile;
        [
            format!(
                "{}, batch {}, {} thread{}, on {}: peak {:.2} GFLOP/s, bandwidth {:.2} GB/s, ridge point {:.2} FLOP/B",
                self.network,
                self.batch,
                self.threads,
                if self.threads == 1 { "" } else { "s" },
                p.name,
                p.peak_flops / 1e9,
                p.bandwidth / 1e9,
                ridge_point(p.peak_flops, p.bandwidth)
            ),
            format!(
                "median of {} runs after {} warm-up (min-max: spread); %time: share of the network's median; %peak, %bw, %roof: achieved / peak, bandwidth, roofline",
                self.runs, self.warmup
            ),
        ]
    }

    /// A note when some layer moved bytes faster than the profile's
    /// bandwidth: its data came from cache, not from the memory the triad measures.
    fn cache_note(&self) -> Option<String> {
        let over: Vec<&str> = self
            .layers
            .iter()
            .filter(|f| f.bandwidth_utilization.is_some_and(|u| u > 1.0))
            .map(|f| f.name.as_str())
            .collect();
        (!over.is_empty()).then(|| {
            format!(
                "{} of {} layers exceed 100% of the bandwidth: their bytes came from cache, which is faster than the memory the bandwidth was measured on",
                over.len(),
                self.layers.len()
            )
        })
    }

    fn rows(&self) -> Vec<[String; 15]> {
        let mut rows: Vec<[String; 15]> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, f)| cells(&i.to_string(), f))
            .collect();
        rows.push(cells("", &self.total));
        rows
    }

    /// A fixed-width table: one row per layer, then the total.
    pub fn to_text(&self) -> String {
        let rows = self.rows();
        let mut widths = HEADERS.map(str::len);
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                // name, kind and bound read left-aligned, numbers right-aligned
                if matches!(i, 1 | 2 | 13) {
                    let _ = write!(s, "{c:<w$}  ");
                } else {
                    let _ = write!(s, "{c:>w$}  ");
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        for t in self.title() {
            out.push_str(&t);
            out.push('\n');
        }
        let header = line(&HEADERS.map(String::from));
        let rule = "-".repeat(header.chars().count());
        out.push_str(&header);
        out.push('\n');
        out.push_str(&rule);
        out.push('\n');
        let (total, layers) = rows
            .split_last()
            .map_or((None, &rows[..]), |(t, l)| (Some(t), l));
        for row in layers {
            out.push_str(&line(row));
            out.push('\n');
        }
        if let Some(total) = total {
            out.push_str(&rule);
            out.push('\n');
            out.push_str(&line(total));
            out.push('\n');
        }
        if let Some(note) = self.cache_note() {
            out.push_str(&note);
            out.push('\n');
        }
        out
    }

    /// A Markdown table: one row per layer, then the total in bold.
    pub fn to_markdown(&self) -> String {
        let [a, b] = self.title();
        let mut out = format!("**{a}**\n\n{b}\n\n");
        let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
        let align: Vec<&str> = (0..HEADERS.len())
            .map(|i| {
                if matches!(i, 1 | 2 | 13) {
                    ":---"
                } else {
                    "---:"
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", align.join(" | "));
        let rows = self.rows();
        let last = rows.len().saturating_sub(1);
        for (r, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .map(|c| {
                    let c = c.replace('|', "\\|");
                    if r == last && !c.is_empty() {
                        format!("**{c}**")
                    } else {
                        c
                    }
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if let Some(note) = self.cache_note() {
            let _ = writeln!(out, "\n{note}");
        }
        out
    }

    /// The measurement as pretty-printed JSON (times in seconds, rates per
    /// second, `null` where a figure is undefined).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crate::measure::tests::synthetic;

    #[test]
    fn text() {
        insta::assert_snapshot!(synthetic().to_text());
    }

    #[test]
    fn markdown() {
        insta::assert_snapshot!(synthetic().to_markdown());
    }

    #[test]
    fn json() {
        let json = synthetic().to_json();
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back["layers"][0]["name"], "conv1");
        insta::assert_snapshot!(json);
    }
}
