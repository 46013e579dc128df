//! Shared weights (one named module applied several times) and networks
//! with several outputs, end to end: counts by hand, the state dict, the
//! forward pass against an unshared twin with the same weights, peak
//! memory, the report, and the fast backend's fusions around outputs.

use netspec::{network, Backend, Model, Network, Tensor};

mod common;
use common::{input, values};

network! {
    /// One branch of the Siamese network.
    block Branch(x) {
        x -> conv1: Conv2d(8, 3, padding = 1, bias = false) -> bn: BatchNorm2d -> ReLU
          -> pool: AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(4)
    }

    /// A Siamese network: the input's two halves through one shared branch.
    pub struct Siamese(x: [6, 8, 8]) {
        let (a, b) = chunk(x, 2, dim = 1);
        let encoder = encoder: Branch;
        let fa = a -> encoder;
        let fb = encoder(b);
        let d = fa - fb;
        d * d -> head: Linear(1)
    }

    /// The same network with two branches of their own.
    pub struct SiameseTwin(x: [6, 8, 8]) {
        let (a, b) = chunk(x, 2, dim = 1);
        let fa = a -> left: Branch;
        let fb = b -> right: Branch;
        let d = fa - fb;
        d * d -> head: Linear(1)
    }

    /// A refinement step applied three times.
    block Refine(x, c) {
        let y = x -> conv: Conv2d(c, 3, padding = 1) -> ReLU;
        x + y
    }

    pub struct Recurrent(x: [4, 6, 6]) {
        let step = step: Refine(4);
        x -> stem: Conv2d(4, 1) -> step -> step -> step
    }

    /// The same, unrolled into three steps of their own.
    pub struct Unrolled(x: [4, 6, 6]) {
        x -> stem: Conv2d(4, 1) -> s0: Refine(4) -> s1: Refine(4) -> s2: Refine(4)
    }

    /// An output and an auxiliary output computed early.
    pub struct TwoHeads(x: [3, 8, 8]) {
        let f = x -> stem: Conv2d(8, 3, padding = 1);
        let aux = f -> aux: Conv2d(4, 1);
        let out = f -> ReLU -> c2: Conv2d(8, 3, padding = 1) -> pool: AdaptiveAvgPool2d(1)
            -> Flatten -> fc: Linear(5);
        (out, aux)
    }

    /// A backbone tapped at two depths: a block returning a tuple.
    block Features(x) {
        let low = x -> stem: Conv2d(4, 3, padding = 1) -> ReLU;
        let high = low -> down: Conv2d(8, 3, stride = 2, padding = 1) -> ReLU;
        (low, high)
    }

    /// `TwoHeads`' pattern with the taps inside a block.
    pub struct Tapped2(x: [3, 8, 8]) {
        let (low, high) = x -> backbone: Features;
        let up = interpolate(high -> proj: Conv2d(4, 1), size = (low.height, low.width), mode = "bilinear");
        (low + up -> head: Conv2d(2, 1), high)
    }

    /// `TwoHeads` returning `out` alone (`aux` is computed, never read).
    pub struct OneHead(x: [3, 8, 8]) {
        let f = x -> stem: Conv2d(8, 3, padding = 1);
        let aux = f -> aux: Conv2d(4, 1);
        f -> ReLU -> c2: Conv2d(8, 3, padding = 1) -> pool: AdaptiveAvgPool2d(1)
            -> Flatten -> fc: Linear(5)
    }

    /// Outputs that the fast backend would otherwise fuse away: a
    /// convolution's output before its batch norm, and a linear layer's
    /// before its activation.
    pub struct Tapped(x: [3, 6, 6]) {
        let c = x -> conv: Conv2d(4, 3, padding = 1);
        let y = c -> bn: BatchNorm2d -> ReLU -> Flatten;
        let l = y -> fc: Linear(6);
        let z = l -> ReLU;
        (z, c, l)
    }
}

/// Every tensor of `model` set to distinct values (batch-norm variances
/// positive), so that sharing, folding and fusing all show.
fn perturb(model: &mut Model) {
    let names: Vec<(String, usize)> = model
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.len()))
        .collect();
    for (k, (name, len)) in names.iter().enumerate() {
        let shape = model.tensor(name).unwrap().shape().to_vec();
        let (lo, hi) = if name.ends_with("running_var") {
            (0.5, 2.0)
        } else {
            (-0.5, 0.5)
        };
        let t = Tensor::new(&shape, values(*len, k + 3, lo, hi)).unwrap();
        model.set_tensor(name, t).unwrap();
    }
}

/// `twin` with the tensors of `shared`, each copied to every name `rename`
/// gives it.
fn copy_into(shared: &Model, twin: &mut Model, rename: impl Fn(&str) -> Vec<String>) {
    for (name, t) in shared.tensors() {
        for to in rename(&name) {
            twin.set_tensor(&to, t.clone())
                .unwrap_or_else(|e| panic!("{name} -> {to}: {e}"));
        }
    }
}

/// Asserts `a` and `b` agree to `tol` of the largest value, or exactly.
fn close(a: &Tensor, b: &Tensor, tol: f32, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let largest = b.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(largest > 0.0, "{what}: all zero");
    let diff = a.max_abs_diff(b).unwrap();
    assert!(diff <= tol * largest, "{what}: {diff} against {largest}");
}

fn both_backends(model: &Model) -> [Model; 2] {
    [
        model.clone().with_backend(Backend::Reference),
        model.clone().with_backend(Backend::Fast),
    ]
}

#[test]
fn siamese_counts_params_once_and_macs_twice() {
    // conv1 8·3·9 = 216, bn 8 + 8 (and 16 buffers), fc 8·4 + 4 = 36: 268
    // for the branch, once; head 4·1 + 1 = 5.
    assert_eq!(Siamese::PARAMS, 268 + 5);
    assert_eq!(Siamese::BUFFERS, 16);
    assert_eq!(SiameseTwin::PARAMS, 2 * 268 + 5);
    // conv1 8·64·27 = 13,824 and fc 32, each application; head 4.
    assert_eq!(Siamese::MACS, 2 * (13_824 + 32) + 4);
    assert_eq!(Siamese::MACS, SiameseTwin::MACS);
    assert_eq!(Siamese::FLOPS, SiameseTwin::FLOPS);
    assert_eq!(Siamese::ACTIVATIONS, SiameseTwin::ACTIVATIONS);
    assert_eq!(Siamese::WEIGHT_BYTES, 4 * 273);
    // Every application is a node of its own under the one path; the later
    // one's weighted nodes share the first's tensors and count 0 params.
    let convs: Vec<(usize, u64, u64)> = Siamese::LAYERS
        .iter()
        .enumerate()
        .filter(|(_, l)| l.name == "encoder.conv1")
        .map(|(i, l)| (i, l.params, l.macs))
        .collect();
    assert_eq!(convs.len(), 2);
    assert_eq!((convs[0].1, convs[0].2), (216, 13_824));
    assert_eq!((convs[1].1, convs[1].2), (0, 13_824));
    let graph = Siamese::GRAPH;
    assert_eq!(graph.nodes[convs[0].0].shares, None);
    assert_eq!(graph.nodes[convs[1].0].shares, Some(convs[0].0));
    let shared = graph.nodes.iter().filter(|n| n.shares.is_some()).count();
    assert_eq!(shared, 3, "conv1, bn and fc of the second application");
}

#[test]
fn a_shared_application_reads_its_weights_once_per_batch() {
    // Per sample, each application moves what its twin's branch moves, its
    // weights included; at batch N, each reads them once, not N times.
    let bytes = |g: &netspec::Graph<'_>, batch: u64| -> u64 {
        (0..g.layers.len()).map(|i| g.batch_bytes(i, batch)).sum()
    };
    assert_eq!(
        Siamese::MEMORY_ACCESS_BYTES,
        SiameseTwin::MEMORY_ACCESS_BYTES
    );
    for batch in [1, 4, 32] {
        assert_eq!(
            bytes(Siamese::GRAPH, batch),
            bytes(SiameseTwin::GRAPH, batch),
            "batch {batch}"
        );
    }
    // The second conv1 reads its owner's 216 weights once: N · (bytes − 864) + 864.
    let (i, conv) = Siamese::LAYERS
        .iter()
        .enumerate()
        .filter(|(_, l)| l.name == "encoder.conv1")
        .nth(1)
        .unwrap();
    let per_sample = conv.costs.memory_access_bytes;
    assert_eq!(
        Siamese::GRAPH.batch_bytes(i, 8),
        8 * (per_sample - 864) + 864
    );
}

#[test]
fn siamese_state_dict_holds_the_branch_once() {
    let mut model = Siamese::random(1).model().clone();
    perturb(&mut model);
    let path =
        std::env::temp_dir().join(format!("netspec-shared-{}.safetensors", std::process::id()));
    model.save_safetensors(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<&str> = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "encoder.bn.bias",
            "encoder.bn.running_mean",
            "encoder.bn.running_var",
            "encoder.bn.weight",
            "encoder.conv1.weight",
            "encoder.fc.bias",
            "encoder.fc.weight",
            "head.bias",
            "head.weight",
        ]
    );
    // It loads back, the second application running on the same tensors.
    let back = Siamese::from_safetensors(&bytes).unwrap();
    let x = input::<Siamese>(2, 5);
    assert_eq!(
        back.model()
            .clone()
            .with_backend(Backend::Reference)
            .forward(&x)
            .unwrap(),
        model.with_backend(Backend::Reference).forward(&x).unwrap()
    );
}

#[test]
fn siamese_forward_applies_the_same_branch_twice() {
    let mut shared = Siamese::random(3).model().clone();
    perturb(&mut shared);
    let mut twin = SiameseTwin::random(9).model().clone();
    copy_into(&shared, &mut twin, |name| {
        match name.strip_prefix("encoder.") {
            Some(rest) => vec![format!("left.{rest}"), format!("right.{rest}")],
            None => vec![name.to_string()],
        }
    });
    let x = input::<Siamese>(3, 11);
    let [s_ref, s_fast] = both_backends(&shared);
    let [t_ref, t_fast] = both_backends(&twin);
    let want = t_ref.forward(&x).unwrap();
    assert_eq!(want.shape(), &[3, 1]);
    // The same kernels on the same numbers: exactly equal.
    assert_eq!(s_ref.forward(&x).unwrap(), want);
    close(&s_fast.forward(&x).unwrap(), &want, 1e-5, "fast");
    close(&t_fast.forward(&x).unwrap(), &want, 1e-5, "twin fast");
    // Changing the one branch changes both applications.
    let mut other = shared.clone();
    let w = other.tensor("encoder.fc.weight").unwrap().shape().to_vec();
    other
        .set_tensor("encoder.fc.weight", Tensor::zeros(&w).unwrap())
        .unwrap();
    other
        .set_tensor("encoder.fc.bias", Tensor::zeros(&[4]).unwrap())
        .unwrap();
    // Both branches give 0: d = 0, the output is the head's bias.
    let bias = other.tensor("head.bias").unwrap().data()[0];
    for m in both_backends(&other) {
        let y = m.forward(&x).unwrap();
        assert!(y.data().iter().all(|&v| v == bias), "{:?}", y.data());
    }
}

#[test]
fn a_step_applied_three_times_matches_its_unrolled_twin() {
    // stem 4·4 + 4 = 20; the step's conv 4·4·9 + 4 = 148, once.
    assert_eq!(Recurrent::PARAMS, 20 + 148);
    assert_eq!(Unrolled::PARAMS, 20 + 3 * 148);
    // stem 4·36·4 = 576; each step 4·36·36 = 5,184.
    assert_eq!(Recurrent::MACS, 576 + 3 * 5_184);
    assert_eq!(Recurrent::MACS, Unrolled::MACS);
    assert_eq!(
        Recurrent::PEAK_ACTIVATION_BYTES,
        Unrolled::PEAK_ACTIVATION_BYTES
    );
    let mut shared = Recurrent::random(4).model().clone();
    perturb(&mut shared);
    let mut twin = Unrolled::random(8).model().clone();
    copy_into(&shared, &mut twin, |name| {
        match name.strip_prefix("step.") {
            Some(rest) => (0..3).map(|i| format!("s{i}.{rest}")).collect(),
            None => vec![name.to_string()],
        }
    });
    let x = input::<Recurrent>(2, 2);
    let want = twin
        .clone()
        .with_backend(Backend::Reference)
        .forward(&x)
        .unwrap();
    let [r, f] = both_backends(&shared);
    assert_eq!(r.forward(&x).unwrap(), want);
    close(&f.forward(&x).unwrap(), &want, 1e-5, "fast");
    // The report shows each application, the first with the params.
    let report = Recurrent::REPORT;
    for k in 1..=3 {
        let row = format!("step (Refine, application {k} of 3)");
        assert!(report.contains(&row), "{row} in\n{report}");
    }
    let first = report
        .lines()
        .find(|l| l.contains("application 1 of 3"))
        .unwrap();
    let later = report
        .lines()
        .find(|l| l.contains("application 2 of 3"))
        .unwrap();
    assert!(first.contains("148"), "{first}");
    assert!(!later.contains("148"), "{later}");
    // A shared layer module is marked on its own rows.
    network! {
        pub struct Tied(x: [4]) {
            let fc = fc: Linear(4);
            x -> fc -> ReLU -> fc
        }
    }
    assert!(Tied::REPORT.contains("fc (Linear, application 1 of 2)"));
    assert!(Tied::REPORT.contains("fc (Linear, application 2 of 2)"));
    assert_eq!(Tied::PARAMS, 20);
    assert_eq!(Tied::MACS, 32);
}

#[test]
fn a_block_returns_features_at_two_depths() {
    assert_eq!(Tapped2::OUTPUT_SHAPES, &[&[2, 8, 8][..], &[8, 4, 4][..]]);
    let names: Vec<&str> = Tapped2::LAYERS.iter().map(|l| l.name).collect();
    assert!(names.starts_with(&["backbone.stem", "backbone.relu", "backbone.down"]));
    assert_eq!(
        Tapped2::PARAMS,
        4 * 27 + 4 + 8 * 36 + 8 + 8 * 4 + 4 + 4 * 2 + 2
    );
    let net = Tapped2::random(4);
    let x = input::<Tapped2>(2, 5);
    let (out, high) = net.forward(&x).unwrap();
    assert_eq!(
        (out.shape(), high.shape()),
        (&[2, 2, 8, 8][..], &[2, 8, 4, 4][..])
    );
    // stem 4·64·27, down 8·16·36, proj 4·16·8, head 2·64·4.
    assert_eq!(Tapped2::MACS, 6_912 + 4_608 + 512 + 512);
}

#[test]
fn two_outputs_are_shaped_returned_and_kept_alive() {
    assert_eq!(TwoHeads::OUTPUT_SHAPE, &[5]);
    assert_eq!(TwoHeads::OUTPUT_SHAPES, &[&[5][..], &[4, 8, 8][..]]);
    assert_eq!(<TwoHeads as Network>::OUTPUT_SHAPES.len(), 2);
    assert_eq!(OneHead::OUTPUT_SHAPES, &[&[5][..]]);
    // Values per sample: x 192, stem 512, aux 256, relu 512, c2 512, pool 8,
    // flatten 8, fc 5. With aux an output, after c2 runs: aux 256 + relu 512
    // + c2 512 = 1,280 alive (stem died after relu); with aux never read it
    // dies at once, and the most alive is 1,024 (stem + relu, relu + c2).
    assert_eq!(TwoHeads::PEAK_ACTIVATION_BYTES, 4 * 1_280);
    assert_eq!(OneHead::PEAK_ACTIVATION_BYTES, 4 * 1_024);
    assert_eq!(TwoHeads::MACS, OneHead::MACS);
    let graph = TwoHeads::GRAPH;
    assert_eq!(graph.outputs, &[7, 2]);
    assert_eq!(graph.output, 7);
    // forward returns the tuple; the model returns them all.
    let net = TwoHeads::random(2);
    let x = input::<TwoHeads>(2, 3);
    let (out, aux) = net.forward(&x).unwrap();
    assert_eq!((out.shape(), aux.shape()), (&[2, 5][..], &[2, 4, 8, 8][..]));
    let all = net.model().forward_outputs(&x).unwrap();
    assert_eq!(all, [out.clone(), aux.clone()]);
    let mut seen = 0;
    let (o2, a2) = net.forward_observed(&x, &mut |_| seen += 1).unwrap();
    assert_eq!(
        (seen, o2, a2),
        (graph.nodes.len(), out.clone(), aux.clone())
    );
    // Model::forward gives the first.
    assert_eq!(net.model().forward(&x).unwrap(), out);
    // The reference backend agrees (it frees values as it goes).
    let r = net.model().clone().with_backend(Backend::Reference);
    let all = r.forward_outputs(&x).unwrap();
    close(&all[0], &out, 1e-5, "out");
    close(&all[1], &aux, 1e-5, "aux");
    // The report lists both outputs.
    let first = TwoHeads::REPORT.lines().next().unwrap();
    assert_eq!(
        first,
        "TwoHeads: input [3, 8, 8] -> outputs [5] (fc), [4, 8, 8] (aux) (per sample)"
    );
}

#[test]
fn outputs_read_later_are_not_fused_away() {
    assert_eq!(Tapped::OUTPUT_SHAPES, &[&[6][..], &[4, 6, 6][..], &[6][..]]);
    let mut model = Tapped::random(6).model().clone();
    perturb(&mut model);
    let x = input::<Tapped>(2, 7);
    let [r, f] = both_backends(&model);
    let want = r.forward_outputs(&x).unwrap();
    let got = f.forward_outputs(&x).unwrap();
    assert_eq!(got.len(), 3);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        close(g, w, 1e-5, &format!("output {k}"));
    }
    // The convolution's output is the convolution's: it has negative values
    // (no ReLU fused in) and is not batch-normed (the batch norm was not
    // folded into it): recompute its first value by hand.
    let conv = &want[1];
    assert!(conv.data().iter().any(|&v| v < 0.0));
    let w = model.tensor("conv.weight").unwrap().data();
    let b = model.tensor("conv.bias").unwrap().data()[0];
    // Output channel 0 at (0, 0): padding 1, so the kernel's rows and
    // columns 1..3 meet the input's 0..2.
    let mut v = b;
    for c in 0..3 {
        for i in 1..3 {
            for j in 1..3 {
                v += w[c * 9 + i * 3 + j] * x.data()[c * 36 + (i - 1) * 6 + (j - 1)];
            }
        }
    }
    assert!(
        (got[1].data()[0] - v).abs() < 1e-5,
        "{} vs {v}",
        got[1].data()[0]
    );
    // The linear layer's output is before its ReLU.
    assert!(got[2].data().iter().any(|&v| v < 0.0));
    let relu: Vec<f32> = got[2].data().iter().map(|v| v.max(0.0)).collect();
    assert_eq!(got[0].data(), &relu[..]);
    // Typed: a tuple of three.
    let (z, c, l) = Tapped::random(6).forward(&x).unwrap();
    assert_eq!(
        (z.shape(), c.shape(), l.shape()),
        (&[2, 6][..], &[2, 4, 6, 6][..], &[2, 6][..])
    );
}
