use netspec::network;

network! {
    pub struct Mode(x: [3, 8, 8]) {
        x -> StochasticDepth(0.2, mode = "column")
    }
    pub struct Probability(x: [3, 8, 8]) {
        x -> StochasticDepth(1.5)
    }
}

fn main() {}
