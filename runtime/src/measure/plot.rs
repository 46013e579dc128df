//! The roofline plot of a [`Measurement`] as SVG, drawn with `plotters`.
//!
//! Log-log axes: arithmetic intensity (FLOP/byte) against achieved GFLOP/s.
//! The roof is the bandwidth slope `intensity x bandwidth` up to the ridge
//! point and the flat peak after it; each layer is a dot coloured by its
//! kind, the whole network a black triangle. Every dot carries a `<title>`
//! (name, kind and figures, shown on hover in a browser); layers that cannot
//! sit on log axes (no FLOPs, or no measurable time) are listed in the
//! SVG's `<desc>`.

use super::{Figures, Measurement};
use crate::roofline::ridge_point;
use plotters::prelude::*;
use std::fmt;

/// Drawing the plot failed (plotters reported an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotError(pub String);

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the roofline plot: {}", self.0)
    }
}

impl std::error::Error for PlotError {}

fn err(e: impl fmt::Display) -> PlotError {
    PlotError(e.to_string())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `(intensity, GFLOP/s)` of a layer that can sit on log axes.
fn point(f: &Figures) -> Option<(f64, f64)> {
    let rate = f.flop_rate? / 1e9;
    (f.intensity > 0.0 && rate > 0.0 && rate.is_finite()).then_some((f.intensity, rate))
}

fn tooltip(f: &Figures) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
    format!(
        "{} ({}): {:.3} ms, {:.2} GFLOP/s, {} of peak, {:.2} FLOP/B, {}-bound, {} of roofline",
        f.name,
        f.kind,
        f.time.median * 1e3,
        f.flop_rate.unwrap_or(0.0) / 1e9,
        pct(f.utilization),
        f.intensity,
        f.bound,
        pct(f.roofline_efficiency)
    )
}

impl Measurement {
    /// The roofline plot as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let peak = self.profile.peak_flops / 1e9;
        let bw = self.profile.bandwidth / 1e9;
        let ridge = ridge_point(self.profile.peak_flops, self.profile.bandwidth);
        let points: Vec<(&Figures, (f64, f64))> = self
            .layers
            .iter()
            .filter_map(|f| point(f).map(|p| (f, p)))
            .collect();
        let total = point(&self.total);
        let all = points.iter().map(|(_, p)| *p).chain(total);
        let (mut x0, mut x1, mut y0) = (f64::INFINITY, 0.0f64, f64::INFINITY);
        for (x, y) in all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
        }
        if ridge > 0.0 {
            x0 = x0.min(ridge);
            x1 = x1.max(ridge);
        }
        if !x0.is_finite() || x1 <= 0.0 {
            (x0, x1) = (0.01, 100.0);
        }
        let (x0, x1) = (x0 / 2.0, x1 * 2.0);
        if bw > 0.0 {
            y0 = y0.min(x0 * bw);
        }
        if !y0.is_finite() || y0 <= 0.0 {
            y0 = peak.max(1.0) / 1e4;
        }
        let y0 = y0 / 2.0;
        let y1 = (peak.max(y0) * 2.0).max(y0 * 10.0);

        let mut kinds: Vec<&str> = Vec::new();
        for (f, _) in &points {
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(&f.kind);
            }
        }

        let mut svg = String::new();
        let mut targets = Vec::new();
        {
            let root = SVGBackend::with_string(&mut svg, (1000, 680)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    format!(
                        "{} (batch {}) on {}",
                        self.network, self.batch, self.profile.name
                    ),
                    ("sans-serif", 20),
                )
                .margin(16)
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("arithmetic intensity (FLOP/byte)")
                .y_desc("achieved GFLOP/s")
                .x_label_formatter(&|v| format!("{v:.3}"))
                .y_label_formatter(&|v| format!("{v:.3}"))
                .draw()
                .map_err(err)?;

            let mut roof = Vec::new();
            if bw > 0.0 && ridge > x0 {
                roof.push((x0, x0 * bw));
                roof.push((ridge, peak));
            } else {
                roof.push((x0, peak));
            }
            roof.push((x1, peak));
            chart
                .draw_series(LineSeries::new(roof, BLACK.stroke_width(2)))
                .map_err(err)?
                .label(format!(
                    "roofline: peak {peak:.1} GFLOP/s, {bw:.1} GB/s, ridge {ridge:.2} FLOP/B"
                ))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });

            for (k, kind) in kinds.iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                let series = points
                    .iter()
                    .filter(|(f, _)| f.kind == *kind)
                    .map(|(_, p)| Circle::new(*p, 4, color.filled()));
                chart
                    .draw_series(series)
                    .map_err(err)?
                    .label(*kind)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            }
            if let Some(p) = total {
                chart
                    .draw_series(std::iter::once(TriangleMarker::new(p, 9, BLACK.filled())))
                    .map_err(err)?
                    .label(format!("whole network: {:.2} GFLOP/s", p.1))
                    .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, BLACK.filled()));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;

            for (f, p) in &points {
                targets.push((chart.backend_coord(p), tooltip(f)));
            }
            if let Some(p) = total {
                targets.push((chart.backend_coord(&p), tooltip(&self.total)));
            }
            root.present().map_err(err)?;
        }

        // Hover targets with titles, and the layers the log axes cannot show.
        let mut extra = String::from("<g class=\"layers\">\n");
        for ((x, y), title) in targets {
            extra.push_str(&format!(
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"6\" fill=\"black\" fill-opacity=\"0\"><title>{}</title></circle>\n",
                escape(&title)
            ));
        }
        extra.push_str("</g>\n");
        let hidden: Vec<String> = self
            .layers
            .iter()
            .filter(|f| point(f).is_none())
            .map(|f| escape(&format!("{} ({})", f.name, f.kind)))
            .collect();
        if !hidden.is_empty() {
            extra.push_str(&format!(
                "<desc>not plotted (no FLOPs or no measurable time): {}</desc>\n",
                hidden.join(", ")
            ));
        }
        match svg.rfind("</svg>") {
            Some(end) => svg.insert_str(end, &extra),
            None => return Err(PlotError("plotters wrote no closing </svg>".to_string())),
        }
        Ok(svg)
    }
}

#[cfg(test)]
mod tests {
    use crate::measure::tests::synthetic;

    #[test]
    fn svg_is_well_formed_and_names_every_layer() {
        let m = synthetic();
        let svg = m.to_svg().expect("the plot draws");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let text: String = doc
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        for l in &m.layers {
            assert!(text.contains(&l.name), "{} is missing", l.name);
        }
        // conv1 and relu are plotted with titles; flatten (no FLOPs) is described
        let titles = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .count();
        assert_eq!(titles, 3, "two layers and the network");
        assert!(text.contains("not plotted (no FLOPs or no measurable time): flatten (Flatten)"));
        assert!(text.contains("roofline: peak 100.0 GFLOP/s, 10.0 GB/s, ridge 10.00 FLOP/B"));
    }
}
