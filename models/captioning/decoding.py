"""Incremental decoding of the `ResNetGraphCaptioner`: encode once, then one token at a time.

Each decoder layer keeps the keys/values of the earlier positions (self-attention; with the causal
mask, earlier positions never see later ones, so their states never change) and the keys/values of
the image memory (cross-attention, computed once). A step then costs one position through four
layers plus `fc_out`, instead of the card's whole model (ResNet-50 included) over every position.
The arithmetic is that of `nn.TransformerDecoderLayer` (post-norm) written out, so the argmax of
each step is the card's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _Layer:
    """One `nn.TransformerDecoderLayer`'s weights, split for single-position steps."""

    def __init__(self, layer: nn.TransformerDecoderLayer):
        if layer.norm_first:
            raise ValueError("the captioner's decoder layers are post-norm")
        self.layer = layer
        sa, ca = layer.self_attn, layer.multihead_attn
        self.heads = sa.num_heads
        d = sa.embed_dim
        self.sa_w, self.sa_b = sa.in_proj_weight, sa.in_proj_bias
        self.sa_out = sa.out_proj
        self.ca_wq, self.ca_bq = ca.in_proj_weight[:d], ca.in_proj_bias[:d]
        self.ca_wkv, self.ca_bkv = ca.in_proj_weight[d:], ca.in_proj_bias[d:]
        self.ca_out = ca.out_proj

    def split(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, h, T, dh)
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def merge(self, x: torch.Tensor) -> torch.Tensor:  # (B, h, T, dh) -> (B, T, D)
        b, h, t, dh = x.shape
        return x.transpose(1, 2).reshape(b, t, h * dh)


class DecoderState:
    """Caches for a batch of sequences (greedy: 1; beam search: k)."""

    def __init__(self, layers: list[_Layer], memory: torch.Tensor, capacity: int):
        b = memory.shape[0]
        self.length = 0
        self.mem_kv = []
        self.self_k, self.self_v = [], []
        for lay in layers:
            k, v = F.linear(memory, lay.ca_wkv, lay.ca_bkv).chunk(2, dim=-1)
            self.mem_kv.append((lay.split(k), lay.split(v)))
            dh = memory.shape[-1] // lay.heads
            self.self_k.append(memory.new_zeros(b, lay.heads, capacity, dh))
            self.self_v.append(memory.new_zeros(b, lay.heads, capacity, dh))

    def reorder(self, index: torch.Tensor) -> None:
        """Keep the rows `index` (beam search: the parents of the surviving hypotheses)."""
        self.self_k = [k.index_select(0, index) for k in self.self_k]
        self.self_v = [v.index_select(0, index) for v in self.self_v]
        if self.mem_kv[0][0].shape[0] != index.shape[0]:
            self.mem_kv = [(k[:1].expand(index.shape[0], -1, -1, -1),
                            v[:1].expand(index.shape[0], -1, -1, -1)) for k, v in self.mem_kv]


class IncrementalDecoder:
    def __init__(self, model: nn.Module):
        self.model = model
        self.layers = [_Layer(layer) for layer in model.decoder.layers]
        if getattr(model.decoder, "norm", None) is not None:
            raise ValueError("unexpected final decoder norm")

    @torch.no_grad()
    def start(self, images: torch.Tensor, capacity: int) -> DecoderState:
        """Encode the image(s) once; room for `capacity` positions."""
        memory = self.model.encode(images)
        return DecoderState(self.layers, memory, capacity)

    @torch.no_grad()
    def step(self, state: DecoderState, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token per sequence (B,) at position `state.length`; return (B, vocab) logits."""
        pos = state.length
        x = self.model.embedding(tokens[:, None]) + self.model.pos_encoder[:, pos:pos + 1]
        for i, lay in enumerate(self.layers):
            layer = lay.layer
            q, k, v = F.linear(x, lay.sa_w, lay.sa_b).chunk(3, dim=-1)
            state.self_k[i][:, :, pos:pos + 1] = lay.split(k)
            state.self_v[i][:, :, pos:pos + 1] = lay.split(v)
            att = F.scaled_dot_product_attention(lay.split(q), state.self_k[i][:, :, :pos + 1],
                                                 state.self_v[i][:, :, :pos + 1])
            x = layer.norm1(x + lay.sa_out(lay.merge(att)))
            q = lay.split(F.linear(x, lay.ca_wq, lay.ca_bq))
            mk, mv = state.mem_kv[i]
            att = F.scaled_dot_product_attention(q, mk, mv)
            x = layer.norm2(x + lay.ca_out(lay.merge(att)))
            x = layer.norm3(x + layer.linear2(layer.activation(layer.linear1(x))))
        state.length = pos + 1
        return self.model.fc_out(x[:, 0])
