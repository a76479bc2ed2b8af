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

# Images per ResNet-50 pass when a batch is captioned: more gains nothing per image on CPU and
# only costs activation memory (~100 MB per image).
ENCODE_BATCH = 8


def attend(q: torch.Tensor, kt: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(dh)) v for a single query position (`kt`: the keys transposed, (B, h, dh, T)),
    written as two small matmuls: on CPU, `scaled_dot_product_attention` costs ~0.5 ms per call at
    one query (its flash kernel's setup), about 10% of a whole greedy step over 8 attention calls."""
    w = torch.matmul(q, kt) * (q.shape[-1] ** -0.5)
    return torch.matmul(torch.softmax(w, dim=-1), v)


class _Proj:
    """One weight matrix of a step. One row (greedy on one image): `F.linear` on the weight as it
    is (MKL's matrix-vector product on the transposed layout, the fastest measured). Several rows
    (a batch of images, beam hypotheses) on CPU: oneDNN's linear on a prepacked copy of the weight,
    2x faster than MKL at 3-32 rows on this machine, and its rows do not depend on how many rows
    come along (docs/decisions/0082). Without oneDNN, `F.linear` throughout."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.weight, self.bias = weight, bias
        self.packed: torch.Tensor | None = None

    def pack(self) -> None:
        packed = torch.ops.mkldnn._reorder_linear_weight(self.weight.detach().contiguous(), 8)
        probe = torch.linspace(-1.0, 1.0, 3 * self.weight.shape[1]).view(3, -1)
        want = F.linear(probe, self.weight, self.bias)
        got = torch.ops.mkldnn._linear_pointwise(probe, packed, self.bias, "none", [], "")
        if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
            raise RuntimeError("oneDNN's linear disagrees with F.linear")
        self.packed = packed

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is None or x.shape[0] == 1:
            return F.linear(x, self.weight, self.bias)
        y = torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), self.packed, self.bias, "none", [], "")
        return y.view(*x.shape[:-1], y.shape[-1])


class _Layer:
    """One `nn.TransformerDecoderLayer`'s weights, split for single-position steps."""

    def __init__(self, layer: nn.TransformerDecoderLayer):
        if layer.norm_first:
            raise ValueError("the captioner's decoder layers are post-norm")
        self.layer = layer
        sa, ca = layer.self_attn, layer.multihead_attn
        self.heads = sa.num_heads
        d = sa.embed_dim
        self.sa_in = _Proj(sa.in_proj_weight, sa.in_proj_bias)
        self.sa_out = _Proj(sa.out_proj.weight, sa.out_proj.bias)
        self.ca_q = _Proj(ca.in_proj_weight[:d], ca.in_proj_bias[:d])
        self.ca_wkv, self.ca_bkv = ca.in_proj_weight[d:], ca.in_proj_bias[d:]
        self.ca_out = _Proj(ca.out_proj.weight, ca.out_proj.bias)
        self.linear1 = _Proj(layer.linear1.weight, layer.linear1.bias)
        self.linear2 = _Proj(layer.linear2.weight, layer.linear2.bias)

    def projections(self) -> list[_Proj]:
        return [self.sa_in, self.sa_out, self.ca_q, self.ca_out, self.linear1, self.linear2]

    def split(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, h, T, dh)
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def merge(self, x: torch.Tensor) -> torch.Tensor:  # (B, h, T, dh) -> (B, T, D)
        b, h, t, dh = x.shape
        return x.transpose(1, 2).reshape(b, t, h * dh)


class DecoderState:
    """Caches for a batch of sequences (greedy: 1 or a batch of images; beam search: k).

    Keys are kept transposed, (B, h, dh, T), values as (B, h, T, dh), all contiguous, so that the
    attention's two matmuls read them in place (a transposed or expanded cache costs a copy per
    call: 18% of a batched step before)."""

    def __init__(self, layers: list[_Layer], memory: torch.Tensor, capacity: int):
        b = memory.shape[0]
        self.length = 0
        self.mem_kv = []
        self.self_k, self.self_v = [], []
        for lay in layers:
            k, v = F.linear(memory, lay.ca_wkv, lay.ca_bkv).chunk(2, dim=-1)
            self.mem_kv.append((lay.split(k).transpose(-2, -1).contiguous(), lay.split(v).contiguous()))
            dh = memory.shape[-1] // lay.heads
            self.self_k.append(memory.new_zeros(b, lay.heads, dh, capacity))
            self.self_v.append(memory.new_zeros(b, lay.heads, capacity, dh))

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the sequences `index` (a batch of images: drop the ones that have finished)."""
        self.self_k = [k.index_select(0, index) for k in self.self_k]
        self.self_v = [v.index_select(0, index) for v in self.self_v]
        self.mem_kv = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.mem_kv]

    def reorder(self, index: torch.Tensor) -> None:
        """Keep the rows `index` (beam search: the parents of the surviving hypotheses)."""
        self.self_k = [k.index_select(0, index) for k in self.self_k]
        self.self_v = [v.index_select(0, index) for v in self.self_v]
        if self.mem_kv[0][0].shape[0] != index.shape[0]:  # one image, k hypotheses
            first = torch.zeros_like(index)
            self.mem_kv = [(k.index_select(0, first), v.index_select(0, first)) for k, v in self.mem_kv]


def step_weights(model: nn.Module) -> list[nn.Parameter]:
    """The weight matrices every decoding step reads: per layer the self-attention's in/out
    projections, the cross-attention's (its query rows; keys/values of the image are made once),
    linear1, linear2; then fc_out (~104 MB in float32)."""
    out = []
    for layer in model.decoder.layers:
        out += [layer.self_attn.in_proj_weight, layer.self_attn.out_proj.weight,
                layer.multihead_attn.in_proj_weight, layer.multihead_attn.out_proj.weight,
                layer.linear1.weight, layer.linear2.weight]
    return out + [model.fc_out.weight]


def lay_out_step_weights(model: nn.Module, device: torch.device) -> None:
    """On CPU, store each step weight W (out, in) as the transpose of a contiguous (in, out) matrix:
    `F.linear(x, W)` then runs as x @ W^T on row-major memory, which MKL streams ~2.4x faster at one
    row (fc_out, 62 MB: 9.4 vs 22.7 ms on this 2-core machine) and ~1.2x faster at 8 rows. Same
    values, same parameters (only their strides change); other devices keep the default layout
    (docs/decisions/0082)."""
    want_transposed = device.type == "cpu"
    with torch.no_grad():
        for p in step_weights(model):
            transposed = p.dim() == 2 and p.stride() == (1, p.shape[0])
            if want_transposed and not transposed:
                p.data = p.data.t().contiguous().t()
            elif not want_transposed and transposed:
                p.data = p.data.contiguous()


class IncrementalDecoder:
    def __init__(self, model: nn.Module, encoder: nn.Module | None = None):
        """`encoder`: what `start` encodes with instead of `model.encoder` (same function)."""
        self.model = model
        self.encoder = encoder
        self.layers = [_Layer(layer) for layer in model.decoder.layers]
        self.fc_out = _Proj(model.fc_out.weight, model.fc_out.bias)
        if getattr(model.decoder, "norm", None) is not None:
            raise ValueError("unexpected final decoder norm")
        self._packed: bool | None = None  # None: not tried yet

    def _pack_for_rows(self) -> None:
        """Prepack the step weights for oneDNN, once, the first time several rows are decoded."""
        self._packed = False
        if self.fc_out.weight.device.type != "cpu" or not torch.backends.mkldnn.is_available():
            return
        projs = [p for lay in self.layers for p in lay.projections()] + [self.fc_out]
        try:
            with torch.no_grad():
                for p in projs:
                    p.pack()
            self._packed = True
        except (RuntimeError, AttributeError, NotImplementedError):  # an older/newer torch: F.linear
            for p in projs:
                p.packed = None

    @torch.no_grad()
    def start(self, images: torch.Tensor, capacity: int, encode_batch: int = ENCODE_BATCH) -> DecoderState:
        """Encode the image(s) once, `encode_batch` at a time (the ResNet's activations grow with
        the batch; the decoder's do not); room for `capacity` positions."""
        memory = torch.cat([self.model.encode(images[i:i + encode_batch], self.encoder)
                            for i in range(0, images.shape[0], encode_batch)])
        return DecoderState(self.layers, memory, capacity)

    @torch.no_grad()
    def step(self, state: DecoderState, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token per sequence (B,) at position `state.length`; return (B, vocab) logits."""
        if self._packed is None and tokens.shape[0] > 1:
            self._pack_for_rows()
        pos = state.length
        x = self.model.embedding(tokens[:, None]) + self.model.pos_encoder[:, pos:pos + 1]
        for i, lay in enumerate(self.layers):
            layer = lay.layer
            q, k, v = lay.sa_in(x).chunk(3, dim=-1)
            state.self_k[i][:, :, :, pos] = lay.split(k)[:, :, 0]
            state.self_v[i][:, :, pos:pos + 1] = lay.split(v)
            att = attend(lay.split(q), state.self_k[i][:, :, :, :pos + 1], state.self_v[i][:, :, :pos + 1])
            x = layer.norm1(x + lay.sa_out(lay.merge(att)))
            mk, mv = state.mem_kv[i]
            att = attend(lay.split(lay.ca_q(x)), mk, mv)
            x = layer.norm2(x + lay.ca_out(lay.merge(att)))
            x = layer.norm3(x + lay.linear2(layer.activation(lay.linear1(x))))
        state.length = pos + 1
        return self.fc_out(x[:, 0])
