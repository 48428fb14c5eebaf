"""PyTorch reference definitions of srgan-dist's three networks.

Module names here are the contract: srgan-dist names every tensor as these modules'
state_dict() does, so model files move between the two with load_state_dict(strict=True).
"""
import torch
from torch import nn


class ResidualBlock(nn.Module):
    """conv3x3, BN, PReLU, conv3x3, BN, + skip (convolutions before BN carry no bias);
    with bn=False the batch norms are left out and the convolutions carry a bias."""

    def __init__(self, c, bn=True):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(c) if bn else nn.Identity()
        self.act = nn.PReLU(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=not bn)
        self.bn2 = nn.BatchNorm2d(c) if bn else nn.Identity()

    def forward(self, x):
        return x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))


class ResidualGroup(nn.Module):
    """R residual blocks with a skip around the group (the residual-in-residual variant)."""

    def __init__(self, c, blocks, bn=True):
        super().__init__()
        self.blocks = nn.Sequential(*[ResidualBlock(c, bn) for _ in range(blocks)])

    def forward(self, x):
        return x + self.blocks(x)


class Upsampler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, 4 * c, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.act = nn.PReLU(c)

    def forward(self, x):
        return self.act(self.shuffle(self.conv(x)))


class Generator(nn.Module):
    """SRResNet: groups=0 gives the paper's B residual blocks; groups>0 gives G groups of B."""

    def __init__(self, channels=64, blocks=16, groups=0, scale=4, in_channels=3, out_channels=3, bn=True,
                 tail_kernel=9):
        super().__init__()
        c = channels
        self.head = nn.Conv2d(in_channels, c, 9, padding=4)
        self.head_act = nn.PReLU(c)
        if groups == 0:
            self.body = nn.Sequential(*[ResidualBlock(c, bn) for _ in range(blocks)])
        else:
            self.body = nn.Sequential(*[ResidualGroup(c, blocks, bn) for _ in range(groups)])
        self.body_conv = nn.Conv2d(c, c, 3, padding=1, bias=not bn)
        self.body_bn = nn.BatchNorm2d(c) if bn else nn.Identity()
        steps = scale.bit_length() - 1
        self.upsample = nn.Sequential(*[Upsampler(c) for _ in range(steps)])
        self.tail = nn.Conv2d(c, out_channels, tail_kernel, padding=tail_kernel // 2)

    def forward(self, x):
        h = self.head_act(self.head(x))
        y = h + self.body_bn(self.body_conv(self.body(h)))
        return self.tail(self.upsample(y))


class Discriminator(nn.Module):
    """The SRGAN discriminator; conditional=True concatenates the LR image after the BN block
    whose output first has the LR size (block 2 log2(scale) - 2), which then outputs
    lr_channels fewer channels. The concatenation has no parameters: the names do not change."""

    def __init__(self, patch=96, base=64, hidden=1024, in_channels=3, conditional=False, lr_channels=3, scale=4):
        super().__init__()
        layers = [nn.Conv2d(in_channels, base, 3, padding=1), nn.LeakyReLU(0.2)]
        c = base
        join = 2 * (scale.bit_length() - 2) if conditional else None
        self.join_after = None
        for block, (out, stride) in enumerate([(base, 2), (2 * base, 1), (2 * base, 2), (4 * base, 1), (4 * base, 2),
                                               (8 * base, 1), (8 * base, 2)]):
            width = out - lr_channels if block == join else out
            layers += [nn.Conv2d(c, width, 3, stride=stride, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.LeakyReLU(0.2)]
            if block == join:
                self.join_after = len(layers) - 1
            c = out
        self.features = nn.Sequential(*layers)
        side = patch // 16
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, hidden),
                                        nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x, lr=None):
        if self.join_after is None:
            return self.classifier(self.features(x))
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index == self.join_after:
                x = torch.cat([x, lr], dim=1)
        return self.classifier(x)


VGG19_CONVS = [2, 2, 4, 4, 4]
VGG19_CHANNELS = [64, 128, 256, 512, 512]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class VGG19Features(nn.Module):
    """torchvision's vgg19().features truncated after the ReLU of phi(block, conv)."""

    def __init__(self, block=5, conv=4, width_divisor=1):
        super().__init__()
        layers, c = [], 3
        for b in range(1, 6):
            out = max(1, VGG19_CHANNELS[b - 1] // width_divisor)
            for j in range(1, VGG19_CONVS[b - 1] + 1):
                layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(inplace=False)]
                c = out
                if (b, j) == (block, conv):
                    break
            else:
                layers.append(nn.MaxPool2d(2, 2))
                continue
            break
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x):
        return self.features((x - self.mean) / self.std)


class UNet(nn.Module):
    """The colourising U-Net (Sources/SRModels/UNet.swift): a 3x3 head, `depth` stride-2 3x3
    convolutions down, nearest x2 + 3x3 convolution up, each scale's features concatenated
    (skip first) with the upsampled ones and fused by a 3x3 convolution, a 3x3 tail."""

    def __init__(self, in_channels=1, base=32, depth=3, out_channels=3):
        super().__init__()
        widths = [base << k for k in range(depth + 1)]
        self.head = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down = nn.ModuleList([nn.Conv2d(widths[k], widths[k + 1], 3, stride=2, padding=1) for k in range(depth)])
        self.up = nn.ModuleList([nn.Conv2d(widths[k + 1], widths[k], 3, padding=1) for k in range(depth)])
        self.fuse = nn.ModuleList([nn.Conv2d(2 * widths[k], widths[k], 3, padding=1) for k in range(depth)])
        self.tail = nn.Conv2d(base, out_channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        x = self.act(self.head(x))
        skips = []
        for down in self.down:
            skips.append(x)
            x = self.act(down(x))
        for k in reversed(range(len(self.down))):
            x = self.act(self.up[k](self.upsample(x)))
            x = self.act(self.fuse[k](torch.cat([skips[k], x], 1)))
        return self.tail(x)


class ColorizeGenerator(Generator):
    """Grayscale LR (N,1,h,w) -> colour SR (N,3,4h,4w): cat(gray, colorizer(gray)) into SRResNet."""

    def __init__(self, base=32, depth=3, colorizer_out=3, **srresnet):
        super().__init__(in_channels=1 + colorizer_out, **srresnet)
        self.colorizer = UNet(1, base, depth, colorizer_out)

    def forward(self, x):
        return super().forward(torch.cat([x, self.colorizer(x)], 1))


# CIE L*a*b* (D65) from sRGB in [0,1] (Sources/SRData/Lab.swift has the same constants).
SRGB_TO_XYZ = [[0.4124564, 0.3575761, 0.1804375],
               [0.2126729, 0.7151522, 0.0721750],
               [0.0193339, 0.1191920, 0.9503041]]
D65_WHITE = [0.95047, 1.0, 1.08883]


def srgb_to_lab(rgb):
    """rgb (..., 3) in [0,1] -> (..., 3) L in [0,100], a, b."""
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ torch.tensor(SRGB_TO_XYZ, dtype=rgb.dtype).T / torch.tensor(D65_WHITE, dtype=rgb.dtype)
    delta = 6 / 29
    f = torch.where(xyz > delta ** 3, xyz.clamp(min=1e-12) ** (1 / 3), xyz / (3 * delta ** 2) + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)
