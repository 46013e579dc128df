//! 2-D convolution as a packed matrix product, with the weights prepared once.
//!
//! For each sample and group, with `K = C_in/groups · k_h · k_w` and
//! `P = H_out · W_out`:
//! `out[C_out/groups, P] = W[C_out/groups, K] · cols[K, P]`, where `cols` is
//! the input itself for a 1x1 stride-1 unpadded convolution and otherwise the
//! im2col matrix, built tile by tile in a per-thread workspace that is
//! reused from call to call. Bias, a folded batch norm and the activation
//! are applied to each output row right after the product (one pass, while
//! the row is in cache). The products, their threads and the epilogue are
//! [`super::packed`]'s, shared with the 3-D and transposed convolutions (a
//! 2-D geometry is a 3-D one of depth 1). Groups with fewer than
//! [`GEMM_MIN_COUT`] output channels (depthwise) run the direct kernel of
//! [`super::depthwise`] instead.

use super::depthwise;
use super::packed::{self, epilogue, Packed, PackedLayer};
use crate::error::{kernel, Error};
use crate::kernels::conv::{check_groups, out_len};
use crate::kernels::conv_nd;
use crate::kernels::{check_len, nchw};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::Conv2d;

/// Output channels per group from which a group runs as a matrix product
/// (fewer: the direct kernel).
pub const GEMM_MIN_COUT: usize = 4;

/// A 2-D convolution ready to run: weights `[C_out, C_in / groups · k_h ·
/// k_w]`, row-major (PyTorch's `[C_out, C_in / groups, k_h, k_w]` with the
/// taps flattened), scaled by a folded batch norm; bias `[C_out]` (0
/// without one, then the folded batch norm's shift); the activation after
/// it.
pub type PackedConv = PackedLayer<Conv2d>;

/// One convolution's geometry for one input shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geom {
    pub n: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub groups: usize,
    pub cin_g: usize,
    pub cout_g: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub pt: usize,
    pub pl: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    /// Output pixels per channel.
    pub fn plane(&self) -> usize {
        self.oh * self.ow
    }

    /// The same geometry as a 3-D one of depth 1, as the shared products
    /// read it.
    fn volume(&self) -> conv_nd::Geom {
        conv_nd::Geom {
            n: self.n,
            cin: self.cin,
            cout: self.cout,
            groups: self.groups,
            cin_g: self.cin_g,
            cout_g: self.cout_g,
            input: [1, self.h, self.w],
            output: [1, self.oh, self.ow],
            kernel: [1, self.kh, self.kw],
            stride: [1, self.sh, self.sw],
            dilation: [1, self.dh, self.dw],
            pad: [0, self.pt, self.pl],
            rank: 2,
        }
    }
}

impl PackedLayer<Conv2d> {
    /// Checks and stores a convolution's weights (`[C_out, C_in / groups, k_h, k_w]`,
    /// PyTorch layout) and optional bias (`[C_out]`).
    pub fn new(c: &Conv2d, weight: &[f32], bias: Option<&[f32]>) -> Result<PackedConv, Error> {
        let groups = c.groups;
        check_groups("Conv2d", c.in_channels, c.out_channels, groups)?;
        let [kh, kw] = c.kernel;
        check_len(
            "Conv2d",
            "weight",
            weight,
            &[c.out_channels, c.in_channels / groups, kh, kw],
        )?;
        packed::check_bias("Conv2d", bias, c.out_channels)?;
        Ok(PackedLayer {
            conv: *c,
            packed: Packed::new(weight.to_vec(), bias, c.out_channels, "BatchNorm2d"),
        })
    }

    /// The geometry for input `[n, c_in, h, w]`, or why it does not fit.
    pub(crate) fn geometry(&self, shape: [usize; 4]) -> Result<Geom, Error> {
        let c = &self.conv;
        let [n, cin, h, w] = shape;
        if cin != c.in_channels {
            return kernel(
                "Conv2d",
                format!("expects {} input channels, found {cin}", c.in_channels),
            );
        }
        let oh = out_len(
            "height",
            h,
            c.padding[0],
            c.kernel[0],
            c.stride[0],
            c.dilation[0],
        )?;
        let ow = out_len(
            "width",
            w,
            c.padding[1],
            c.kernel[1],
            c.stride[1],
            c.dilation[1],
        )?;
        Ok(Geom {
            n,
            cin,
            h,
            w,
            cout: c.out_channels,
            groups: c.groups,
            cin_g: cin / c.groups,
            cout_g: c.out_channels / c.groups,
            kh: c.kernel[0],
            kw: c.kernel[1],
            sh: c.stride[0],
            sw: c.stride[1],
            dh: c.dilation[0],
            dw: c.dilation[1],
            pt: c.padding[0][0],
            pl: c.padding[1][0],
            oh,
            ow,
        })
    }

    /// Output shape `[N, C_out, H_out, W_out]` for input `shape`.
    pub fn output_shape(&self, shape: &[usize]) -> Result<[usize; 4], Error> {
        let [n, c, h, w] = *shape else {
            return kernel(
                "Conv2d",
                format!("expects a [N, C, H, W] input, found rank {}", shape.len()),
            );
        };
        let g = self.geometry([n, c, h, w])?;
        Ok([n, g.cout, g.oh, g.ow])
    }

    /// Floats of im2col workspace one thread needs for input `shape`: one
    /// tile (0 when the convolution reads its input in place or runs
    /// directly).
    pub fn workspace_len(&self, shape: [usize; 4]) -> usize {
        match self.geometry(shape) {
            Ok(g) if g.cout_g >= GEMM_MIN_COUT => packed::workspace_len(&g.volume(), false),
            _ => 0,
        }
    }

    /// The convolution of `x` (`[N, C_in, H, W]`): `[N, C_out, H_out, W_out]`.
    pub fn run(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.run_reusing(x, Tensor::from_parts(vec![0], Vec::new()))
    }

    /// [`PackedConv::run`], writing the output into `buffer`'s allocation
    /// (any shape, contents ignored): a forward pass that keeps its buffers
    /// allocates nothing here.
    pub fn run_reusing(&self, x: &Tensor, buffer: Tensor) -> Result<Tensor, Error> {
        let shape = nchw("Conv2d", x)?;
        let g = self.geometry(shape)?;
        let mut out = buffer.into_data();
        out.resize(g.n * g.cout * g.plane(), 0.0);
        self.run_into(x.data(), &g, &mut out)?;
        Ok(Tensor::from_parts(vec![g.n, g.cout, g.oh, g.ow], out))
    }

    /// The convolution of `x` (laid out as `g` says) into `out`
    /// (`[N, C_out, H_out, W_out]`, overwritten).
    fn run_into(&self, x: &[f32], g: &Geom, out: &mut [f32]) -> Result<(), Error> {
        let plane = g.plane();
        if x.len() != g.n * g.cin * g.h * g.w || out.len() != g.n * g.cout * plane {
            return kernel(
                "Conv2d",
                format!(
                    "input of {} values and output of {} values do not fit the geometry {g:?}",
                    x.len(),
                    out.len()
                ),
            );
        }
        if out.is_empty() {
            return Ok(());
        }
        let p = &self.packed;
        if x.is_empty() {
            // Every tap reads padding: the output is the epilogue of zero.
            for (row, &b) in out.chunks_exact_mut(plane).zip(p.bias.iter().cycle()) {
                row.fill(0.0);
                epilogue(row, b, p.activation);
            }
            return Ok(());
        }
        if g.cout_g < GEMM_MIN_COUT {
            depthwise::run(x, g, &p.weight, &p.bias, p.activation, out);
            return Ok(());
        }
        let volume = g.volume();
        threads::install(|threads| p.run("Conv2d", x, &volume, out, false, threads))
    }
}
