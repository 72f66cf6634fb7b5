"""The vision side of Kith: a small CNN encoder and the projector into the language model's embeddings.

Encoder: 64x64 RGB (0..1) -> an 8x8 grid of D-dim features, clamped to +-limit. Five 3x3 convolutions
(strides 1, 2, 2, 2, 1) with ReLU, then a 1x1 convolution. No normalisation layers, so the ONNX graph
core/vision/encoder-graph.ts builds from the same weights is a plain Conv/Relu chain.

Projector: merges each 2x2 block of cells (order: top-left, top-right, bottom-left, bottom-right) into
one 4D vector, then Linear(4D, H) -> SiLU -> Linear(H, H), plus a learned embedding per grid position
(the language model's RoPE only knows token order, so "left" and "top" come from here): 16 visual
tokens [16, H], row-major from the top-left. core/vision/projector.ts computes the same in TypeScript.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_SIZE = 64
GRID = 8
TOKENS = 16
# (in, out, stride) of the 3x3 convolutions: the default widths; a package may carry others
# (vision.json "encoder_convs", set with train_encoder.py --widths)
CONVS = [(3, 24, 1), (24, 32, 2), (32, 48, 2), (48, 64, 2), (64, 64, 1)]
STRIDES = [c[2] for c in CONVS]


def convs_of(widths):
    """Five output widths ("32,64,96,128,128" or a list) -> the (in, out, stride) layout."""
    w = [int(x) for x in (widths.split(",") if isinstance(widths, str) else widths)]
    if len(w) != len(STRIDES) or min(w) <= 0:
        raise SystemExit(f"encoder widths: expected {len(STRIDES)} positive numbers, got {widths!r}")
    return [(i, o, s) for i, o, s in zip([3] + w[:-1], w, STRIDES)]


class Encoder(nn.Module):
    """With `batchnorm` (pretraining only) each 3x3 convolution is followed by BatchNorm, which
    trains several times faster from scratch; `folded()` returns the plain encoder with each
    BatchNorm folded into its convolution (same outputs in eval mode), which is what ships."""

    def __init__(self, feature_dim=64, limit=8.0, batchnorm=False, convs=None):
        super().__init__()
        self.limit = limit
        self.spec = [tuple(int(v) for v in c) for c in (convs or CONVS)]
        self.convs = nn.ModuleList([nn.Conv2d(i, o, 3, stride=s, padding=1) for i, o, s in self.spec])
        self.bns = nn.ModuleList([nn.BatchNorm2d(o) for _, o, _ in self.spec]) if batchnorm else None
        self.out = nn.Conv2d(self.spec[-1][1], feature_dim, 1)
        for c in self.convs:
            nn.init.kaiming_normal_(c.weight, nonlinearity="relu")
            nn.init.zeros_(c.bias)

    def grid(self, pixels):
        """pixels (B, 3, 64, 64) in 0..1 -> (B, D, 8, 8)."""
        x = pixels - 0.5
        for k, c in enumerate(self.convs):
            x = c(x)
            if self.bns is not None:
                x = self.bns[k](x)
            x = F.relu(x)
        return self.out(x).clamp(-self.limit, self.limit)

    @torch.no_grad()
    def folded(self):
        """The plain encoder: each BatchNorm (running statistics) folded into its convolution."""
        plain = Encoder(self.out.out_channels, self.limit, convs=self.spec)
        for k, c in enumerate(self.convs):
            w, b = c.weight.clone(), c.bias.clone()
            if self.bns is not None:
                bn = self.bns[k]
                s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                w = w * s[:, None, None, None]
                b = (b - bn.running_mean) * s + bn.bias
            plain.convs[k].weight.copy_(w)
            plain.convs[k].bias.copy_(b)
        plain.out.load_state_dict(self.out.state_dict())
        return plain.eval()

    def forward(self, pixels):
        """-> features (B, 64, D), cells row-major from the top-left."""
        g = self.grid(pixels)
        return g.flatten(2).transpose(1, 2)

    def tensors(self):
        out = {}
        for i, c in enumerate(self.convs):
            out[f"conv{i}.weight"] = c.weight
            out[f"conv{i}.bias"] = c.bias
        out["out.weight"] = self.out.weight
        out["out.bias"] = self.out.bias
        return out

    def load_tensors(self, t):
        for i, c in enumerate(self.convs):
            c.weight.data.copy_(t[f"conv{i}.weight"])
            c.bias.data.copy_(t[f"conv{i}.bias"])
        self.out.weight.data.copy_(t["out.weight"])
        self.out.bias.data.copy_(t["out.bias"])


def merge_2x2(features):
    """(B, 64, D) -> (B, 16, 4D): each token holds its 2x2 block, cells in reading order."""
    B, N, D = features.shape
    g = features.view(B, GRID // 2, 2, GRID // 2, 2, D)  # (B, ty, dy, tx, dx, D)
    return g.permute(0, 1, 3, 2, 4, 5).reshape(B, TOKENS, 4 * D)


class Projector(nn.Module):
    def __init__(self, feature_dim, hidden):
        super().__init__()
        self.merge = nn.Linear(4 * feature_dim, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.pos = nn.Parameter(torch.zeros(TOKENS, hidden))

    def forward(self, features):
        """features (B, 64, D) -> visual tokens (B, 16, H)."""
        return self.out(F.silu(self.merge(merge_2x2(features)))) + self.pos

    def tensors(self):
        return {"merge.weight": self.merge.weight, "merge.bias": self.merge.bias,
                "out.weight": self.out.weight, "out.bias": self.out.bias, "pos": self.pos}

    def load_tensors(self, t):
        for k, p in self.tensors().items():
            p.data.copy_(t[k])
