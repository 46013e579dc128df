//! The roofline model, without running anything: what a network costs at
//! best on a [`HardwareProfile`]. The formula itself is
//! `netspec_model::roofline`'s, shared with the `latency(<device>)` budget.
//!
//! A layer that does `F` FLOPs and moves `B` bytes takes at least
//! `max(F / peak, B / bandwidth)`: it cannot compute faster than the peak
//! nor move its bytes faster than the bandwidth. Its arithmetic intensity
//! `I = F / B` decides which limit binds: below the ridge point
//! `peak / bandwidth` the layer is memory-bound, at or above it
//! compute-bound, and the attainable rate is `min(peak, I x bandwidth)`.
//!
//! The network's lower bound, [`Estimate::latency`], is the sum of its
//! layers' bounds (layers run one after another). [`Estimate::fused_latency`]
//! applies the formula to the totals instead, the bound if every layer's
//! bytes and FLOPs could overlap: it is never larger.
//!
//! # Example
//! ```
//! use netspec::hardware::{presets, PresetProfile};
//! use netspec::zoo::ResNet18;
//! use netspec::Network;
//!
//! let e = netspec::roofline(ResNet18::GRAPH, &presets::RASPBERRY_PI_5.profile());
//! assert!(e.latency > 0.0 && e.fused_latency <= e.latency);
//! println!("{e}");
//! ```

use crate::hardware::HardwareProfile;
use netspec_model::roofline::{backward_flops_and_bytes, layer_times};
use netspec_model::Graph;
use serde::Serialize;
use std::fmt;

/// Which roof limits a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Arithmetic intensity at or above the ridge point: the peak limits it.
    Compute,
    /// Arithmetic intensity below the ridge point: the bandwidth limits it.
    Memory,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
        })
    }
}

pub use netspec_model::roofline::{attainable, ridge_point};

/// Compute-bound at or above the ridge point, memory-bound below it.
pub fn bound(intensity: f64, peak: f64, bandwidth: f64) -> Bound {
    if intensity >= ridge_point(peak, bandwidth) {
        Bound::Compute
    } else {
        Bound::Memory
    }
}

/// Bytes layer `i` of `graph` moves for a batch of `batch`: activations
/// scale with the batch, parameters are read once: `N x (bytes - 4 x params)
/// + 4 x params`, with a later application of a shared module reading its
/// owner's parameters ([`netspec_model::Graph::batch_bytes`]).
pub fn batch_bytes(graph: &Graph<'_>, i: usize, batch: u64) -> u64 {
    graph.batch_bytes(i, batch)
}

/// One layer's roofline bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerEstimate {
    /// Dotted name.
    pub name: String,
    /// Layer kind.
    pub kind: String,
    /// FLOPs for the batch.
    pub flops: u64,
    /// Bytes moved for the batch ([`batch_bytes`]).
    pub bytes: u64,
    /// `flops / bytes`, FLOP per byte (0 when nothing moves).
    pub intensity: f64,
    /// `flops / peak`, seconds.
    pub compute_time: f64,
    /// `bytes / bandwidth`, seconds.
    pub memory_time: f64,
    /// `max(compute_time, memory_time)`: the lower-bound latency, seconds.
    pub latency: f64,
    /// Which term is larger.
    pub bound: Bound,
}

/// A network's roofline bounds on a profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Network name.
    pub network: String,
    /// Profile name.
    pub profile: String,
    /// Peak FLOP/s used.
    pub peak_flops: f64,
    /// Bandwidth used, bytes/s.
    pub bandwidth: f64,
    /// Batch size.
    pub batch: u64,
    /// One bound per layer, in execution order.
    pub layers: Vec<LayerEstimate>,
    /// Sum of the layers' bounds, seconds: the lower bound for layer-by-layer execution.
    pub latency: f64,
    /// `max(total flops / peak, total bytes / bandwidth)`, seconds: the bound
    /// if all layers overlapped perfectly; never above `latency`.
    pub fused_latency: f64,
    /// Total FLOPs for the batch.
    pub flops: u64,
    /// Total bytes for the batch.
    pub bytes: u64,
}

/// Each layer's and the whole network's lower-bound latency on `profile`, batch 1.
pub fn estimate(graph: &Graph<'_>, profile: &HardwareProfile) -> Estimate {
    estimate_batch(graph, 1, profile)
}

/// [`estimate`] for a batch of `batch` samples.
pub fn estimate_batch(graph: &Graph<'_>, batch: u64, profile: &HardwareProfile) -> Estimate {
    summed(graph, batch, profile, forward_rows(graph, batch, profile))
}

/// One estimate per layer of the forward pass at `batch`, in order.
fn forward_rows(graph: &Graph<'_>, batch: u64, profile: &HardwareProfile) -> Vec<LayerEstimate> {
    graph
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let flops = l.flops.saturating_mul(batch);
            layer_estimate(
                l.name.to_string(),
                l.kind,
                flops,
                batch_bytes(graph, i, batch),
                profile,
            )
        })
        .collect()
}

/// The roofline lower bound of one training step at `batch` on `profile`,
/// without running anything: every layer's forward pass in order, then
/// every layer's backward pass in reverse order (named `<layer> (backward)`,
/// FLOPs and bytes by `netspec_model::roofline::backward_flops_and_bytes`).
/// The optimizer's update is not included. Layers without backward work
/// are left out of the backward rows.
///
/// ```
/// use netspec::hardware::{presets, PresetProfile};
/// use netspec::zoo::ResNet18;
/// use netspec::Network;
///
/// let p = presets::A100_SXM_80GB.profile();
/// let step = netspec::roofline::estimate_training(ResNet18::GRAPH, 64, &p);
/// let inference = netspec::roofline::estimate_batch(ResNet18::GRAPH, 64, &p);
/// assert!(step.latency > 2.0 * inference.latency);
/// ```
pub fn estimate_training(graph: &Graph<'_>, batch: u64, profile: &HardwareProfile) -> Estimate {
    let mut layers = forward_rows(graph, batch, profile);
    for l in graph.layers.iter().rev() {
        let (flops, bytes) = backward_flops_and_bytes(l, batch);
        if flops > 0 || bytes > 0 {
            let name = format!("{} (backward)", l.name);
            layers.push(layer_estimate(name, l.kind, flops, bytes, profile));
        }
    }
    summed(graph, batch, profile, layers)
}

/// One row's bound: `flops` and `bytes` on `profile`.
fn layer_estimate(
    name: String,
    kind: &str,
    flops: u64,
    bytes: u64,
    profile: &HardwareProfile,
) -> LayerEstimate {
    let times = layer_times(flops, bytes, profile.peak_flops, profile.bandwidth);
    LayerEstimate {
        name,
        kind: kind.to_string(),
        flops,
        bytes,
        intensity: if bytes == 0 {
            0.0
        } else {
            flops as f64 / bytes as f64
        },
        compute_time: times.compute,
        memory_time: times.memory,
        latency: times.latency(),
        bound: if times.compute_bound(flops) {
            Bound::Compute
        } else {
            Bound::Memory
        },
    }
}

/// The network's estimate from its rows.
fn summed(
    graph: &Graph<'_>,
    batch: u64,
    profile: &HardwareProfile,
    layers: Vec<LayerEstimate>,
) -> Estimate {
    let (peak, bw) = (profile.peak_flops, profile.bandwidth);
    let flops = layers.iter().fold(0u64, |a, l| a.saturating_add(l.flops));
    let bytes = layers.iter().fold(0u64, |a, l| a.saturating_add(l.bytes));
    Estimate {
        network: graph.name.to_string(),
        profile: profile.name.clone(),
        peak_flops: peak,
        bandwidth: bw,
        batch,
        latency: layers.iter().map(|l| l.latency).sum(),
        fused_latency: layer_times(flops, bytes, peak, bw).latency(),
        flops,
        bytes,
        layers,
    }
}

impl fmt::Display for Estimate {
    /// A table of every layer's bound, then the network's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} on {} (peak {:.1} GFLOP/s, {:.1} GB/s, ridge {:.2} FLOP/B), batch {}",
            self.network,
            self.profile,
            self.peak_flops / 1e9,
            self.bandwidth / 1e9,
            ridge_point(self.peak_flops, self.bandwidth),
            self.batch
        )?;
        let name_w = self
            .layers
            .iter()
            .map(|l| l.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<name_w$}  {:<17} {:>10} {:>10} {:>8} {:>12}  bound",
            "layer", "kind", "FLOPs", "bytes", "FLOP/B", "latency us"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<name_w$}  {:<17} {:>10} {:>10} {:>8.2} {:>12.3}  {}",
                l.name,
                l.kind,
                netspec_model::format::si(l.flops),
                netspec_model::format::si(l.bytes),
                l.intensity,
                l.latency * 1e6,
                l.bound
            )?;
        }
        write!(
            f,
            "lower bound {:.3} ms layer by layer ({:.3} ms if all layers overlapped): {} FLOPs, {} bytes",
            self.latency * 1e3,
            self.fused_latency * 1e3,
            netspec_model::format::si(self.flops),
            netspec_model::format::si(self.bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netspec_model::{LayerInfo, Totals};

    const CONV_IN: &[usize] = &[3, 8, 8];
    const CONV_OUT: &[usize] = &[4, 8, 8];

    fn layer(
        name: &'static str,
        kind: &'static str,
        params: u64,
        flops: u64,
        bytes: u64,
    ) -> LayerInfo<'static> {
        LayerInfo::from_parts(
            name,
            kind,
            true,
            &[CONV_IN],
            CONV_OUT,
            [params, 0, flops / 2, flops, bytes, 256],
            [0; 5],
        )
    }

    #[test]
    fn bounds_by_hand() {
        let layers = [
            // 1000 FLOPs, 100 bytes (10 params = 40 bytes of weights)
            layer("conv", "Conv2d", 10, 1000, 100),
            // 10 FLOPs, 200 bytes
            layer("relu", "ReLU", 0, 10, 200),
        ];
        let graph = Graph {
            name: "Toy",
            input: CONV_IN,
            nodes: &[],
            layers: &layers,
            output: 2,
            outputs: &[2],
            scopes: &[],
            constants: &[],
            totals: Totals::default(),
        };
        // peak 100 FLOP/s, 10 B/s: ridge 10 FLOP/B
        let p = HardwareProfile::from_peak_and_bandwidth("toy", 100.0, 10.0);
        let e = estimate(&graph, &p);
        // conv: 1000 / 100 = 10 s vs 100 / 10 = 10 s: on the ridge, compute-bound
        assert_eq!(e.layers[0].latency, 10.0);
        assert_eq!(e.layers[0].bound, Bound::Compute);
        assert_eq!(e.layers[0].intensity, 10.0);
        // relu: 10 / 100 = 0.1 s vs 200 / 10 = 20 s
        assert_eq!(e.layers[1].latency, 20.0);
        assert_eq!(e.layers[1].bound, Bound::Memory);
        assert_eq!(e.latency, 30.0);
        // totals: 1010 / 100 = 10.1 s vs 300 / 10 = 30 s
        assert_eq!(e.fused_latency, 30.0);
        // batch 4: conv bytes 4 x (100 - 40) + 40 = 280, FLOPs 4000
        let e4 = estimate_batch(&graph, 4, &p);
        assert_eq!(e4.layers[0].bytes, 280);
        // 4000 / 100 = 40 s vs 280 / 10 = 28 s: compute-bound
        assert_eq!(e4.layers[0].latency, 40.0);
        assert_eq!(e4.layers[0].bound, Bound::Compute);
        assert_eq!(attainable(2.0, 100.0, 10.0), 20.0);
        assert_eq!(attainable(20.0, 100.0, 10.0), 100.0);
        assert_eq!(bound(9.99, 100.0, 10.0), Bound::Memory);
        assert_eq!(bound(10.0, 100.0, 10.0), Bound::Compute);
        let text = e.to_string();
        assert!(
            text.contains("lower bound 30000.000 ms layer by layer"),
            "{text}"
        );
    }
}
