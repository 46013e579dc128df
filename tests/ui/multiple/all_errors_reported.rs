use netspec::network;

network! {
    block Unit(x, planes) { x -> conv: Conv2d(planes, 3, padding = 1) }
    pub struct First(x: [3, 32, 32]) {
        x -> Conv2d(8, 3, strde = 2) -> Lnear(10)
    }
    pub struct Second(x: [3, 32, 32]) {
        x -> u: Unit(8, 9) -> fc: Linear(10)
    }
}

fn main() {}
