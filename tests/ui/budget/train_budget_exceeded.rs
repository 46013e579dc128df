use netspec::network;

// conv: 64·3·3·3 + 64 = 1,792 params; it keeps its input, 3·32·32 = 3,072 floats per sample.
// Adam in f32 at batch 64: 16·1,792 + 64·4·3,072 = 815,104 B, over 512 KiB by 55.5 %.
// FLOPs 3,168,000 forward + 3,168,000 grad-weight (no grad-input: the input needs none).
network! {
    #[budget(train_memory(batch = 64, optimizer = adam) <= 512KiB, train_flops <= 5M)]
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}

fn main() {}
