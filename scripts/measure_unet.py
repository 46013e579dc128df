"""Params and MACs of the classic U-Net (Ronneberger et al., 2015) as `netspec::zoo::UNet` and
`SmallUNet` declare it, written here in plain PyTorch (the same modules, names and centre
crops), measured with PyTorch's FlopCounterMode (convolution FLOPs / 2): the independent check
of the hand count in tests/tests/dense_zoo.rs. Also what fvcore 0.1.5, thop 0.1.1 and ptflops
0.7.5 count (the conventions).

    python scripts/measure_unet.py
"""
import warnings
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


class DoubleConv(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3)
        self.conv2 = nn.Conv2d(c_out, c_out, 3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.conv2(self.relu(self.conv1(x))))


class Up(DoubleConv):
    def __init__(self, c_in, c_out):
        super().__init__(2 * c_out, c_out)
        self.up = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)

    def forward(self, x, skip):
        u = self.up(x)
        top = (skip.shape[2] - u.shape[2]) // 2
        left = (skip.shape[3] - u.shape[3]) // 2
        cropped = skip[:, :, top:top + u.shape[2], left:left + u.shape[3]]
        return super().forward(torch.cat([cropped, u], 1))


class UNet(nn.Module):
    def __init__(self, c=64, classes=2):
        super().__init__()
        self.down1, self.down2 = DoubleConv(1, c), DoubleConv(c, 2 * c)
        self.down3, self.down4 = DoubleConv(2 * c, 4 * c), DoubleConv(4 * c, 8 * c)
        self.bottleneck = DoubleConv(8 * c, 16 * c)
        self.pool = nn.MaxPool2d(2, stride=2)
        self.up1, self.up2 = Up(16 * c, 8 * c), Up(8 * c, 4 * c)
        self.up3, self.up4 = Up(4 * c, 2 * c), Up(2 * c, c)
        setattr(self, "final", nn.Conv2d(c, classes, 1))

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(self.pool(d1))
        d3 = self.down3(self.pool(d2))
        d4 = self.down4(self.pool(d3))
        b = self.bottleneck(self.pool(d4))
        return self.final(self.up4(self.up3(self.up2(self.up1(b, d4), d3), d2), d1))


for name, c, size in [("UNet", 64, 572), ("SmallUNet", 4, 188)]:
    m = UNet(c).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        y = m(torch.randn(1, 1, size, size))
    params = sum(p.numel() for p in m.parameters())
    print(f"{name} 1x{size}x{size} -> {list(y.shape[1:])}: params {params}, macs {fc.get_total_flops() // 2}")

warnings.filterwarnings("ignore")
import thop, ptflops
from fvcore.nn import FlopCountAnalysis

for name, c, size in [("UNet", 64, 572), ("SmallUNet", 4, 188)]:
    x = torch.randn(1, 1, size, size)
    fv = FlopCountAnalysis(UNet(c).eval(), x)
    fv.unsupported_ops_warnings(False)
    th = int(thop.profile(UNet(c).eval(), inputs=(x,), verbose=False)[0])
    pt, _ = ptflops.get_model_complexity_info(UNet(c).eval(), (1, size, size), as_strings=False,
                                              print_per_layer_stat=False, verbose=False,
                                              backend="pytorch")
    print(f"{name}: fvcore {fv.total()}, thop {th}, ptflops {pt}")
