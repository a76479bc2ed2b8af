"""Qing's CNN-Transformer hybrid for chest X-rays (normal vs pneumonia), exactly as published.

`CNNTransformerModel`: DenseNet-121 features (registered twice: `base_model.features.*` and
`cnn_features.*`, plus the unused `base_model.classifier`) -> 49 tokens -> Linear(1024, 512) +
LayerNorm -> a class token is prepended -> fixed sin/cos positions (`pos_encoder.pe`, sequence first)
-> two post-norm Transformer blocks (8 heads, GELU, feed-forward 1024) -> concat(class token output,
mean of the 49 token outputs) -> classifier -> sigmoid = probability of pneumonia.

Preprocessing: RGB, Resize((224, 224)), ToTensor, mean 0.485 / std 0.229 on all three channels.
`attention_map(rgb)` gives the last block's head-averaged attention of the class token over the 49
image tokens as a (7, 7) array; `saliency_layer` is the DenseNet features.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torchvision import models as tvm
from torchvision import transforms as T

from models.classification.common import TorchClassifier
from models.weights import find_state_dict, load_into, read_weights


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int = 512, max_len: int = 5000, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):  # (S, B, D)
        return self.dropout(x + self.pe[: x.size(0)])


class EncoderBlock(nn.Module):
    """Post-norm block with the parameter names of nn.TransformerEncoderLayer; keeps its attention."""

    def __init__(self, d_model=512, nhead=8, dim_ff=1024, dropout=0.2):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_ff)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = nn.GELU()
        self.last_attention = None

    def forward(self, x):
        attn, weights = self.self_attn(x, x, x, need_weights=True, average_attn_weights=True)
        self.last_attention = weights.detach()  # (B, S, S), averaged over heads
        x = self.norm1(x + self.dropout1(attn))
        ff = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.norm2(x + self.dropout2(ff))


class TransformerEncoder(nn.Module):
    def __init__(self, d_model=512, nhead=8, num_layers=2, dim_ff=1024, dropout=0.2):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout=0.1)
        self.layers = nn.ModuleList(EncoderBlock(d_model, nhead, dim_ff, dropout) for _ in range(num_layers))

    def forward(self, x):
        x = self.pos_encoder(x)
        for layer in self.layers:
            x = layer(x)
        return x


class CNNTransformerModel(nn.Module):
    def __init__(self, num_classes: int = 1):
        super().__init__()
        self.base_model = tvm.densenet121(weights=None)
        self.cnn_features = self.base_model.features
        self.feature_projection = nn.Sequential(nn.Linear(1024, 512), nn.LayerNorm(512))
        self.class_token = nn.Parameter(torch.zeros(1, 1, 512))
        self.transformer_encoder = TransformerEncoder()
        self.classifier = nn.Sequential(nn.Linear(1024, 512), nn.GELU(), nn.Dropout(0.2),
                                        nn.Linear(512, num_classes))

    def forward(self, x):
        f = self.cnn_features(x)  # (B, 1024, 7, 7)
        tokens = self.feature_projection(f.flatten(2).transpose(1, 2))  # (B, 49, 512)
        cls = self.class_token.expand(tokens.shape[0], -1, -1)
        seq = torch.cat([cls, tokens], dim=1).transpose(0, 1)  # (50, B, 512), sequence first
        out = self.transformer_encoder(seq)
        pooled = torch.cat([out[0], out[1:].mean(0)], dim=1)  # (B, 1024)
        return self.classifier(pooled)


class QingClassifier(TorchClassifier):
    def __init__(self, card, module, device):
        super().__init__(card, module, device)
        self._t = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485] * 3, [0.229] * 3)])

    def transform(self, image):
        return self._t(image)

    def saliency_layer(self):
        return self.torch_module.cnn_features

    def attention_map(self, rgb) -> np.ndarray:
        """(7, 7) float32: the last block's head-averaged attention from the class token."""
        with torch.inference_mode():
            self.torch_module(self.preprocess(rgb))
        att = self.torch_module.transformer_encoder.layers[-1].last_attention[0, 0, 1:]
        return att.reshape(7, 7).float().cpu().numpy()


def load(card, weights, device, **options):
    module = CNNTransformerModel(num_classes=1)
    if weights is not None:
        sd = find_state_dict(read_weights(weights), weights)
        load_into(module, sd, weights, card.name,
                  "Qing's CNNTransformerModel (base_model.features.*, cnn_features.*, "
                  "transformer_encoder.*, classifier.3 (1, 512))")
    return QingClassifier(card, module, device)
