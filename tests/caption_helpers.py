"""Test helpers for the captioner: the card's `ResNetGraphCaptioner` written here from MODELS.md
section 4 (NOT from Loupe's code), with seeded, scaled random weights; and the card's own greedy loop
(the oracle: the whole model, encoder included, re-run for every token).

`OldReadingGraphLayer` is Loupe's earlier, wrong reading of the graph layer (a 2-D 3x3 window over
the 7x7 grid, tokens + Hardtanh(message)); tests use it to show that they tell the two apart.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

CLS, SEP = 101, 102


class CardGraphLayer(nn.Module):
    """MODELS.md: 3 steps; each token averaged with its two neighbours along the 49-token sequence,
    with wrap-around (mean of the sequence rolled by -1, 0, +1 along dim 1); through `msg_linear`;
    new tokens = Hardtanh(tokens + message)."""

    def __init__(self, dim: int = 512):
        super().__init__()
        self.msg_linear = nn.Linear(dim, dim)

    def forward(self, x):
        for _ in range(3):
            mean = torch.stack([torch.roll(x, -1, 1), x, torch.roll(x, 1, 1)], dim=2).mean(dim=2)
            x = F.hardtanh(x + self.msg_linear(mean))
        return x


class OldReadingGraphLayer(CardGraphLayer):
    """The reading Loupe had before issue 12 (wrong): 2-D 3x3 mean over the 7x7 grid, edge cells
    averaging the cells that exist, tokens + Hardtanh(message), no clamp on the sum."""

    def forward(self, x):
        b, n, d = x.shape
        for _ in range(3):
            grid = x.transpose(1, 2).reshape(b, d, 7, 7)
            neigh = F.avg_pool2d(grid, 3, stride=1, padding=1, count_include_pad=False)
            x = x + F.hardtanh(self.msg_linear(neigh.flatten(2).transpose(1, 2)))
        return x


class CardCaptioner(nn.Module):
    """MODELS.md section 4's `ResNetGraphCaptioner`: state-dict keys `encoder.*` (transformers
    ResNetModel(ResNetConfig())), `vis_proj`, `graph_layer.msg_linear`, `embedding`, `pos_encoder`,
    `decoder.layers.0..3`, `fc_out`."""

    def __init__(self, vocab_size: int = 30522, graph_layer: type = CardGraphLayer):
        super().__init__()
        from transformers import ResNetConfig, ResNetModel

        self.encoder = ResNetModel(ResNetConfig())
        self.vis_proj = nn.Linear(2048, 512)
        self.graph_layer = graph_layer(512)
        self.embedding = nn.Embedding(vocab_size, 512)
        self.pos_encoder = nn.Parameter(torch.zeros(1, 2000, 512))
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(512, 8, 1024, batch_first=True), 4)
        self.fc_out = nn.Linear(512, vocab_size)

    def memory(self, images):
        feats = self.encoder(pixel_values=images).last_hidden_state  # (B, 2048, 7, 7)
        b, c, h, w = feats.shape
        feats = feats.permute(0, 2, 3, 1).reshape(b, h * w, c)  # channels-last, row-major: 49 tokens
        return self.graph_layer(self.vis_proj(feats))

    def forward(self, images, captions):
        memory = self.memory(images)
        t = captions.shape[1]
        tgt = self.embedding(captions) + self.pos_encoder[:, :t]  # no scaling
        mask = torch.triu(torch.ones(t, t, device=captions.device) * float("-inf"), diagonal=1)
        return self.fc_out(self.decoder(tgt, memory, tgt_mask=mask))  # no padding mask, no final norm


def build_card_model(seed: int = 0, vocab_size: int = 30522, graph_layer: type = CardGraphLayer):
    """The card's model with seeded random weights, scaled so that greedy tokens vary from position
    to position and depend on the image (plain random init repeats one token)."""
    torch.manual_seed(seed)
    m = CardCaptioner(vocab_size, graph_layer).eval()
    with torch.no_grad():
        m.pos_encoder.normal_(0.0, 1.0)
        m.embedding.weight.normal_(0.0, 1.0)
        m.vis_proj.weight.div_(30.0)
        m.fc_out.weight.mul_(8.0)
    return m


def save_card_weights(model, folder: Path) -> Path:
    path = Path(folder) / "roco_best_model.bin"
    torch.save(model.state_dict(), path)  # the published format: a plain state_dict
    return path


@torch.no_grad()
def card_greedy(model, image_tensor: torch.Tensor, max_len: int = 80) -> list[int]:
    """The model card's inference loop, as published: whole model per token, argmax of the last."""
    model.eval()
    tokens = [CLS]
    for _ in range(max_len):
        out = model(image_tensor, torch.tensor([tokens], device=image_tensor.device))
        next_id = out[0, -1].argmax().item()
        tokens.append(next_id)
        if next_id == SEP:
            break
    return tokens


def card_image_tensor(path: Path) -> torch.Tensor:
    """The card's preprocessing, written out independently of Loupe's code."""
    from PIL import Image
    from torchvision import transforms

    tf = transforms.Compose([
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    return tf(Image.open(path).convert("RGB")).unsqueeze(0)
