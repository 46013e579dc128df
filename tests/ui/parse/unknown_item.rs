use netspec::network;

network! {
    fn helper() {}
}

fn main() {}
