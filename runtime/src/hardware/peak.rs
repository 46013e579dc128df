//! Peak f32 FLOP/s: an FMA micro-benchmark at each SIMD width the CPU has.
//!
//! Each kernel keeps `ACC` independent accumulators and updates every one
//! with `acc = acc * m + c` per iteration. A fused multiply-add has a latency
//! of about 4 cycles and a core issues up to 2 (x86) or 4 (big Arm cores) of
//! them per cycle, so at least latency x units = 8 to 16 chains must be in
//! flight to keep every FMA unit busy; the kernels use 12 to 24, as many as
//! the register file holds next to the two constants. With `m` just below 1
//! and `c` small the values converge to `c / (1 - m)`: no overflow and no
//! subnormals, which would slow some cores down.
//!
//! One FMA counts as 2 FLOPs per lane; the portable fallback does a separate
//! multiply and add, also 2 FLOPs.

use serde::Serialize;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// `m` and `c` of `acc = acc * m + c`.
const M: f32 = 0.999_999;
const C: f32 = 1.0e-6;

/// An instruction set the peak is measured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Simd {
    /// x86-64 scalar FMA (`vfmadd231ss`): 1 lane.
    ScalarFma,
    /// x86-64 SSE2 without FMA: separate multiply and add on 4 lanes.
    Sse2,
    /// x86-64 AVX2 with FMA3: 8 lanes.
    Avx2Fma,
    /// x86-64 AVX-512F: 16 lanes.
    Avx512f,
    /// AArch64 NEON (`fmla`): 4 lanes.
    Neon,
    /// Plain Rust multiply and add, vectorised or not as the compiler chooses.
    Portable,
}

impl Simd {
    /// f32 lanes per instruction.
    pub const fn lanes(self) -> u32 {
        match self {
            Simd::ScalarFma | Simd::Portable => 1,
            Simd::Sse2 | Simd::Neon => 4,
            Simd::Avx2Fma => 8,
            Simd::Avx512f => 16,
        }
    }

    /// Whether one instruction is a fused multiply-add.
    pub const fn fused(self) -> bool {
        !matches!(self, Simd::Sse2 | Simd::Portable)
    }

    /// Short name: `avx2+fma`, `neon`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Simd::ScalarFma => "scalar fma",
            Simd::Sse2 => "sse2 (mul+add)",
            Simd::Avx2Fma => "avx2+fma",
            Simd::Avx512f => "avx-512f",
            Simd::Neon => "neon",
            Simd::Portable => "portable",
        }
    }

    /// Vector width in bits.
    pub const fn bits(self) -> u32 {
        self.lanes() * 32
    }
}

/// A benchmark kernel: runs `iters` iterations and returns a value that
/// depends on all of them (so the work cannot be optimised away).
#[derive(Clone, Copy)]
pub(crate) struct Kernel {
    pub simd: Simd,
    /// Independent accumulators (vectors) per iteration.
    pub accumulators: u32,
    run: fn(u64) -> f32,
}

impl Kernel {
    /// FLOPs done by `iters` iterations.
    pub fn flops(&self, iters: u64) -> f64 {
        iters as f64 * f64::from(self.accumulators) * f64::from(self.simd.lanes()) * 2.0
    }
}

/// The kernels this CPU can run, narrowest first (run-time detection).
pub(crate) fn kernels() -> Vec<Kernel> {
    let mut list = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("fma") {
            list.push(Kernel {
                simd: Simd::ScalarFma,
                accumulators: x86::ACC_256 as u32,
                // SAFETY: pushed only after `fma` was detected at run time.
                run: |n| unsafe { x86::scalar_fma(n) },
            });
        } else {
            list.push(Kernel {
                simd: Simd::Sse2,
                accumulators: x86::ACC_256 as u32,
                // SAFETY: SSE2 is part of the x86-64 baseline.
                run: |n| unsafe { x86::sse2(n) },
            });
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            list.push(Kernel {
                simd: Simd::Avx2Fma,
                accumulators: x86::ACC_256 as u32,
                // SAFETY: pushed only after `avx2` and `fma` were detected at run time.
                run: |n| unsafe { x86::avx2_fma(n) },
            });
        }
        if is_x86_feature_detected!("avx512f") {
            list.push(Kernel {
                simd: Simd::Avx512f,
                accumulators: x86::ACC_512 as u32,
                // SAFETY: pushed only after `avx512f` was detected at run time.
                run: |n| unsafe { x86::avx512f(n) },
            });
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            list.push(Kernel {
                simd: Simd::Neon,
                accumulators: arm::ACC as u32,
                // SAFETY: pushed only after `neon` was detected at run time.
                run: |n| unsafe { arm::neon(n) },
            });
        }
    }
    if list.is_empty() {
        list.push(Kernel {
            simd: Simd::Portable,
            accumulators: PORTABLE_ACC as u32,
            run: portable,
        });
    }
    list
}

const PORTABLE_ACC: usize = 16;

fn portable(iters: u64) -> f32 {
    let mut acc = [0.0f32; PORTABLE_ACC];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = i as f32 * 1.0e-3;
    }
    let (m, c) = (black_box(M), black_box(C));
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = *a * m + c;
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{C, M};
    use std::arch::x86_64::*;

    /// Accumulators for 128/256-bit kernels: 12 of the 16 registers.
    pub const ACC_256: usize = 12;
    /// Accumulators for AVX-512: 24 of the 32 registers.
    pub const ACC_512: usize = 24;

    /// One FMA kernel per SIMD width, all of one shape: `acc` independent
    /// accumulators, each updated `a = a * m + c` per iteration, summed at the
    /// end so the work cannot be optimised away.
    macro_rules! kernel {
        ($(#[$doc:meta])* $name:ident, $feature:literal, $acc:expr, $zero:ident, $set:ident,
         $add:ident, |$a:ident, $m:ident, $c:ident| $step:expr, $to_f32:ident) => {
            $(#[$doc])*
            #[target_feature(enable = $feature)]
            pub unsafe fn $name(iters: u64) -> f32 {
                let $m = $set(M);
                let $c = $set(C);
                let mut acc = [$zero(); $acc];
                for (i, a) in acc.iter_mut().enumerate() {
                    *a = $set(i as f32 * 1.0e-3);
                }
                for _ in 0..iters {
                    for a in acc.iter_mut() {
                        let $a = *a;
                        *a = $step;
                    }
                }
                let mut sum = $zero();
                for a in acc {
                    sum = $add(sum, a);
                }
                $to_f32(sum)
            }
        };
    }

    kernel!(
        /// # Safety
        /// The CPU must support FMA3.
        scalar_fma, "fma", ACC_256, _mm_setzero_ps, _mm_set_ss, _mm_add_ss,
        |a, m, c| _mm_fmadd_ss(a, m, c), _mm_cvtss_f32
    );
    kernel!(
        /// # Safety
        /// The CPU must support SSE2 (every x86-64 CPU does).
        sse2, "sse2", ACC_256, _mm_setzero_ps, _mm_set1_ps, _mm_add_ps,
        |a, m, c| _mm_add_ps(_mm_mul_ps(a, m), c), _mm_cvtss_f32
    );
    kernel!(
        /// # Safety
        /// The CPU must support AVX2 and FMA3.
        avx2_fma, "avx2,fma", ACC_256, _mm256_setzero_ps, _mm256_set1_ps, _mm256_add_ps,
        |a, m, c| _mm256_fmadd_ps(a, m, c), _mm256_cvtss_f32
    );
    kernel!(
        /// # Safety
        /// The CPU must support AVX-512F (its intrinsics are stable since Rust 1.89,
        /// the workspace's `rust-version`).
        avx512f, "avx512f", ACC_512, _mm512_setzero_ps, _mm512_set1_ps, _mm512_add_ps,
        |a, m, c| _mm512_fmadd_ps(a, m, c), _mm512_reduce_add_ps
    );
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::{C, M};
    use std::arch::aarch64::*;

    /// Accumulators: 24 of the 32 registers (4 FMA pipes x 4 cycles = 16 needed on the widest cores).
    pub const ACC: usize = 24;

    /// # Safety
    /// The CPU must support NEON.
    #[target_feature(enable = "neon")]
    pub unsafe fn neon(iters: u64) -> f32 {
        let m = vdupq_n_f32(M);
        let c = vdupq_n_f32(C);
        let mut acc = [vdupq_n_f32(0.0); ACC];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = vdupq_n_f32(i as f32 * 1.0e-3);
        }
        for _ in 0..iters {
            for a in acc.iter_mut() {
                // fmla: c + a * m
                *a = vfmaq_f32(c, *a, m);
            }
        }
        let mut sum = vdupq_n_f32(0.0);
        for a in acc {
            sum = vaddq_f32(sum, a);
        }
        vaddvq_f32(sum)
    }
}

/// Iterations that take about `target` on one thread.
pub(crate) fn calibrate(kernel: &Kernel, target: Duration) -> u64 {
    let mut iters: u64 = 1_000;
    loop {
        let start = Instant::now();
        black_box((kernel.run)(black_box(iters)));
        let elapsed = start.elapsed();
        if elapsed >= target / 8 || iters >= 1 << 40 {
            let scale = target.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
            return ((iters as f64 * scale) as u64).max(1);
        }
        iters *= 4;
    }
}

/// Best FLOP/s of `repeats` runs of `iters` iterations on each of `threads`
/// threads at once (wall time from a common start to the last finish).
pub(crate) fn run(kernel: &Kernel, iters: u64, threads: usize, repeats: usize) -> f64 {
    let threads = threads.max(1);
    let mut best = 0.0f64;
    for _ in 0..repeats.max(1) {
        let seconds = if threads == 1 {
            let start = Instant::now();
            black_box((kernel.run)(black_box(iters)));
            start.elapsed().as_secs_f64()
        } else {
            let barrier = Barrier::new(threads + 1);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| {
                        let barrier = &barrier;
                        let run = kernel.run;
                        s.spawn(move || {
                            barrier.wait();
                            black_box(run(black_box(iters)))
                        })
                    })
                    .collect();
                barrier.wait();
                let start = Instant::now();
                for h in handles {
                    // A panicking benchmark thread only loses its result.
                    let _ = h.join();
                }
                start.elapsed().as_secs_f64()
            })
        };
        let rate = kernel.flops(iters) * threads as f64 / seconds.max(1e-9);
        best = best.max(rate);
    }
    best
}
