use netspec::network;

network! {
    #[budget(train_memory(batch = 64, optimizer = adamm) <= 1GiB, train_memory <= 1GiB)]
    pub struct Net(x: [3, 32, 32]) {
        x -> conv: Conv2d(64, 3)
    }
}

fn main() {}
