//! Examples only: see `tour.rs` and the others beside this crate's manifest.
