"""The model card's `ResNetGraphCaptioner`, re-created key for key (MODELS.md section 4).

State-dict layout (a plain `state_dict`, `roco_best_model.bin`):
`encoder.*` (transformers `ResNetModel(ResNetConfig())`, the microsoft/resnet-50 layout),
`vis_proj` (2048 -> 512), `graph_layer.msg_linear` (512 -> 512), `embedding` (vocab x 512),
`pos_encoder` (1, 2000, 512), `decoder.layers.0..3` (`nn.TransformerDecoderLayer(512, 8, 1024,
batch_first=True)`, post-norm), `fc_out` (512 -> vocab).

`forward` is the card's whole-model forward (encoder included); the card's greedy loop calls it once
per token. Loupe decodes with `models.captioning.decoding` instead, which gives the same tokens.
Every detail is read from the card's code (docs/decisions/0040, corrected by 0081).
"""

from __future__ import annotations

import torch
from torch import nn

D_MODEL = 512
N_HEADS = 8
FF_DIM = 1024
N_LAYERS = 4
MAX_POSITIONS = 2000
ENCODER_CHANNELS = 2048


class GraphPropagationLayer(nn.Module):
    """The card's message passing, as its own code has it (MODELS.md section 4; not inferred): in each
    of 3 steps every token is averaged with its two neighbours along the 49-token SEQUENCE, with
    wrap-around (the mean of the sequence rolled by -1, 0 and +1 along dim 1), that mean goes through
    `msg_linear`, and the new tokens are Hardtanh(tokens + message): the clamp is on the sum, after
    every step, so the memory lies in [-1, 1]. `window_size` 3 means shifts -1..+1."""

    def __init__(self, dim: int = D_MODEL, window_size: int = 3, steps: int = 3):
        super().__init__()
        self.window_size = window_size
        self.steps = steps
        self.msg_linear = nn.Linear(dim, dim)
        self.act = nn.Hardtanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, D)
        pad = self.window_size // 2
        for _ in range(self.steps):
            neighbours = torch.stack([torch.roll(x, shifts=s, dims=1) for s in range(-pad, pad + 1)], dim=2)
            x = self.act(x + self.msg_linear(neighbours.mean(dim=2)))
        return x


def folded_encoder(encoder: nn.Module) -> nn.Module:
    """A copy of the ResNet-50 with every BatchNorm folded into the convolution before it
    (`torch.nn.utils.fusion.fuse_conv_bn_eval`): the same function in eval, to float rounding
    (~3e-6 relative), 20% faster per image in batches on CPU (docs/decisions/0082)."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = copy.deepcopy(encoder).eval()
    for m in folded.modules():
        conv, bn = getattr(m, "convolution", None), getattr(m, "normalization", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            m.convolution = fuse_conv_bn_eval(conv, bn)
            m.normalization = nn.Identity()
    return folded


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

    def encode(self, images: torch.Tensor, encoder: nn.Module | None = None) -> torch.Tensor:
        """(B, 3, 224, 224) normalised images -> (B, 49, 512) image memory. `encoder`: a stand-in
        for `self.encoder` computing the same function (Loupe's BatchNorm-folded copy on CPU)."""
        feats = (encoder or self.encoder)(pixel_values=images).last_hidden_state  # (B, 2048, 7, 7)
        feats = feats.permute(0, 2, 3, 1).reshape(feats.shape[0], -1, feats.shape[1])  # channels-last: (B, 49, 2048)
        return self.graph_layer(self.vis_proj(feats))

    def forward(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        memory = self.encode(images)
        t = captions.size(1)
        tgt = self.embedding(captions) + self.pos_encoder[:, :t]
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=captions.device)
        out = self.decoder(tgt, memory, tgt_mask=mask)
        return self.fc_out(out)  # (B, T, vocab)
