//! Measured utilization: time a network layer by layer and place every layer
//! on the roofline of a [`HardwareProfile`].
//!
//! For each layer and for the whole network, with `F` the FLOPs, `M` the MACs
//! and `B` the bytes of the batch (see [`batch_bytes`]), `t` the median time,
//! `P` the profile's peak and `W` its bandwidth:
//!
//! | figure | formula |
//! | --- | --- |
//! | achieved GFLOP/s, GMAC/s | `F / t`, `M / t` |
//! | utilization of peak | `(F / t) / P` |
//! | achieved bandwidth, its utilization | `B / t`, `(B / t) / W` |
//! | arithmetic intensity | `I = F / B` |
//! | roofline attainable | `min(P, I x W)` |
//! | bound | compute if `I >= P / W` (the ridge point), else memory |
//! | efficiency against the roofline | `(F / t) / min(P, I x W)` |
//!
//! Times are medians over the runs, with the min and max as the spread. The
//! whole network's time in a run is the sum of its layers' kernel times in
//! that run (the forward pass's bookkeeping between layers is excluded).
//!
//! The arithmetic is [`Measurement::from_timings`], a pure function of
//! injected timings; [`measure`] runs the network to get them.
//!
//! # Example
//! ```
//! use netspec::hardware::HardwareProfile;
//! use netspec::measure::{measure, MeasureOptions};
//! use netspec::zoo::LeNet5;
//! use netspec::{Network, Tensor};
//!
//! let net = LeNet5::random(1);
//! let mut shape = vec![1];
//! shape.extend_from_slice(LeNet5::INPUT_SHAPE);
//! let x = Tensor::zeros(&shape).unwrap();
//! let profile = HardwareProfile::from_peak_and_bandwidth("my laptop", 200e9, 20e9);
//! let m = measure(&net, &x, &MeasureOptions::new(profile)).unwrap();
//! assert_eq!(m.layers.len(), LeNet5::LAYERS.len());
//! println!("{}", m.to_text());
//! ```

mod plot;
mod render;

pub use plot::PlotError;

use crate::error::Error;
use crate::hardware::HardwareProfile;
use crate::model::{Backend, Model};
use crate::network::Network;
use crate::roofline::{attainable, batch_bytes, bound, Bound};
use crate::tensor::Tensor;
use netspec_model::Graph;
use serde::Serialize;
use std::time::Duration;

/// How [`measure`] runs the network.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureOptions {
    /// Untimed runs first (caches, allocator, branch predictors).
    pub warmup: usize,
    /// Timed runs (at least 1).
    pub runs: usize,
    /// The roofline to measure against.
    pub profile: HardwareProfile,
}

impl MeasureOptions {
    /// 2 warm-up runs and 10 timed runs against `profile`.
    pub fn new(profile: HardwareProfile) -> MeasureOptions {
        MeasureOptions {
            warmup: 2,
            runs: 10,
            profile,
        }
    }
}

/// Median and range of a set of times, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The fastest.
    pub min: f64,
    /// The slowest.
    pub max: f64,
}

impl Spread {
    /// The spread of `seconds` (all zero when empty).
    pub fn of(seconds: &[f64]) -> Spread {
        let mut v: Vec<f64> = seconds.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return Spread::default();
        }
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }
}

/// One layer's (or the whole network's) measured figures. Rates are `None`
/// when the median time is zero; ratios are `None` when their denominator is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Dotted layer name (`total` for the network).
    pub name: String,
    /// Layer kind (the network's name for the total).
    pub kind: String,
    /// FLOPs for the batch.
    pub flops: u64,
    /// MACs for the batch.
    pub macs: u64,
    /// Bytes moved for the batch: `N x (bytes - 4 x params) + 4 x params`.
    pub bytes: u64,
    /// Seconds.
    pub time: Spread,
    /// Share of the network's median time.
    pub share: Option<f64>,
    /// Achieved FLOP/s: `flops / median time`.
    pub flop_rate: Option<f64>,
    /// Achieved MAC/s.
    pub mac_rate: Option<f64>,
    /// `flop_rate / peak`.
    pub utilization: Option<f64>,
    /// Achieved bytes/s: `bytes / median time`.
    pub byte_rate: Option<f64>,
    /// `byte_rate / bandwidth`.
    pub bandwidth_utilization: Option<f64>,
    /// `flops / bytes`, FLOP per byte (0 when nothing moves).
    pub intensity: f64,
    /// `min(peak, intensity x bandwidth)`, FLOP/s.
    pub attainable: f64,
    /// Compute-bound at or above the ridge point, memory-bound below.
    pub bound: Bound,
    /// `flop_rate / attainable`.
    pub roofline_efficiency: Option<f64>,
}

/// Layer-by-layer timing of a network, placed on a roofline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// Network name.
    pub network: String,
    /// Samples per run.
    pub batch: u64,
    /// Untimed runs before the timed ones.
    pub warmup: usize,
    /// Timed runs.
    pub runs: usize,
    /// Threads the forward pass ran on ([`num_threads`](crate::threads::num_threads)
    /// for the fast backend, 1 for the reference one).
    pub threads: usize,
    /// The roofline the figures are relative to: for a measured profile,
    /// the one matching `threads` (see [`profile_for_threads`]).
    pub profile: HardwareProfile,
    /// One entry per layer, in execution order.
    pub layers: Vec<Figures>,
    /// The whole network.
    pub total: Figures,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0 && num.is_finite()).then(|| num / den)
}

impl Figures {
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: &str,
        kind: &str,
        flops: u64,
        macs: u64,
        bytes: u64,
        seconds: &[f64],
        network_median: f64,
        profile: &HardwareProfile,
    ) -> Figures {
        let (peak, bw) = (profile.peak_flops, profile.bandwidth);
        let time = Spread::of(seconds);
        let t = time.median;
        let flop_rate = ratio(flops as f64, t);
        let byte_rate = ratio(bytes as f64, t);
        let intensity = if bytes == 0 {
            0.0
        } else {
            flops as f64 / bytes as f64
        };
        let roof = attainable(intensity, peak, bw);
        Figures {
            name: name.to_string(),
            kind: kind.to_string(),
            flops,
            macs,
            bytes,
            time,
            share: ratio(t, network_median),
            flop_rate,
            mac_rate: ratio(macs as f64, t),
            utilization: flop_rate.and_then(|r| ratio(r, peak)),
            byte_rate,
            bandwidth_utilization: byte_rate.and_then(|r| ratio(r, bw)),
            intensity,
            attainable: roof,
            bound: bound(intensity, peak, bw),
            roofline_efficiency: flop_rate.and_then(|r| ratio(r, roof)),
        }
    }
}

impl Measurement {
    /// The figures for `graph` run on batches of `batch` samples, from
    /// injected timings: `runs[r][i]` is layer `i`'s time in run `r` (a
    /// missing entry counts as zero). Pure arithmetic: no clock is read.
    pub fn from_timings(
        graph: &Graph<'_>,
        batch: u64,
        runs: &[Vec<Duration>],
        profile: &HardwareProfile,
    ) -> Measurement {
        let n_layers = graph.layers.len();
        let seconds = |r: &Vec<Duration>, i: usize| r.get(i).map_or(0.0, Duration::as_secs_f64);
        let per_run_total: Vec<f64> = runs
            .iter()
            .map(|r| (0..n_layers).map(|i| seconds(r, i)).sum())
            .collect();
        let network_median = Spread::of(&per_run_total).median;
        let mut layers = Vec::with_capacity(n_layers);
        let (mut flops, mut macs, mut bytes) = (0u64, 0u64, 0u64);
        for (i, l) in graph.layers.iter().enumerate() {
            let times: Vec<f64> = runs.iter().map(|r| seconds(r, i)).collect();
            let f = Figures::new(
                l.name,
                l.kind,
                l.flops.saturating_mul(batch),
                l.macs.saturating_mul(batch),
                batch_bytes(graph, i, batch),
                &times,
                network_median,
                profile,
            );
            flops = flops.saturating_add(f.flops);
            macs = macs.saturating_add(f.macs);
            bytes = bytes.saturating_add(f.bytes);
            layers.push(f);
        }
        let total = Figures::new(
            "total",
            graph.name,
            flops,
            macs,
            bytes,
            &per_run_total,
            network_median,
            profile,
        );
        Measurement {
            network: graph.name.to_string(),
            batch,
            warmup: 0,
            runs: runs.len(),
            threads: 1,
            profile: profile.clone(),
            layers,
            total,
        }
    }
}

/// The roofline of `profile` for a forward pass on `threads` threads: a
/// measured profile's one-core peak and one-thread bandwidth for 1 thread,
/// its all-cores figures for as many threads as it measured or more, and
/// in between the one-core peak times `threads` with the all-threads
/// bandwidth. A profile without measurements (a preset, two numbers) is
/// returned unchanged.
pub fn profile_for_threads(profile: &HardwareProfile, threads: usize) -> HardwareProfile {
    let Some(cpu) = &profile.cpu else {
        return profile.clone();
    };
    let one = profile.one_core();
    if threads <= 1 {
        return one;
    }
    let widest = cpu.peaks.last();
    let all = widest.map_or(0.0, |p| p.all_cores);
    let (peak, what) = if threads >= cpu.threads {
        (all, format!("{} cores", cpu.threads))
    } else {
        (
            (one.peak_flops * threads as f64).min(all),
            format!("1 core x {threads}"),
        )
    };
    HardwareProfile {
        name: format!("{} ({threads} threads)", cpu.model),
        peak_flops: peak,
        bandwidth: cpu.triad_all.bytes_per_s,
        source: format!(
            "measured: {} FMA peak on {what}, STREAM triad on {} threads",
            widest.map_or("no", |p| p.simd.name()),
            cpu.triad_all.threads
        ),
        cpu: profile.cpu.clone(),
    }
}

/// Runs `net` on `input` (`[N, input...]`): `options.warmup` untimed runs,
/// then `options.runs` timed ones (at least 1), timing every layer with
/// [`Model::forward_observed`](crate::Model::forward_observed), and returns
/// the figures of [`Measurement::from_timings`], with the thread count the
/// forward pass ran on and, for a measured profile, the roofline of that
/// many threads ([`profile_for_threads`]).
///
/// Fails as the forward pass does (wrong input shape, a kernel error).
pub fn measure<N: Network>(
    net: &N,
    input: &Tensor,
    options: &MeasureOptions,
) -> Result<Measurement, Error> {
    measure_model(net.model(), input, options)
}

/// [`measure`] for a [`Model`] (for instance one given another backend with
/// [`Model::with_backend`]). The thread count is 1 for the reference
/// backend, [`num_threads`](crate::threads::num_threads) otherwise.
pub fn measure_model(
    model: &Model,
    input: &Tensor,
    options: &MeasureOptions,
) -> Result<Measurement, Error> {
    let graph = model.graph();
    let threads = match model.backend() {
        Backend::Reference => 1,
        _ => crate::threads::num_threads(),
    };
    for _ in 0..options.warmup {
        model.forward(input)?;
    }
    let mut runs = Vec::with_capacity(options.runs.max(1));
    for _ in 0..options.runs.max(1) {
        let mut times = vec![Duration::ZERO; graph.layers.len()];
        model.forward_observed(input, &mut |event| {
            if let Some(slot) = times.get_mut(event.index) {
                *slot = event.elapsed;
            }
        })?;
        runs.push(times);
    }
    // The forward pass checked the shape: `[N, ...]` with N >= 1.
    let batch = input.shape().first().copied().unwrap_or(1) as u64;
    let profile = profile_for_threads(&options.profile, threads);
    let mut m = Measurement::from_timings(graph, batch, &runs, &profile);
    m.warmup = options.warmup;
    m.threads = threads;
    Ok(m)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use netspec_model::{LayerInfo, Totals};

    const IN: &[usize] = &[3, 8, 8];
    const OUT: &[usize] = &[4, 8, 8];

    const fn layer(
        name: &'static str,
        kind: &'static str,
        params: u64,
        macs: u64,
        flops: u64,
        bytes: u64,
    ) -> LayerInfo<'static> {
        LayerInfo::from_parts(
            name,
            kind,
            true,
            &[IN],
            OUT,
            [params, 0, macs, flops, bytes, 256],
            [0; 5],
        )
    }

    const LAYERS: &[LayerInfo<'static>] = &[
        // 1 GFLOP, 50 MB of which 4 MB weights (1 M params): intensity 20
        layer(
            "conv1",
            "Conv2d",
            1_000_000,
            500_000_000,
            1_000_000_000,
            50_000_000,
        ),
        // 1 MFLOP, 8 MB: intensity 0.125
        layer("relu", "ReLU", 0, 0, 1_000_000, 8_000_000),
        // no FLOPs
        layer("flatten", "Flatten", 0, 0, 0, 4_000_000),
    ];

    const GRAPH: Graph<'static> = Graph {
        name: "Synthetic",
        input: IN,
        nodes: &[],
        layers: LAYERS,
        output: 3,
        outputs: &[3],
        scopes: &[],
        constants: &[],
        totals: Totals::ZERO,
    };

    /// A synthetic network and a profile of 100 GFLOP/s and 10 GB/s (ridge 10 FLOP/B).
    pub(crate) fn synthetic() -> Measurement {
        let graph = GRAPH;
        let profile = HardwareProfile::from_peak_and_bandwidth("Toy CPU", 100e9, 10e9);
        let ms = |v: f64| Duration::from_secs_f64(v / 1e3);
        let runs = vec![
            vec![ms(20.0), ms(2.0), ms(0.0)],
            vec![ms(30.0), ms(1.0), ms(0.0)],
            vec![ms(25.0), ms(4.0), ms(0.0)],
        ];
        Measurement::from_timings(&graph, 1, &runs, &profile)
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1e-12))
    }

    #[test]
    fn figures_by_hand() {
        let m = synthetic();
        let conv = &m.layers[0];
        // times 20, 30, 25 ms: median 25 ms, min 20, max 30
        assert!(close(Some(conv.time.median), 0.025));
        assert!(close(Some(conv.time.min), 0.020));
        assert!(close(Some(conv.time.max), 0.030));
        // 1e9 FLOP / 0.025 s = 40 GFLOP/s = 40% of 100; 5e8 MAC -> 20 GMAC/s
        assert!(close(conv.flop_rate, 40e9));
        assert!(close(conv.mac_rate, 20e9));
        assert!(close(conv.utilization, 0.4));
        // 5e7 B / 0.025 s = 2 GB/s = 20% of 10 GB/s
        assert!(close(conv.byte_rate, 2e9));
        assert!(close(conv.bandwidth_utilization, 0.2));
        // intensity 1e9 / 5e7 = 20 >= ridge 10: compute-bound, roof 100 G, 40% of it
        assert_eq!(conv.intensity, 20.0);
        assert_eq!(conv.bound, Bound::Compute);
        assert_eq!(conv.attainable, 100e9);
        assert!(close(conv.roofline_efficiency, 0.4));

        let relu = &m.layers[1];
        // times 2, 1, 4 ms: median 2 ms; 1e6 / 0.002 = 0.5 GFLOP/s = 0.5% of peak
        assert!(close(relu.flop_rate, 5e8));
        assert!(close(relu.utilization, 0.005));
        // 8e6 / 0.002 = 4 GB/s = 40% of bandwidth
        assert!(close(relu.bandwidth_utilization, 0.4));
        // intensity 0.125 < 10: memory-bound, roof 0.125 x 10 G = 1.25 GFLOP/s, 40% of it
        assert_eq!(relu.bound, Bound::Memory);
        assert_eq!(relu.attainable, 1.25e9);
        assert!(close(relu.roofline_efficiency, 0.4));
        assert_eq!(relu.mac_rate, Some(0.0));

        let flatten = &m.layers[2];
        // zero time: no rates; zero FLOPs: intensity 0, roof 0
        assert_eq!(flatten.flop_rate, None);
        assert_eq!(flatten.roofline_efficiency, None);
        assert_eq!(flatten.attainable, 0.0);
        assert_eq!(flatten.bound, Bound::Memory);

        let t = &m.total;
        // per-run totals 22, 31, 29 ms: median 29, min 22, max 31
        assert!(close(Some(t.time.median), 0.029));
        assert!(close(Some(t.time.min), 0.022));
        assert!(close(Some(t.time.max), 0.031));
        // 1.001e9 FLOP, 62e6 B: intensity 16.145..., compute-bound
        assert_eq!(t.flops, 1_001_000_000);
        assert_eq!(t.bytes, 62_000_000);
        assert_eq!(t.bound, Bound::Compute);
        // 1.001e9 / 0.029 = 34.517 GFLOP/s
        assert!(close(t.flop_rate, 1.001e9 / 0.029));
        // shares of 29 ms: conv 25/29, relu 2/29
        assert!(close(conv.share, 25.0 / 29.0));
        assert!(close(t.share, 1.0));
        assert_eq!(m.runs, 3);
    }

    #[test]
    fn batch_scales_activations_not_weights() {
        let graph = GRAPH;
        let p = HardwareProfile::from_peak_and_bandwidth("Toy CPU", 100e9, 10e9);
        let runs = vec![vec![Duration::from_millis(50); 3]];
        let m = Measurement::from_timings(&graph, 2, &runs, &p);
        // conv bytes: 2 x (50e6 - 4e6) + 4e6 = 96e6; FLOPs 2e9, MACs 1e9
        assert_eq!(m.layers[0].bytes, 96_000_000);
        assert_eq!(m.layers[0].flops, 2_000_000_000);
        assert_eq!(m.layers[0].macs, 1_000_000_000);
        // relu has no weights: 2 x 8e6
        assert_eq!(m.layers[1].bytes, 16_000_000);
        // median of one run is that run; a missing layer time counts as zero
        let m = Measurement::from_timings(&graph, 1, &[vec![Duration::from_millis(5)]], &p);
        assert!(close(Some(m.total.time.median), 0.005));
        assert_eq!(m.layers[1].time.median, 0.0);
        assert_eq!(Spread::of(&[4.0, 1.0, 3.0, 2.0]).median, 2.5);
    }

    #[test]
    fn the_roofline_matches_the_thread_count() {
        use crate::hardware::{CpuReport, PeakFigure, Simd, Triad};
        let triad = |threads, gb: f64| Triad {
            threads,
            bytes_per_s: gb * 1e9,
        };
        let measured = HardwareProfile {
            name: "Toy (4 cores)".into(),
            peak_flops: 360e9,
            bandwidth: 40e9,
            source: "measured".into(),
            cpu: Some(CpuReport {
                model: "Toy".into(),
                threads: 4,
                peaks: vec![PeakFigure {
                    simd: Simd::Avx2Fma,
                    lanes: 8,
                    accumulators: 12,
                    one_core: 100e9,
                    all_cores: 360e9,
                    theoretical: None,
                }],
                triad_one: triad(1, 15.0),
                triad_all: triad(4, 40.0),
                triad_array_bytes: 1 << 20,
                clock: None,
                seconds: 0.0,
            }),
        };
        // 1 thread: one core, one-thread triad; 2: 2 x one core (below the
        // measured all-cores 360), all-threads triad; 4 or more: all cores.
        let one = profile_for_threads(&measured, 1);
        assert_eq!((one.peak_flops, one.bandwidth), (100e9, 15e9));
        let two = profile_for_threads(&measured, 2);
        assert_eq!((two.peak_flops, two.bandwidth), (200e9, 40e9));
        for n in [4, 8] {
            let all = profile_for_threads(&measured, n);
            assert_eq!((all.peak_flops, all.bandwidth), (360e9, 40e9));
        }
        // From the one-core profile back to all cores: the same.
        assert_eq!(
            profile_for_threads(&measured.one_core(), 4).peak_flops,
            360e9
        );
        // Profiles without measurements stay as given.
        let preset = HardwareProfile::from_peak_and_bandwidth("x", 1e12, 1e11);
        assert_eq!(profile_for_threads(&preset, 1), preset);
        assert_eq!(profile_for_threads(&preset, 8), preset);
    }

    #[test]
    fn measures_a_real_network() {
        use crate::zoo::LeNet5;
        let net = LeNet5::random(3);
        let mut shape = vec![2];
        shape.extend_from_slice(LeNet5::INPUT_SHAPE);
        let x = Tensor::zeros(&shape).expect("valid shape");
        let p = HardwareProfile::from_peak_and_bandwidth("toy", 1e12, 1e11);
        let options = MeasureOptions {
            warmup: 1,
            runs: 3,
            profile: p,
        };
        let m = measure(&net, &x, &options).expect("LeNet5 runs");
        assert_eq!(m.batch, 2);
        assert!(m.threads >= 1);
        assert_eq!(m.runs, 3);
        assert_eq!(m.warmup, 1);
        assert_eq!(m.layers.len(), LeNet5::LAYERS.len());
        assert_eq!(m.total.flops, 2 * LeNet5::FLOPS);
        assert!(m.total.time.median > 0.0);
        // a wrong input shape is the forward pass's error
        let bad = Tensor::zeros(&[1, 1, 5, 5]).expect("valid shape");
        assert!(matches!(
            measure(&net, &bad, &options),
            Err(Error::InputShape { .. })
        ));
    }
}
