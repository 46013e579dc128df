//! Memory bandwidth: a STREAM-style triad, `a[i] = b[i] + s * c[i]`.
//!
//! The three arrays are far larger than the last-level cache (3 x 64 MiB by
//! default), so every pass streams from and to DRAM. The figure is the best
//! of several passes, as STREAM reports it.
//!
//! **Convention.** Bytes are counted as STREAM counts them: each array
//! element read or written once, so a triad element is two reads and one
//! write, 24 bytes for STREAM's f64 and 3 x 4 = 12 bytes for the f32 used
//! here. Write-allocate traffic is **not** counted: with ordinary stores a CPU
//! first reads each cache line of `a` before overwriting it, so the memory
//! system really moves 4/3 of the reported bytes. The reported figure is what
//! a kernel that reads two arrays and writes one sees, which is how the
//! roofline counts a layer's bytes too (inputs + output + parameters, each
//! once).

use serde::Serialize;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

/// The triad's scale factor.
const S: f32 = 3.0;

/// Result of the triad at one thread count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Triad {
    /// Threads that ran the triad at once, each on its own slice.
    pub threads: usize,
    /// Best bytes per second over the runs (STREAM counting, no write-allocate).
    pub bytes_per_s: f64,
}

/// Bytes the triad counts per element: read `b[i]` and `c[i]`, write `a[i]`.
pub const BYTES_PER_ELEMENT: u64 = 3 * 4;

/// Arrays of `array_bytes` bytes each, filled by `threads` threads (so that
/// pages are first touched by the threads that will use them).
pub(crate) struct Arrays {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl Arrays {
    pub fn new(array_bytes: usize) -> Arrays {
        let n = (array_bytes / 4).max(1);
        Arrays {
            a: vec![0.0; n],
            b: vec![1.0; n],
            c: vec![2.0; n],
        }
    }

    /// Elements per array.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Best bytes/s of `runs` triads on `threads` threads.
    pub fn triad(&mut self, threads: usize, runs: usize) -> Triad {
        let threads = threads.max(1);
        let n = self.len();
        let chunk = n.div_ceil(threads);
        let mut best = 0.0f64;
        for _ in 0..runs.max(1) {
            let seconds = if threads == 1 {
                let start = Instant::now();
                triad(&mut self.a, &self.b, &self.c);
                start.elapsed().as_secs_f64()
            } else {
                let barrier = Barrier::new(threads + 1);
                std::thread::scope(|s| {
                    let parts = self
                        .a
                        .chunks_mut(chunk)
                        .zip(self.b.chunks(chunk))
                        .zip(self.c.chunks(chunk));
                    let handles: Vec<_> = parts
                        .map(|((a, b), c)| {
                            let barrier = &barrier;
                            s.spawn(move || {
                                barrier.wait();
                                triad(a, b, c);
                            })
                        })
                        .collect();
                    // Fewer chunks than threads when n is tiny: release the barrier anyway.
                    for _ in handles.len()..threads {
                        s.spawn(|| barrier.wait());
                    }
                    barrier.wait();
                    let start = Instant::now();
                    for h in handles {
                        // A panicking thread only loses its timing.
                        let _ = h.join();
                    }
                    start.elapsed().as_secs_f64()
                })
            };
            black_box(&self.a);
            let bytes = (BYTES_PER_ELEMENT * n as u64) as f64;
            best = best.max(bytes / seconds.max(1e-9));
        }
        Triad {
            threads,
            bytes_per_s: best,
        }
    }
}

fn triad(a: &mut [f32], b: &[f32], c: &[f32]) {
    let s = black_box(S);
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triad_computes_and_reports_a_positive_rate() {
        let mut arrays = Arrays::new(4096);
        let t = arrays.triad(2, 2);
        // b = 1, c = 2, s = 3: a = 1 + 3 * 2 = 7 everywhere
        assert!(arrays.a.iter().all(|&x| x == 7.0));
        assert_eq!(arrays.len(), 1024);
        assert_eq!(t.threads, 2);
        assert!(t.bytes_per_s > 0.0 && t.bytes_per_s.is_finite());
    }
}
