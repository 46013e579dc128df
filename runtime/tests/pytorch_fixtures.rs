//! The forward pass against PyTorch: torchvision's SqueezeNet 1.0 and
//! MobileNetV2, built here by hand as graphs (the zoo's `network!` versions are
//! checked elsewhere), run on the fixtures' `__input__` and compared with
//! `__output__`.
//!
//! The fixtures live in `shared/fixtures/` beside the repository (see its
//! README); set `NETSPEC_FIXTURES` to another folder to use a copy. When the
//! folder is absent the tests print a note and pass.

use netspec::{
    Activation, BatchNorm2d, Conv2d, Graph, LayerInfo, Linear, Model, Node, Op, Pool2d, Tensor,
    Totals,
};
use safetensors::SafeTensors;
use std::path::PathBuf;

/// Appends nodes in execution order; value ids as in [`Graph`].
struct Builder {
    nodes: Vec<Node<'static>>,
    layers: Vec<LayerInfo<'static>>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            nodes: Vec::new(),
            layers: Vec::new(),
        }
    }

    /// Adds `op` named `name` reading `inputs`; returns its value id.
    fn add(&mut self, name: &str, op: Op, inputs: &[usize]) -> usize {
        self.nodes.push(Node {
            op,
            inputs: inputs.to_vec().leak(),
        });
        self.layers.push(LayerInfo {
            name: name.to_string().leak(),
            kind: op.kind(),
            inputs: &[],
            output: &[],
            params: 0,
            buffers: 0,
            macs: 0,
            flops: 0,
            memory_access_bytes: 0,
            activations: 0,
        });
        self.nodes.len()
    }

    fn finish(self, name: &'static str, input: &'static [usize]) -> &'static Graph<'static> {
        let output = self.nodes.len();
        Box::leak(Box::new(Graph {
            name,
            input,
            nodes: self.nodes.leak(),
            layers: self.layers.leak(),
            output,
            scopes: &[],
            totals: Totals::default(),
        }))
    }
}

fn conv(
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad: usize,
    groups: usize,
    bias: bool,
) -> Op {
    Op::Conv2d(Conv2d {
        in_channels: cin,
        out_channels: cout,
        kernel: [k, k],
        stride: [stride, stride],
        padding: [[pad, pad], [pad, pad]],
        dilation: [1, 1],
        groups,
        bias,
    })
}

const RELU: Op = Op::Activation(Activation::ReLU);
const RELU6: Op = Op::Activation(Activation::ReLU6);

fn bn(channels: usize) -> Op {
    Op::BatchNorm2d(BatchNorm2d {
        channels,
        eps: 1e-5,
    })
}

/// torchvision `squeezenet1_0()`.
fn squeezenet1_0() -> &'static Graph<'static> {
    let mut b = Builder::new();
    let max_pool = Op::MaxPool2d(Pool2d {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [0, 0],
        dilation: [1, 1],
        ceil_mode: true,
        count_include_pad: true,
    });
    let mut v = b.add("features.0", conv(3, 96, 7, 2, 0, 1, true), &[0]);
    v = b.add("features.1", RELU, &[v]);
    v = b.add("features.2", max_pool, &[v]);
    let fires = [
        (3, 96, 16, 64),
        (4, 128, 16, 64),
        (5, 128, 32, 128),
        (7, 256, 32, 128),
        (8, 256, 48, 192),
        (9, 384, 48, 192),
        (10, 384, 64, 256),
        (12, 512, 64, 256),
    ];
    for (i, cin, squeeze, expand) in fires {
        if i == 7 || i == 12 {
            v = b.add(&format!("features.{}", i - 1), max_pool, &[v]);
        }
        let f = format!("features.{i}");
        let s = b.add(
            &format!("{f}.squeeze"),
            conv(cin, squeeze, 1, 1, 0, 1, true),
            &[v],
        );
        let s = b.add(&format!("{f}.squeeze_activation"), RELU, &[s]);
        let e1 = b.add(
            &format!("{f}.expand1x1"),
            conv(squeeze, expand, 1, 1, 0, 1, true),
            &[s],
        );
        let e1 = b.add(&format!("{f}.expand1x1_activation"), RELU, &[e1]);
        let e3 = b.add(
            &format!("{f}.expand3x3"),
            conv(squeeze, expand, 3, 1, 1, 1, true),
            &[s],
        );
        let e3 = b.add(&format!("{f}.expand3x3_activation"), RELU, &[e3]);
        v = b.add(&format!("{f}.cat"), Op::Concat, &[e1, e3]);
    }
    v = b.add("classifier.0", Op::Dropout { p: 0.5 }, &[v]);
    v = b.add("classifier.1", conv(512, 1000, 1, 1, 0, 1, true), &[v]);
    v = b.add("classifier.2", RELU, &[v]);
    v = b.add(
        "classifier.3",
        Op::AdaptiveAvgPool2d { output: [1, 1] },
        &[v],
    );
    b.add("flatten", Op::Flatten, &[v]);
    b.finish("SqueezeNet1_0", &[3, 224, 224])
}

/// Conv (no bias), batch norm, ReLU6 as `{name}.0`, `{name}.1`, `{name}.2`.
#[allow(clippy::too_many_arguments)]
fn conv_bn_relu6(
    b: &mut Builder,
    name: &str,
    v: usize,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    groups: usize,
) -> usize {
    let v = b.add(
        &format!("{name}.0"),
        conv(cin, cout, k, stride, k / 2, groups, false),
        &[v],
    );
    let v = b.add(&format!("{name}.1"), bn(cout), &[v]);
    b.add(&format!("{name}.2"), RELU6, &[v])
}

/// torchvision `mobilenet_v2()`.
fn mobilenet_v2() -> &'static Graph<'static> {
    let mut b = Builder::new();
    let mut v = conv_bn_relu6(&mut b, "features.0", 0, 3, 32, 3, 2, 1);
    let mut cin = 32;
    let mut index = 1;
    for (t, c, n, s) in [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ] {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let f = format!("features.{index}.conv");
            let hidden = cin * t;
            let mut x = v;
            let mut part = 0;
            if t != 1 {
                x = conv_bn_relu6(&mut b, &format!("{f}.0"), x, cin, hidden, 1, 1, 1);
                part = 1;
            }
            x = conv_bn_relu6(
                &mut b,
                &format!("{f}.{part}"),
                x,
                hidden,
                hidden,
                3,
                stride,
                hidden,
            );
            x = b.add(
                &format!("{f}.{}", part + 1),
                conv(hidden, c, 1, 1, 0, 1, false),
                &[x],
            );
            x = b.add(&format!("{f}.{}", part + 2), bn(c), &[x]);
            if stride == 1 && cin == c {
                x = b.add(&format!("features.{index}.add"), Op::Add, &[x, v]);
            }
            v = x;
            cin = c;
            index += 1;
        }
    }
    v = conv_bn_relu6(&mut b, "features.18", v, 320, 1280, 1, 1, 1);
    v = b.add("pool", Op::AdaptiveAvgPool2d { output: [1, 1] }, &[v]);
    v = b.add("flatten", Op::Flatten, &[v]);
    v = b.add("classifier.0", Op::Dropout { p: 0.2 }, &[v]);
    let head = Linear {
        in_features: 1280,
        out_features: 1000,
        bias: true,
    };
    b.add("classifier.1", Op::Linear(head), &[v]);
    b.finish("MobileNetV2", &[3, 224, 224])
}

fn fixture(name: &str) -> Option<Vec<u8>> {
    let dir = std::env::var_os("NETSPEC_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    let path = dir.join(format!("{name}.safetensors"));
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!("skipping: {}: {e}", path.display());
            None
        }
    }
}

fn tensor(st: &SafeTensors<'_>, name: &str) -> Tensor {
    let view = st.tensor(name).unwrap();
    let data = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Tensor::new(view.shape(), data).unwrap()
}

/// Loads the fixture, runs the model and returns `max|ours - torch| / max|torch|`.
fn relative_error(graph: &'static Graph<'static>, name: &str) -> Option<f32> {
    let bytes = fixture(name)?;
    let model = Model::from_safetensors(graph, &bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (x, expected) = (tensor(&st, "__input__"), tensor(&st, "__output__"));
    let y = model.forward(&x).unwrap();
    let scale = expected.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = y.max_abs_diff(&expected).unwrap() / scale;
    eprintln!("{name}: max |ours - torch| / max |torch| = {err:.2e}");
    // A batch of two gives each sample the same answer.
    let batch = Tensor::new(&[2, 3, 224, 224], [x.data(), x.data()].concat()).unwrap();
    let y2 = model.forward(&batch).unwrap();
    assert_eq!(y2.shape(), &[2, 1000]);
    assert_eq!(&y2.data()[..1000], y.data());
    assert_eq!(&y2.data()[1000..], y.data());
    Some(err)
}

#[test]
fn squeezenet1_0_matches_pytorch() {
    if let Some(err) = relative_error(squeezenet1_0(), "squeezenet1_0") {
        assert!(err <= 1e-4, "relative error {err}");
    }
}

#[test]
fn mobilenet_v2_matches_pytorch() {
    if let Some(err) = relative_error(mobilenet_v2(), "mobilenet_v2") {
        assert!(err <= 1e-4, "relative error {err}");
    }
}
