//! What the hardware can do: peak f32 FLOP/s and memory bandwidth, measured
//! on this CPU, computed from its clock, or taken from a spec sheet.
//!
//! A [`HardwareProfile`] is the pair the roofline needs, a peak (FLOP/s) and
//! a bandwidth (bytes/s), plus where they came from. On the CPU it runs on,
//! [`HardwareProfile::measure`] times
//! - an FMA micro-benchmark at each SIMD width the CPU supports (run-time
//!   detection), on one core and on all cores ([`peak`]);
//! - a STREAM-style triad on arrays far larger than the last-level cache, on
//!   one thread and on all threads ([`bandwidth`]);
//!
//! and computes the theoretical peak where the clock and the number of FMA
//! units can be known: `lanes x 2 x FMA units x clock x cores`.
//!
//! # Example
//! ```
//! use netspec::hardware::{presets, HardwareProfile, PresetProfile};
//!
//! let pi = presets::RASPBERRY_PI_5.profile();
//! assert_eq!(pi.peak_flops, 153.6e9);
//! let mine = HardwareProfile::from_peak_and_bandwidth("my GPU", 10e12, 500e9);
//! assert_eq!(mine.ridge_point(), 20.0); // FLOP per byte
//! ```

pub mod bandwidth;
pub mod peak;
pub mod presets;
mod progress;

pub use bandwidth::Triad;
pub use peak::Simd;
pub use presets::{preset, Preset, PresetProfile, PRESETS};

use serde::Serialize;
use std::fmt;
use std::time::{Duration, Instant};

/// A device's roofline: peak f32 FLOP/s and memory bandwidth, with their origin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HardwareProfile {
    /// Device name (`AMD EPYC (2 cores)`, `NVIDIA H100 SXM`).
    pub name: String,
    /// Peak f32 FLOP/s the roofline uses.
    pub peak_flops: f64,
    /// Memory bandwidth the roofline uses, bytes per second.
    pub bandwidth: f64,
    /// Where `peak_flops` and `bandwidth` come from.
    pub source: String,
    /// The measurements behind a measured profile; `None` for presets and
    /// profiles built from two numbers.
    pub cpu: Option<CpuReport>,
}

/// Everything [`HardwareProfile::measure`] found out about this CPU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpuReport {
    /// `model name` of `/proc/cpuinfo`, or the architecture.
    pub model: String,
    /// Threads used for the all-cores figures (`available_parallelism`).
    pub threads: usize,
    /// Peak f32 FLOP/s per SIMD width, narrowest first.
    pub peaks: Vec<PeakFigure>,
    /// Triad bandwidth on one thread.
    pub triad_one: Triad,
    /// Triad bandwidth on all threads.
    pub triad_all: Triad,
    /// Bytes of each of the three triad arrays.
    pub triad_array_bytes: usize,
    /// The clock the theoretical peaks use, if known.
    pub clock: Option<Clock>,
    /// Wall time the whole measurement took.
    pub seconds: f64,
}

/// A clock frequency and the file it was read from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Clock {
    /// Hertz.
    pub hz: f64,
    /// Where it was read (`/sys/.../cpuinfo_max_freq`, `cpu MHz of /proc/cpuinfo`).
    pub source: String,
    /// Whether this is the maximum (boost) clock, so that the theoretical
    /// peaks are upper bounds. `cpu MHz` is the current or nominal clock: a
    /// core can run faster (in a virtual machine it is often the nominal
    /// clock of the host), and then the measured peak can exceed the
    /// theoretical one.
    pub is_max: bool,
}

/// Measured (and where known, theoretical) peak at one SIMD width.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeakFigure {
    /// The instruction set.
    pub simd: Simd,
    /// f32 lanes per instruction.
    pub lanes: u32,
    /// Independent accumulators the kernel keeps in flight.
    pub accumulators: u32,
    /// Measured FLOP/s on one core.
    pub one_core: f64,
    /// Measured FLOP/s on all cores.
    pub all_cores: f64,
    /// `lanes x 2 x FMA units x clock`, one core and all cores, where known.
    pub theoretical: Option<Theoretical>,
}

/// A theoretical peak, with the origin of each factor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Theoretical {
    /// FMA units per core for this width.
    pub fma_units: u32,
    /// Why that many (a microarchitecture table entry).
    pub fma_units_source: String,
    /// Clock in hertz.
    pub clock_hz: f64,
    /// `lanes x 2 x fma_units x clock_hz`.
    pub one_core: f64,
    /// `one_core x cores`.
    pub all_cores: f64,
}

/// How long and how big the measurements are.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileOptions {
    /// Target duration of one timed FMA run.
    pub peak_run: Duration,
    /// Timed runs per figure; the best counts.
    pub repeats: usize,
    /// Bytes of each triad array (three of them).
    pub triad_array_bytes: usize,
    /// Triad passes per thread count; the best counts.
    pub triad_runs: usize,
    /// Threads for the all-cores figures; `None`: `available_parallelism`.
    pub threads: Option<usize>,
}

impl Default for ProfileOptions {
    /// About 2 s in all: 3 x 40 ms per width and thread count, 3 x 64 MiB triad arrays.
    fn default() -> Self {
        ProfileOptions {
            peak_run: Duration::from_millis(40),
            repeats: 3,
            triad_array_bytes: 64 << 20,
            triad_runs: 5,
            threads: None,
        }
    }
}

impl HardwareProfile {
    /// A profile from two numbers: peak FLOP/s and bytes per second.
    pub fn from_peak_and_bandwidth(
        name: impl Into<String>,
        flops_per_s: f64,
        bytes_per_s: f64,
    ) -> HardwareProfile {
        HardwareProfile {
            name: name.into(),
            peak_flops: flops_per_s,
            bandwidth: bytes_per_s,
            source: "given".to_string(),
            cpu: None,
        }
    }

    /// Measures this CPU with the default options (a few seconds) and no progress output.
    pub fn measure() -> HardwareProfile {
        HardwareProfile::measure_with(&ProfileOptions::default(), &mut |_| {})
    }

    /// Measures this CPU, calling `progress` with a line of text as each
    /// figure is done. The profile's peak is the all-cores peak at the widest
    /// SIMD width and its bandwidth the all-threads triad; see
    /// [`HardwareProfile::one_core`] for the single-thread roofline.
    pub fn measure_with(
        options: &ProfileOptions,
        progress: &mut dyn FnMut(&str),
    ) -> HardwareProfile {
        let started = Instant::now();
        let threads = options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        let info = CpuInfo::read();
        let clock = info.clock();
        let mut peaks = Vec::new();
        for kernel in peak::kernels() {
            let iters = peak::calibrate(&kernel, options.peak_run);
            let one_core = peak::run(&kernel, iters, 1, options.repeats);
            let all_cores = peak::run(&kernel, iters, threads, options.repeats);
            let theoretical = clock.as_ref().and_then(|c| {
                let (units, why) = info.fma_units(kernel.simd)?;
                let one = f64::from(kernel.simd.lanes()) * 2.0 * f64::from(units) * c.hz;
                Some(Theoretical {
                    fma_units: units,
                    fma_units_source: why,
                    clock_hz: c.hz,
                    one_core: one,
                    all_cores: one * threads as f64,
                })
            });
            progress(&format!(
                "peak {:<14} 1 core {:>8.1} GFLOP/s, {threads} cores {:>8.1} GFLOP/s{}",
                kernel.simd.name(),
                one_core / 1e9,
                all_cores / 1e9,
                theoretical.as_ref().map_or(String::new(), |t| format!(
                    " (theoretical {:.1} / {:.1})",
                    t.one_core / 1e9,
                    t.all_cores / 1e9
                ))
            ));
            peaks.push(PeakFigure {
                simd: kernel.simd,
                lanes: kernel.simd.lanes(),
                accumulators: kernel.accumulators,
                one_core,
                all_cores,
                theoretical,
            });
        }
        progress(&format!(
            "triad: allocating 3 x {}",
            netspec_model::format::bytes(options.triad_array_bytes as u64)
        ));
        let mut arrays = bandwidth::Arrays::new(options.triad_array_bytes);
        // One untimed pass faults every page in.
        arrays.triad(threads, 1);
        let triad_one = arrays.triad(1, options.triad_runs);
        let triad_all = arrays.triad(threads, options.triad_runs);
        progress(&format!(
            "triad 1 thread {:.2} GB/s, {threads} threads {:.2} GB/s",
            triad_one.bytes_per_s / 1e9,
            triad_all.bytes_per_s / 1e9
        ));
        drop(arrays);
        let widest = peaks.last().cloned();
        let model = info.model.clone();
        HardwareProfile {
            name: format!("{model} ({threads} cores)"),
            peak_flops: widest.as_ref().map_or(0.0, |p| p.all_cores),
            bandwidth: triad_all.bytes_per_s,
            source: format!(
                "measured: {} FMA peak on {threads} cores, STREAM triad on {threads} threads",
                widest.as_ref().map_or("no", |p| p.simd.name())
            ),
            cpu: Some(CpuReport {
                model,
                threads,
                peaks,
                triad_one,
                triad_all,
                triad_array_bytes: options.triad_array_bytes,
                clock,
                seconds: started.elapsed().as_secs_f64(),
            }),
        }
    }

    /// The single-thread roofline of a measured profile (one-core peak at the
    /// widest width, one-thread triad): what a single-threaded runtime can
    /// reach. A profile without measurements is returned unchanged.
    pub fn one_core(&self) -> HardwareProfile {
        let Some(cpu) = &self.cpu else {
            return self.clone();
        };
        let widest = cpu.peaks.last();
        HardwareProfile {
            name: format!("{} (1 core)", cpu.model),
            peak_flops: widest.map_or(0.0, |p| p.one_core),
            bandwidth: cpu.triad_one.bytes_per_s,
            source: format!(
                "measured: {} FMA peak on 1 core, STREAM triad on 1 thread",
                widest.map_or("no", |p| p.simd.name())
            ),
            cpu: self.cpu.clone(),
        }
    }

    /// Ridge point of the roofline, FLOP per byte: `peak_flops / bandwidth`.
    /// Layers of lower arithmetic intensity are memory-bound.
    pub fn ridge_point(&self) -> f64 {
        crate::roofline::ridge_point(self.peak_flops, self.bandwidth)
    }
}

impl fmt::Display for HardwareProfile {
    /// A short summary; for a measured profile, the table of every figure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.name)?;
        writeln!(
            f,
            "  roofline: peak {:.1} GFLOP/s, bandwidth {:.2} GB/s, ridge point {:.2} FLOP/B",
            self.peak_flops / 1e9,
            self.bandwidth / 1e9,
            self.ridge_point()
        )?;
        writeln!(f, "  source: {}", self.source)?;
        let Some(cpu) = &self.cpu else {
            return Ok(());
        };
        writeln!(
            f,
            "  {:<15} {:>5} {:>4} {:>12} {:>12} {:>12} {:>12}",
            "f32 peak",
            "lanes",
            "acc",
            "1 core",
            "theory",
            format!("{} cores", cpu.threads),
            "theory"
        )?;
        for p in &cpu.peaks {
            let theory =
                |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1} G", v / 1e9));
            writeln!(
                f,
                "  {:<15} {:>5} {:>4} {:>12} {:>12} {:>12} {:>12}",
                p.simd.name(),
                p.lanes,
                p.accumulators,
                format!("{:.1} G", p.one_core / 1e9),
                theory(p.theoretical.as_ref().map(|t| t.one_core)),
                format!("{:.1} G", p.all_cores / 1e9),
                theory(p.theoretical.as_ref().map(|t| t.all_cores)),
            )?;
        }
        match &cpu.clock {
            Some(c) => writeln!(f, "  clock {:.3} GHz from {}", c.hz / 1e9, c.source)?,
            None => writeln!(f, "  clock unknown: no theoretical peak")?,
        }
        for p in &cpu.peaks {
            if let Some(t) = &p.theoretical {
                // The clock at which the measured one-core peak would be exactly theoretical.
                let implied = p.one_core / (f64::from(p.lanes) * 2.0 * f64::from(t.fma_units));
                writeln!(
                    f,
                    "  {}: 1-core peak = {:.0}% of theoretical; it implies a clock of {:.3} GHz",
                    p.simd.name(),
                    100.0 * p.one_core / t.one_core,
                    implied / 1e9
                )?;
            }
        }
        let mut seen = Vec::new();
        for t in cpu.peaks.iter().filter_map(|p| p.theoretical.as_ref()) {
            if !seen.contains(&&t.fma_units_source) {
                seen.push(&t.fma_units_source);
                writeln!(f, "  FMA units: {}", t.fma_units_source)?;
            }
        }
        writeln!(
            f,
            "  triad (3 x {}, 12 B per f32 element as STREAM counts, write-allocate not counted): 1 thread {:.2} GB/s, {} threads {:.2} GB/s",
            netspec_model::format::bytes(cpu.triad_array_bytes as u64),
            cpu.triad_one.bytes_per_s / 1e9,
            cpu.triad_all.threads,
            cpu.triad_all.bytes_per_s / 1e9
        )?;
        write!(f, "  measured in {:.2} s", cpu.seconds)
    }
}

/// What `/proc/cpuinfo` and `/sys` say about the CPU (empty where unavailable).
#[derive(Clone, Debug, Default, PartialEq)]
struct CpuInfo {
    model: String,
    vendor: String,
    family: Option<u32>,
    model_number: Option<u32>,
    /// Arm `CPU part` (`0xd0b` for Cortex-A76).
    arm_part: Option<u32>,
    /// Largest `cpu MHz` over all CPUs.
    mhz: Option<f64>,
    /// `cpuinfo_max_freq` in kHz.
    max_khz: Option<f64>,
}

impl CpuInfo {
    fn read() -> CpuInfo {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let max = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
            .unwrap_or_default();
        CpuInfo::parse(&text, &max)
    }

    fn parse(cpuinfo: &str, max_freq: &str) -> CpuInfo {
        let mut info = CpuInfo {
            max_khz: max_freq.trim().parse().ok(),
            ..CpuInfo::default()
        };
        for line in cpuinfo.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "model name" if info.model.is_empty() => info.model = value.to_string(),
                "vendor_id" if info.vendor.is_empty() => info.vendor = value.to_string(),
                "cpu family" if info.family.is_none() => info.family = value.parse().ok(),
                "model" if info.model_number.is_none() => info.model_number = value.parse().ok(),
                "CPU part" if info.arm_part.is_none() => {
                    info.arm_part = u32::from_str_radix(value.trim_start_matches("0x"), 16).ok();
                }
                "cpu MHz" => {
                    if let Ok(mhz) = value.parse::<f64>() {
                        info.mhz = Some(info.mhz.map_or(mhz, |m: f64| m.max(mhz)));
                    }
                }
                _ => {}
            }
        }
        if info.model.is_empty() {
            info.model = std::env::consts::ARCH.to_string();
        }
        info
    }

    /// The max clock from `/sys`, else the largest `cpu MHz`.
    fn clock(&self) -> Option<Clock> {
        if let Some(khz) = self.max_khz.filter(|k| *k > 0.0) {
            return Some(Clock {
                hz: khz * 1e3,
                source: "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq".to_string(),
                is_max: true,
            });
        }
        self.mhz.filter(|m| *m > 0.0).map(|mhz| Clock {
            hz: mhz * 1e6,
            source: "`cpu MHz` of /proc/cpuinfo (current or nominal clock: boost may exceed it)"
                .to_string(),
            is_max: false,
        })
    }

    /// FMA units per core at this width, from a table of microarchitectures.
    fn fma_units(&self, simd: Simd) -> Option<(u32, String)> {
        let wide = simd.bits() >= 512;
        let units = match (self.vendor.as_str(), self.family, simd) {
            (_, _, Simd::Sse2 | Simd::Portable) => return None,
            ("AuthenticAMD", Some(0x17), _) => {
                // Zen and Zen+ split 256-bit ops over two 128-bit FMA pipes; Zen 2 has two 256-bit pipes.
                let zen2 = self.model_number.is_some_and(|m| m >= 0x30);
                let units = if zen2 || simd.bits() <= 128 { 2 } else { 1 };
                (units, "AMD family 17h (Zen/Zen 2): two FMA pipes (128-bit on Zen/Zen+, 256-bit on Zen 2), per AMD's Software Optimization Guide for family 17h")
            }
            ("AuthenticAMD", Some(0x19), _) => (
                if wide { 1 } else { 2 },
                "AMD family 19h (Zen 3/Zen 4): two 256-bit FMA pipes, a 512-bit FMA takes both (Zen 4), per AMD's Software Optimization Guide for family 19h",
            ),
            ("AuthenticAMD", Some(0x1a), _) => (
                2,
                "AMD family 1Ah (Zen 5, desktop and server): two 512-bit FMA pipes, per AMD's Software Optimization Guide for family 1Ah",
            ),
            ("GenuineIntel", Some(6), _) if !wide => (
                2,
                "Intel family 6 with AVX2 (Haswell and later): two FMA ports (0 and 1), per Intel's Optimization Reference Manual",
            ),
            (_, _, Simd::Neon) => match self.arm_part? {
                0xd08 | 0xd0b | 0xd0c | 0xd0d | 0xd41 => (
                    2,
                    "Arm Cortex-A72/A76/A77/A78/Neoverse N1: two 128-bit FP/ASIMD FMA pipes, per Arm's Software Optimization Guide",
                ),
                0xd40 | 0xd44 | 0xd4f => (
                    4,
                    "Arm Neoverse V1/Cortex-X1/Neoverse V2: four 128-bit FP/ASIMD FMA pipes, per Arm's Software Optimization Guide",
                ),
                _ => return None,
            },
            _ => return None,
        };
        Some((units.0, units.1.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPYC: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2445.406\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 2450.000\n";

    #[test]
    fn parses_cpuinfo_and_derives_the_theoretical_peak() {
        let info = CpuInfo::parse(EPYC, "");
        assert_eq!(info.model, "AMD EPYC");
        assert_eq!(info.family, Some(25));
        // the largest `cpu MHz`
        let clock = info.clock().map(|c| c.hz);
        assert_eq!(clock, Some(2.45e9));
        assert_eq!(info.fma_units(Simd::Avx2Fma).map(|u| u.0), Some(2));
        assert_eq!(info.fma_units(Simd::Avx512f).map(|u| u.0), Some(1));
        assert_eq!(info.fma_units(Simd::Sse2), None);
        // cpuinfo_max_freq (kHz) wins over `cpu MHz`
        assert_eq!(info.clock().map(|c| c.is_max), Some(false));
        let info = CpuInfo::parse(EPYC, "3500000\n");
        assert_eq!(info.clock().map(|c| c.hz), Some(3.5e9));
        assert_eq!(info.clock().map(|c| c.is_max), Some(true));
        // Raspberry Pi 5: Cortex-A76 (part 0xd0b) has two NEON FMA pipes
        let pi = CpuInfo::parse("CPU implementer\t: 0x41\nCPU part\t: 0xd0b\n", "2400000");
        assert_eq!(pi.fma_units(Simd::Neon).map(|u| u.0), Some(2));
        // theoretical one-core NEON peak: 4 lanes x 2 x 2 units x 2.4 GHz = 38.4 GFLOP/s
        assert_eq!(pi.model, std::env::consts::ARCH);
    }

    #[test]
    fn profile_from_two_numbers() {
        let p = HardwareProfile::from_peak_and_bandwidth("toy", 100e9, 25e9);
        // ridge: 100 G / 25 G = 4 FLOP/B
        assert_eq!(p.ridge_point(), 4.0);
        assert_eq!(p.one_core(), p);
        assert!(p
            .to_string()
            .contains("peak 100.0 GFLOP/s, bandwidth 25.00 GB/s"));
    }

    /// Sanity only, never speed: every figure is positive and finite, and no
    /// measured peak exceeds a theoretical one by more than 15% where the
    /// theoretical one is an upper bound (computed from the maximum clock).
    #[test]
    fn micro_benchmarks_are_sane() {
        let options = ProfileOptions {
            peak_run: Duration::from_millis(5),
            repeats: 2,
            triad_array_bytes: 4 << 20,
            triad_runs: 2,
            threads: None,
        };
        let mut lines = 0;
        let p = HardwareProfile::measure_with(&options, &mut |_| lines += 1);
        let cpu = p.cpu.as_ref().expect("a measured profile has a CPU report");
        assert!(!cpu.peaks.is_empty());
        assert_eq!(lines, cpu.peaks.len() + 2);
        // Only a maximum clock makes the theoretical peak an upper bound.
        let bounded = cpu.clock.as_ref().is_some_and(|c| c.is_max);
        for f in &cpu.peaks {
            assert!(f.one_core > 0.0 && f.one_core.is_finite(), "{f:?}");
            assert!(f.all_cores > 0.0 && f.all_cores.is_finite(), "{f:?}");
            if let Some(t) = f.theoretical.as_ref().filter(|_| bounded) {
                assert!(f.one_core <= 1.15 * t.one_core, "{f:?}");
                assert!(f.all_cores <= 1.15 * t.all_cores, "{f:?}");
            }
        }
        assert!(p.peak_flops > 0.0 && p.bandwidth > 0.0);
        assert!(cpu.triad_one.bytes_per_s > 0.0 && cpu.triad_all.bytes_per_s > 0.0);
        let one = p.one_core();
        assert!(one.peak_flops > 0.0 && one.bandwidth > 0.0);
    }
}
