use netspec::network;

// Empty lists add no layer, but every repetition and scope draws on the
// expansion's budget: the error sits under the count to change.
network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> [[]; 1000000] -> Flatten
    }
}

fn main() {}
