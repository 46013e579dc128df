//! The data model shared by the netspec compiler (which runs inside the
//! `network!` macro) and the netspec runtime: operations, shape inference,
//! the cost model, per-layer records and the text report.
//!
//! Nothing here depends on a compiler plugin, so every rule can be unit-tested
//! directly and both sides of the project agree by construction.
#![warn(missing_docs)]

pub mod convention;
pub mod cost;
pub mod format;
pub mod info;
pub mod metric;
pub mod op;
pub mod presets;
pub mod report;
pub mod roofline;
pub mod shape;
pub mod training;

pub use convention::{count, Convention, Counts};
pub use cost::Costs;
pub use info::{Graph, LayerInfo, Node, Scope, Totals};
pub use metric::{Metric, Unit};
pub use op::{
    Activation, BatchNorm2d, Conv2d, ConvNd, Dims, GroupNorm, Interpolate, InterpolationMode,
    LayerNorm, Linear, Op, Pool2d, PoolNd, StoredTensor, TensorRole, MAX_RANK,
};
pub use shape::{Blame, ShapeError};
pub use training::{Optimizer, Precision, Training};
