"""The model card's `ResNetGraphCaptioner`, re-created key for key (MODELS.md section 4).

State-dict layout (a plain `state_dict`, `roco_best_model.bin`):
`encoder.*` (transformers `ResNetModel(ResNetConfig())`, the microsoft/resnet-50 layout),
`vis_proj` (2048 -> 512), `graph_layer.msg_linear` (512 -> 512), `embedding` (vocab x 512),
`pos_encoder` (1, 2000, 512), `decoder.layers.0..3` (`nn.TransformerDecoderLayer(512, 8, 1024,
batch_first=True)`, post-norm), `fc_out` (512 -> vocab).

`forward` is the card's whole-model forward (encoder included); the card's greedy loop calls it once
per token. Loupe decodes with `models.captioning.decoding` instead, which gives the same tokens.
Details the card leaves open are inferred; see docs/decisions/0040-captioner-inferred-details.md.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

D_MODEL = 512
N_HEADS = 8
FF_DIM = 1024
N_LAYERS = 4
MAX_POSITIONS = 2000
ENCODER_CHANNELS = 2048


class GraphPropagationLayer(nn.Module):
    """Message passing over the encoder's 7x7 grid: each step, every cell takes the mean of its
    3x3 window (edges: the cells that exist), passes it through `msg_linear` and Hardtanh, and adds
    the message to itself (residual). Window 3, 3 steps."""

    def __init__(self, dim: int = D_MODEL, window_size: int = 3, steps: int = 3):
        super().__init__()
        self.window_size = window_size
        self.steps = steps
        self.msg_linear = nn.Linear(dim, dim)
        self.act = nn.Hardtanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, D), N a square number
        b, n, d = x.shape
        side = math.isqrt(n)
        for _ in range(self.steps):
            grid = x.transpose(1, 2).reshape(b, d, side, side)
            neigh = F.avg_pool2d(grid, self.window_size, stride=1, padding=self.window_size // 2,
                                 count_include_pad=False)
            x = x + self.act(self.msg_linear(neigh.flatten(2).transpose(1, 2)))
        return x


def _resnet50_encoder() -> nn.Module:
    from transformers import ResNetConfig, ResNetModel

    return ResNetModel(ResNetConfig())  # offline: the microsoft/resnet-50 layout, random weights


class ResNetGraphCaptioner(nn.Module):
    def __init__(self, vocab_size: int = 30522, d_model: int = D_MODEL):
        super().__init__()
        self.encoder = _resnet50_encoder()
        self.vis_proj = nn.Linear(ENCODER_CHANNELS, d_model)
        self.graph_layer = GraphPropagationLayer(d_model)
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_encoder = nn.Parameter(torch.zeros(1, MAX_POSITIONS, d_model))
        layer = nn.TransformerDecoderLayer(d_model, N_HEADS, FF_DIM, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers=N_LAYERS)
        self.fc_out = nn.Linear(d_model, vocab_size)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, 224, 224) normalised images -> (B, 49, 512) image memory."""
        feats = self.encoder(pixel_values=images).last_hidden_state  # (B, 2048, 7, 7)
        feats = feats.flatten(2).transpose(1, 2)  # (B, 49, 2048)
        return self.graph_layer(self.vis_proj(feats))

    def forward(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        memory = self.encode(images)
        t = captions.size(1)
        tgt = self.embedding(captions) + self.pos_encoder[:, :t]
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=captions.device)
        out = self.decoder(tgt, memory, tgt_mask=mask)
        return self.fc_out(out)  # (B, T, vocab)
