//! How many threads the fast kernels use: [`set_num_threads`] and
//! [`num_threads`], like `torch.set_num_threads` / `torch.get_num_threads`.
//!
//! The default is every core the process may use
//! ([`std::thread::available_parallelism`]). Layers parallelise inside
//! themselves (over output tiles, channels or samples) on a rayon pool of
//! exactly that many threads; one thread runs everything on the calling
//! thread, with no pool at all.
//!
//! # Example
//! ```
//! netspec::set_num_threads(1);
//! assert_eq!(netspec::num_threads(), 1);
//! netspec::set_num_threads(0); // back to the default: all cores
//! assert_eq!(netspec::num_threads(), netspec::threads::available());
//! ```

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The requested thread count; 0 means "every core".
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// One pool per thread count ever asked for (in practice one or two).
static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();

/// Cores this process may use (at least 1).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Sets the number of threads every later forward pass uses; `0` restores
/// the default (all cores, [`available`]). Takes effect at the next layer.
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n, Ordering::Relaxed);
}

/// The number of threads the fast kernels use now.
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => available(),
        n => n,
    }
}

/// The pool of `n` threads, built on first use.
fn pool(n: usize) -> Option<Arc<ThreadPool>> {
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another thread panicked while inserting: the
    // map itself is still consistent.
    let mut pools = pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pools.get(&n) {
        return Some(Arc::clone(p));
    }
    let built = ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("netspec-{i}"))
        .build()
        .ok()?;
    let built = Arc::new(built);
    pools.insert(n, Arc::clone(&built));
    Some(built)
}

/// Runs `op(threads)` with [`num_threads`] threads available: on the calling
/// thread when that is 1 (or no pool can be built), else inside a rayon pool
/// of that size, so that rayon iterators and the GEMM's own parallelism use
/// exactly that many threads.
pub fn install<R: Send>(op: impl FnOnce(usize) -> R + Send) -> R {
    let n = num_threads();
    if n <= 1 || rayon::current_thread_index().is_some() {
        // Already on a pool thread (a nested call): stay there.
        let inside = rayon::current_num_threads();
        return op(if n <= 1 { 1 } else { inside.min(n) });
    }
    match pool(n) {
        Some(p) => p.install(|| op(n)),
        None => op(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_runs_on_a_pool_of_the_requested_size() {
        // Other tests may change the global count concurrently; this one only
        // checks what it can observe through its own call.
        let seen = install(|n| (n, rayon::current_num_threads()));
        if seen.0 > 1 {
            assert_eq!(seen.0, seen.1);
        }
        assert!(available() >= 1);
    }
}
