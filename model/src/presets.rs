//! Spec-sheet figures of hardware people deploy networks to.
//!
//! Each preset gives the peak dense f32 FLOP/s (no sparsity), the peak dense
//! f16/bf16 FLOP/s where the vendor publishes one (tensor or matrix cores,
//! FP32 accumulate unless the note says otherwise), and the peak memory
//! bandwidth, with the document the numbers come from. Where a vendor
//! publishes no FLOP/s figure, the note shows how it was derived from figures
//! that are published (cores x lanes x 2 x FMA units x clock).

/// Spec-sheet figures of one device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Device name; [`preset`] looks presets up by it (case-insensitive).
    pub name: &'static str,
    /// Short lowercase identifier (`h100-sxm`).
    pub id: &'static str,
    /// Peak dense f32 FLOP/s (CUDA cores on NVIDIA GPUs, not TF32 tensor cores).
    pub f32_flops: f64,
    /// Peak dense f16/bf16 FLOP/s, `None` where no vendor figure exists.
    pub f16_flops: Option<f64>,
    /// Peak memory bandwidth, bytes per second.
    pub bandwidth: f64,
    /// The vendor document the figures come from.
    pub source: &'static str,
    /// How derived figures were computed, and caveats.
    pub note: &'static str,
}

impl Preset {
    /// The roofline lower bound, in seconds, of work that runs as `layers`
    /// one after another, each `(flops, bytes)`: the sum over layers of
    /// `max(flops / peak, bytes / bandwidth)` at this device's f32 peak.
    pub fn roofline_seconds(&self, layers: impl IntoIterator<Item = (u64, u64)>) -> f64 {
        crate::roofline::seconds_layer_by_layer(layers, self.f32_flops, self.bandwidth)
    }
}

/// NVIDIA H100 SXM5 80GB.
pub const H100_SXM: Preset = Preset {
    name: "NVIDIA H100 SXM",
    id: "h100-sxm",
    f32_flops: 67.0e12,
    f16_flops: Some(989.4e12),
    bandwidth: 3.35e12,
    source: "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column)",
    note:
        "FP32 67 TFLOPS; BF16/FP16 tensor 989.4 TFLOPS dense (1,979 with sparsity); HBM3 3.35 TB/s",
};

/// NVIDIA A100 SXM4 80GB.
pub const A100_SXM_80GB: Preset = Preset {
    name: "NVIDIA A100 SXM 80GB",
    id: "a100-sxm-80gb",
    f32_flops: 19.5e12,
    f16_flops: Some(312.0e12),
    bandwidth: 2.039e12,
    source: "NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM column)",
    note:
        "FP32 19.5 TFLOPS; BF16/FP16 tensor 312 TFLOPS dense (624 with sparsity); HBM2e 2,039 GB/s",
};

/// NVIDIA GeForce RTX 4090.
pub const RTX_4090: Preset = Preset {
    name: "NVIDIA GeForce RTX 4090",
    id: "rtx-4090",
    f32_flops: 82.6e12,
    f16_flops: Some(165.2e12),
    bandwidth: 1.008e12,
    source: "NVIDIA Ada Lovelace GPU Architecture whitepaper (appendix A, GeForce RTX 4090)",
    note: "FP32 82.6 TFLOPS; FP16/BF16 tensor with FP32 accumulate 165.2 TFLOPS dense (330.3 with FP16 accumulate); GDDR6X 1,008 GB/s",
};

/// NVIDIA Jetson Orin Nano 8GB (original 15 W mode, not "Super").
pub const JETSON_ORIN_NANO_8GB: Preset = Preset {
    name: "NVIDIA Jetson Orin Nano 8GB",
    id: "jetson-orin-nano-8gb",
    f32_flops: 1.28e12,
    f16_flops: None,
    bandwidth: 68.0e9,
    source: "NVIDIA Jetson Orin Nano Series data sheet",
    note: "derived: 1,024 CUDA cores x 2 x 625 MHz = 1.28 TFLOPS FP32; the data sheet gives 40 INT8 TOPS (sparse) and no FP16 figure; LPDDR5 68 GB/s",
};

/// Raspberry Pi 5 (BCM2712, 4 x Cortex-A76 at 2.4 GHz), CPU only.
pub const RASPBERRY_PI_5: Preset = Preset {
    name: "Raspberry Pi 5",
    id: "raspberry-pi-5",
    f32_flops: 153.6e9,
    f16_flops: Some(307.2e9),
    bandwidth: 17.07e9,
    source: "Raspberry Pi 5 product brief; Arm Cortex-A76 Software Optimization Guide",
    note: "derived: 4 cores x 4 lanes x 2 x 2 NEON FMA pipes x 2.4 GHz = 153.6 GFLOP/s f32, twice that with Armv8.2 FP16; LPDDR4X-4267 on 32 bits = 17.07 GB/s",
};

/// Apple M2 (10-core GPU).
pub const APPLE_M2: Preset = Preset {
    name: "Apple M2 (10-core GPU)",
    id: "apple-m2",
    f32_flops: 3.578e12,
    f16_flops: None,
    bandwidth: 100.0e9,
    source: "Apple Newsroom, \"Apple unveils M2\" (June 2022)",
    note: "GPU: derived 10 cores x 128 ALUs x 2 x 1.398 GHz = 3.58 TFLOPS f32 (Apple quotes 3.6); the 16-core Neural Engine's 15.8 trillion ops/s has no stated precision; 100 GB/s unified memory",
};

/// Qualcomm Snapdragon 8 Gen 3, CPU only.
pub const SNAPDRAGON_8_GEN_3: Preset = Preset {
    name: "Qualcomm Snapdragon 8 Gen 3 (CPU)",
    id: "snapdragon-8-gen-3",
    f32_flops: 392.0e9,
    f16_flops: Some(784.0e9),
    bandwidth: 76.8e9,
    source: "Qualcomm Snapdragon 8 Gen 3 Mobile Platform product brief; Arm Cortex-X4/A720/A520 Software Optimization Guides",
    note: "Qualcomm publishes no FLOP/s figure; derived for the CPU at 4 lanes x 2 per FMA: Cortex-X4 at 3.3 GHz x 4 pipes (105.6 G) + A720 at 3 x 3.2 + 2 x 3.0 GHz x 2 pipes (249.6 G) + 2 A520 at 2.3 GHz x 1 pipe each (36.8 G) = 392 GFLOP/s, twice that in FP16; LPDDR5X at 4,800 MHz (9.6 GT/s) on 64 bits = 76.8 GB/s",
};

/// Every preset, in the order above.
pub const PRESETS: &[Preset] = &[
    H100_SXM,
    A100_SXM_80GB,
    RTX_4090,
    JETSON_ORIN_NANO_8GB,
    RASPBERRY_PI_5,
    APPLE_M2,
    SNAPDRAGON_8_GEN_3,
];

/// The preset whose `id` or `name` equals `name`, ignoring case.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(name) || p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_consistent() {
        for p in PRESETS {
            assert!(p.f32_flops > 0.0 && p.bandwidth > 0.0, "{}", p.name);
            if let Some(h) = p.f16_flops {
                assert!(h >= p.f32_flops, "{}", p.name);
            }
            assert_eq!(preset(p.id), Some(p));
        }
        // Raspberry Pi 5 derivation: 4 cores x 4 lanes x 2 FLOP x 2 pipes x 2.4 GHz
        assert!((RASPBERRY_PI_5.f32_flops - 4.0 * 4.0 * 2.0 * 2.0 * 2.4e9).abs() < 1.0);
        // Snapdragon: 8 x (3.3 x 4) + 8 x 2 x (3 x 3.2 + 2 x 3.0) + 8 x 2 x 2.3 (GFLOP/s)
        let sd = 8.0 * 3.3 * 4.0 + 8.0 * 2.0 * (3.0 * 3.2 + 2.0 * 3.0) + 8.0 * 2.0 * 2.3;
        assert!((SNAPDRAGON_8_GEN_3.f32_flops / 1e9 - sd).abs() < 1e-6);
        assert_eq!(preset("H100-SXM").map(|p| p.name), Some("NVIDIA H100 SXM"));
        assert!(preset("tpu").is_none());
        // 1 GFLOP at 153.6 GFLOP/s is 6.51 ms; 1 GB at 17.07 GB/s is 58.6 ms:
        // the first layer is compute-bound, the second memory-bound.
        let t = RASPBERRY_PI_5.roofline_seconds([(1_000_000_000, 1_000), (1_000, 1_000_000_000)]);
        let expected = 1e9 / 153.6e9 + 1e9 / 17.07e9;
        assert!((t - expected).abs() < 1e-12);
    }
}
