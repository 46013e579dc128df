use netspec::network;

// The call's parentheses and 64 more around the width: 65 levels, one more
// than the parser allows. The error sits on the first level too many.
network! {
    pub struct Net(x: [3, 32, 32]) {
        x -> Flatten -> Linear(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((10)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
    }
}

fn main() {}
