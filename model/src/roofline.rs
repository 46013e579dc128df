//! The roofline formula, once: a layer that does `F` FLOPs and moves `B`
//! bytes takes at least `max(F / peak, B / bandwidth)` seconds, and work
//! that runs layer after layer takes at least the sum of its layers' bounds.
//!
//! The `latency(<device>)` budget ([`crate::presets::Preset::roofline_seconds`])
//! and the runtime's per-layer estimates (`netspec::roofline`) both use
//! [`layer_times`].

/// `peak / bandwidth`, FLOP per byte (0 when the bandwidth is not positive):
/// the arithmetic intensity where a layer stops being memory-bound.
pub fn ridge_point(peak: f64, bandwidth: f64) -> f64 {
    if bandwidth > 0.0 {
        peak / bandwidth
    } else {
        0.0
    }
}

/// `min(peak, intensity · bandwidth)`, FLOP/s.
pub fn attainable(intensity: f64, peak: f64, bandwidth: f64) -> f64 {
    peak.min(intensity * bandwidth)
}

/// `amount / rate` seconds; 0 for no work, infinite for a rate that is not positive.
fn seconds(amount: u64, rate: f64) -> f64 {
    if amount == 0 {
        0.0
    } else if rate > 0.0 {
        amount as f64 / rate
    } else {
        f64::INFINITY
    }
}

/// One layer's two roofline terms, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerTimes {
    /// `flops / peak`.
    pub compute: f64,
    /// `bytes / bandwidth`.
    pub memory: f64,
}

impl LayerTimes {
    /// `max(compute, memory)`: the layer's lower-bound latency.
    pub fn latency(&self) -> f64 {
        self.compute.max(self.memory)
    }

    /// Whether the compute term binds (at the ridge point both are equal:
    /// compute-bound). A layer without FLOPs is never compute-bound.
    pub fn compute_bound(&self, flops: u64) -> bool {
        flops > 0 && self.compute >= self.memory
    }
}

/// The roofline terms of a layer doing `flops` FLOPs and moving `bytes`
/// bytes on a device of `peak` FLOP/s and `bandwidth` bytes/s.
pub fn layer_times(flops: u64, bytes: u64, peak: f64, bandwidth: f64) -> LayerTimes {
    LayerTimes {
        compute: seconds(flops, peak),
        memory: seconds(bytes, bandwidth),
    }
}

/// The lower bound, in seconds, of `layers` (each `(flops, bytes)`) run one
/// after another: the sum of their [`layer_times`] latencies.
pub fn seconds_layer_by_layer(
    layers: impl IntoIterator<Item = (u64, u64)>,
    peak: f64,
    bandwidth: f64,
) -> f64 {
    layers
        .into_iter()
        .map(|(flops, bytes)| layer_times(flops, bytes, peak, bandwidth).latency())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // peak 100 FLOP/s, 10 B/s: ridge 10 FLOP/B
        let t = layer_times(1000, 100, 100.0, 10.0);
        assert_eq!((t.compute, t.memory, t.latency()), (10.0, 10.0, 10.0));
        assert!(t.compute_bound(1000));
        assert!(!layer_times(0, 0, 100.0, 10.0).compute_bound(0));
        assert_eq!(
            seconds_layer_by_layer([(1000, 100), (10, 200)], 100.0, 10.0),
            30.0
        );
        assert_eq!(ridge_point(100.0, 10.0), 10.0);
        assert_eq!(attainable(2.0, 100.0, 10.0), 20.0);
    }
}
