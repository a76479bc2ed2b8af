"""SAM's mask decoder (transformers' `SamMaskDecoder`, the same weights) rearranged for one prompt on
CPU: issue 16 asks for a click -> box under 50 ms once the image's embedding exists.

transformers' decoder spends most of a prompt on the 4096 image tokens (64 x 64 x 256): element-wise
adds and copies of transposed views, projections of all 4096 tokens to queries, keys, values and back,
and the upscaling convolutions in channels-first layout. Here, for one image and one prompt:

- What depends on the image only is computed once per embedding and kept (`prepare`): the image-wide
  positional embedding (the same for every image: once per model), the image tokens plus the dense
  "no mask" embedding, as a contiguous (4096, 256) matrix, and that plus the positional embedding;
  and the first layer's image-side projections (its token -> image keys and values, its image ->
  token queries), which see the image tokens before any prompt has changed them (`_FirstLayer`).
- The attentions between the few prompt tokens (n = 5-7) and the 4096 image tokens are folded
  through their projections (associativity, no approximation): tokens -> image scores are
  (q_h W_k,h) (X + PE)^T, and the softmax-weighted values (A X) W_v,h^T + b_v (a softmax row sums to
  1; the key bias adds the same number to every score of a row, which a softmax ignores); image ->
  tokens scores are X (W_q,h^T k_h^T) + b_q,h k_h^T and the output A (v_h W_o,h^T) + b_o. That turns
  each 4096 x 256 x 128 projection (and the 4096 x 128 x 256 output one) into products with n x 8
  columns (the first layer needs only n x d x N per head, with its projections kept).
- The final token -> image attention runs for the IoU token and the mask tokens in one pass; only
  the mask the IoU picks is upscaled.
- The transposed convolutions (kernel 2, stride 2) are matrix products in channels-last layout with
  the kernel offsets as extra columns; the layer norm runs over the last axis; the pixels are put in
  place only for the 256 x 256 masks at the end.

The result equals transformers' decoder within float rounding (tests/test_segmentation_fastdecode.py
compares them on random weights at SAM ViT-B's published size and on a tiny model).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
import torch.nn.functional as F


class Prepared:
    """The image-only parts of a SAM decoder pass, for one embedding (see the module docstring)."""

    def __init__(self, keys, keys_pe, pe, hw, high=None, first=None):
        self.keys = keys  # (N, C): image tokens + the no-mask dense embedding
        self.keys_pe = keys_pe  # (N, C): that + the image-wide positional embedding
        self.pe = pe  # (N, C)
        self.hw = hw
        self.high = high  # SAM 2: its two high-resolution feature maps in the upscaling's layout (_upscale)
        self.first = first  # the first layer's image-side projections (_FirstLayer), or None


def positional(module) -> torch.Tensor:
    """The image-wide positional embedding (N, C), computed once per model (it depends on no input)."""
    cached = getattr(module, "_loupe_image_pe", None)
    if cached is None:
        with torch.inference_mode():
            pe = module.get_image_wide_positional_embeddings()[0]  # (C, h, w)
            cached = pe.flatten(1).t().contiguous()
        module._loupe_image_pe = cached
    return cached


def prepare(module, features) -> Prepared:
    """The parts of the decoder that depend on the image only. `features`: SAM's image embeddings
    (1, C, h, w); SAM 2's list [s0 (1, C/8, 4h, 4w), s1 (1, C/4, 2h, 2w), (1, C, h, w)], s0 and s1
    already through conv_s0 / conv_s1 as Sam2Model.get_image_features leaves them."""
    with torch.inference_mode():
        high = None
        if isinstance(features, (list, tuple)):
            s0, s1, image_embeddings = features
            _, c, h, w = image_embeddings.shape
            # s1 pixel (2y + a, 2x + b) -> row (y, x, a, b); s0 pixel (4y + 2a + a', 4x + 2b + b') -> (y, x, a, b, a', b')
            s1 = s1[0].reshape(-1, h, 2, w, 2).permute(1, 3, 2, 4, 0).reshape(h * w * 4, -1).contiguous()
            s0 = s0[0].reshape(-1, h, 2, 2, w, 2, 2).permute(1, 4, 2, 5, 3, 6, 0).reshape(h * w * 16, -1).contiguous()
            high = (s1, s0)
        else:
            image_embeddings = features
            _, c, h, w = image_embeddings.shape
        dense = module.prompt_encoder.no_mask_embed.weight.reshape(1, c)
        keys = (image_embeddings[0].flatten(1).t() + dense).contiguous()  # (N, C)
        pe = positional(module)
        keys_pe = keys + pe
        first = _FirstLayer(module.mask_decoder.transformer.layers[0], keys, keys_pe)
        return Prepared(keys, keys_pe, pe, (h, w), high, first)


class _FirstLayer:
    """The first two-way layer attends to the image tokens before any prompt has changed them, so its
    image-side projections are the image's alone: the token -> image attention's keys k_proj(X + PE)
    and values v_proj(X), and the image -> token attention's queries q_proj(X + PE), each (N, D) with
    its bias, as transformers computes them, per head (H, d, N) / (H, N, d). A prompt's first layer is
    then products with its few tokens only (n x d x N per head instead of n x C x N)."""

    def __init__(self, layer, keys, keys_pe):
        t2i, i2t = layer.cross_attn_token_to_image, layer.cross_attn_image_to_token
        n = keys.shape[0]
        heads = t2i.num_attention_heads
        k = t2i.k_proj(keys_pe)  # (N, D)
        self.k = k.view(n, heads, -1).permute(1, 2, 0).contiguous()  # (H, d, N)
        self.v = t2i.v_proj(keys).view(n, heads, -1).transpose(0, 1).contiguous()  # (H, N, d)
        heads = i2t.num_attention_heads
        self.q = i2t.q_proj(keys_pe).view(n, heads, -1).permute(1, 2, 0).contiguous()  # (H, d, N)


class _Buffers:
    """Work matrices reused from one prompt to the next: a fresh 4-8 MB tensor costs its page faults
    on every prompt (a copy's worth of time each). `get` gives the buffer `name` of `shape`; values
    never leave `decode` in one (what it returns is computed into new tensors)."""

    def __init__(self, keep: bool):
        self.keep, self.store = keep, {}

    def get(self, name, shape, like: torch.Tensor) -> torch.Tensor:
        buf = self.store.get(name)
        if buf is None or buf.shape != shape or buf.dtype != like.dtype or buf.device != like.device:
            buf = torch.empty(shape, dtype=like.dtype, device=like.device)
            if self.keep:
                self.store[name] = buf
        return buf


@contextmanager
def _buffers(dec):
    """The decoder's reusable buffers, for one prompt at a time; a prompt that finds them in use
    (another thread prompting the same model) gets fresh ones."""
    lock = dec.__dict__.setdefault("_loupe_buffers_lock", threading.Lock())
    if not lock.acquire(blocking=False):
        yield _Buffers(keep=False)
        return
    try:
        yield dec.__dict__.setdefault("_loupe_buffers", _Buffers(keep=True))
    finally:
        lock.release()


def _out_proj(att):
    return att.out_proj if hasattr(att, "out_proj") else att.o_proj  # SamAttention / Sam2Attention


def _few_to_many(att, q_in, k_in, v_in):
    """SamAttention(query=q_in (n, C), key=k_in (N, C), value=v_in (N, C)), folded (module docstring)."""
    heads = att.num_attention_heads
    q = att.q_proj(q_in)  # (n, D)
    n, dim = q.shape
    d = dim // heads
    wk = att.k_proj.weight.view(heads, d, -1)  # (H, d, C)
    qk = torch.bmm(q.view(n, heads, d).transpose(0, 1), wk) * att.scaling  # (H, n, C)
    scores = qk.reshape(heads * n, -1) @ k_in.t()  # (H n, N); the key bias shifts a row: no effect
    probs = torch.softmax(scores, dim=-1)
    ctx = (probs @ v_in).view(heads, n, -1)  # (H, n, C)
    wv = att.v_proj.weight.view(heads, d, -1)  # (H, d, C)
    out = torch.bmm(ctx, wv.transpose(1, 2)) + att.v_proj.bias.view(heads, 1, d)  # (H, n, d)
    return _out_proj(att)(out.transpose(0, 1).reshape(n, dim))


def _few_to_many_first(att, q_in, first: _FirstLayer):
    """The first layer's SamAttention(query=q_in (n, C), key=X + PE, value=X) with its image-side
    keys and values projected once per image (_FirstLayer): transformers' own order of products."""
    heads = att.num_attention_heads
    q = att.q_proj(q_in)  # (n, D)
    n, dim = q.shape
    scores = torch.bmm(q.view(n, heads, -1).transpose(0, 1), first.k) * att.scaling  # (H, n, N)
    ctx = torch.bmm(torch.softmax(scores, dim=-1), first.v)  # (H, n, d)
    return _out_proj(att)(ctx.transpose(0, 1).reshape(n, dim))


def _many_to_few(att, q_in, k_in, v_in, residual, out=None, first: _FirstLayer | None = None):
    """residual (N, C) + SamAttention(query=q_in (N, C), key=k_in (n, C), value=v_in (n, C)), folded
    (module docstring); in the first layer, with the queries projected once per image (`first`)."""
    heads = att.num_attention_heads
    k, v = att.k_proj(k_in), att.v_proj(v_in)  # (n, D)
    n, dim = k.shape
    d = dim // heads
    kh = k.view(n, heads, d).transpose(0, 1)  # (H, n, d)
    if first is not None:  # (H, n, d) @ (H, d, N): the scores straight from the projected queries
        scores = torch.bmm(kh, first.q).mul_(att.scaling)  # (H, n, N)
    else:
        wq = att.q_proj.weight.view(heads, d, -1)  # (H, d, C)
        m = torch.bmm(wq.transpose(1, 2), kh.transpose(1, 2)) * att.scaling  # (H, C, n)
        m = m.transpose(0, 1).reshape(-1, heads * n)  # (C, H n)
        c = (torch.bmm(att.q_proj.bias.view(heads, 1, d), kh.transpose(1, 2)) * att.scaling).reshape(heads * n)
        # scores as (H n, N): the softmax over each head's n runs along the contiguous axis of N
        scores = torch.addmm(c[:, None], m.t(), q_in.t()).view(heads, n, -1)  # (H, n, N)
    probs = torch.softmax(scores, dim=1).view(heads * n, -1)
    out_proj = _out_proj(att)
    wo = out_proj.weight.view(-1, heads, d).transpose(0, 1)  # (H, C, d)
    vw = torch.bmm(v.view(n, heads, d).transpose(0, 1), wo.transpose(1, 2)).reshape(heads * n, -1)  # (H n, C)
    # each head's probabilities sum to 1, so the H n rows of `probs` sum to H: b / H on every row of vw
    # adds the output bias b once; `residual` + the product in one addmm
    vw = vw + out_proj.bias / heads
    if out is residual:  # in place: addmm(out=residual) would first copy the residual onto itself
        return residual.addmm_(probs.t(), vw)
    return torch.addmm(residual, probs.t(), vw, out=out)  # (N, C)


def _transformer(tr, tokens, prep: Prepared, buf: _Buffers):
    """SamTwoWayTransformer.forward for one prompt, up to its final attention (`_final`): tokens (n, C)
    -> (queries (n, C), keys (N, C), keys + the positional embedding)."""
    point = tokens
    queries, keys, keys_pe = tokens, prep.keys, prep.keys_pe
    for i, layer in enumerate(tr.layers):
        first = prep.first if i == 0 else None
        if layer.skip_first_layer_pe:
            queries = layer.self_attn(query=queries[None, None], key=queries[None, None], value=queries[None, None])[0][0, 0]
        else:
            q = (queries + point)[None, None]
            queries = queries + layer.self_attn(query=q, key=q, value=queries[None, None])[0][0, 0]
        queries = layer.layer_norm1(queries)
        if first is not None:
            attn = _few_to_many_first(layer.cross_attn_token_to_image, queries + point, first)
        else:
            attn = _few_to_many(layer.cross_attn_token_to_image, queries + point, keys_pe, keys)
        queries = layer.layer_norm2(queries + attn)
        queries = layer.layer_norm3(queries + layer.mlp(queries))
        # the first layer's residual is the embedding's own keys (kept); a later one is the previous
        # layer's norm output, which nothing else reads: the product is added to it in place
        target = buf.get("keys", prep.keys.shape, prep.keys) if keys is prep.keys else keys
        mixed = _many_to_few(layer.cross_attn_image_to_token, keys_pe, queries + point, queries, keys, out=target,
                             first=first)
        keys = layer.layer_norm4(mixed)
        keys_pe = torch.add(keys, prep.pe, out=buf.get("keys_pe", prep.keys.shape, prep.keys))
    return queries, keys, keys_pe


def _final(tr, queries, point, keys, keys_pe, rows: list[int]):
    """The transformer's final token -> image attention and norm for the tokens `rows` only: each
    token's row depends on its own query alone, and only the IoU and mask tokens are read after it."""
    q, p = queries[rows], point[rows]
    return tr.layer_norm_final_attn(q + _few_to_many(tr.final_attn_token_to_image, q + p, keys_pe, keys))


def _upscale(dec, keys: torch.Tensor, high, buf: _Buffers) -> torch.Tensor:
    """upscale_conv1 -> layer norm -> GELU -> upscale_conv2 -> GELU, channels last: (h, 2, 2, w... ) as
    (h, w, 2, 2, 2, 2, C/8) in a (N * 16, C/8) matrix (pixel (4y + 2a + a', 4x + 2b + b'))."""
    ln = dec.upscale_layer_norm
    (w1, b1, o1), (w2, b2, o2) = _conv_weights(dec)
    n = keys.shape[0]
    x = torch.addmm(b1, keys, w1, out=buf.get("up1", (n, w1.shape[1]), keys)).view(-1, o1)  # (N * 4, o1): rows (y, x, a, b)
    if high is not None:  # SAM 2: + conv_s1(feature s1) before the norm, + conv_s0(s0) before the last GELU
        x.add_(high[0])
    x = torch._C._nn.gelu_(F.layer_norm(x, (o1,), ln.weight, ln.bias, ln.eps))  # F.gelu, in place
    x = torch.addmm(b2, x, w2, out=buf.get("up2", (x.shape[0], w2.shape[1]), keys)).view(-1, o2)  # rows (y, x, a, b, a', b')
    if high is not None:
        x.add_(high[1])
    return torch._C._nn.gelu_(x)


def _conv_weights(dec):
    """The two kernel-2 stride-2 transposed convolutions as (in, 4 out) matrices with columns
    (a, b, out), and their biases repeated to match; once per model."""
    cached = getattr(dec, "_loupe_conv_weights", None)
    if cached is None:
        cached = []
        for conv in (dec.upscale_conv1, dec.upscale_conv2):
            w = conv.weight.detach().permute(0, 2, 3, 1).reshape(conv.in_channels, 4 * conv.out_channels).contiguous()
            cached.append((w, conv.bias.detach().repeat(4), conv.out_channels))
        dec._loupe_conv_weights = cached
    return cached


def decode(module, prep: Prepared, sparse: torch.Tensor, multimask: bool, best_only: bool = False):
    """(masks (1, 1, n, 4h, 4w) logits, iou (1, 1, n)) as SamMaskDecoder / Sam2MaskDecoder return them
    for one prompt; `sparse` (1, 1, k, C): the prompt encoder's sparse embeddings. `best_only`: only
    the mask of the highest predicted IoU (n = 1; the IoUs come before the masks, so the others are
    never built). SAM 2 with one mask asked: its own dynamic choice by stability decides, on all four."""
    dec = module.mask_decoder
    sam2 = prep.high is not None
    with torch.inference_mode(), _buffers(dec) as buf:
        out_tokens = [dec.iou_token.weight, dec.mask_tokens.weight]
        if sam2:
            out_tokens.insert(0, dec.obj_score_token.weight)
        first = len(out_tokens) - 1  # the first mask token's index (after the IoU token)
        out_tokens = torch.cat(out_tokens, dim=0)
        tokens = torch.cat([out_tokens, sparse[0, 0].to(out_tokens.dtype)], dim=0)
        queries, keys, keys_pe = _transformer(dec.transformer, tokens, prep, buf)
        final = lambda rows: _final(dec.transformer, queries, tokens, keys, keys_pe, rows)  # noqa: E731
        dynamic = sam2 and not multimask and dec.dynamic_multimask_via_stability
        picked = list(range(dec.num_mask_tokens) if dynamic else range(1, dec.num_mask_tokens) if multimask else [0])
        # the IoU token and the mask tokens in one pass over the image tokens (one pass for the IoU
        # token and another for the mask it picks read the 4096 x 256 keys twice: slower)
        out = final([first - 1] + [first + i for i in picked])
        iou, mask_q = dec.iou_prediction_head(out[0]), out[1:]
        if best_only and not dynamic:  # only the mask of the highest predicted IoU is built
            j = int(torch.argmax(iou[picked]))
            picked, mask_q = [picked[j]], mask_q[j:j + 1]
        hyper = torch.stack([dec.output_hypernetworks_mlps[i](mask_q[j]) for j, i in enumerate(picked)])  # (n, C/8)
        up = _upscale(dec, keys, prep.high, buf)
        h, w = prep.hw
        masks = (up @ hyper.t()).view(h, w, 2, 2, 2, 2, -1)  # (y, x, a, b, a', b', mask)
        masks = masks.permute(6, 0, 2, 4, 1, 3, 5).reshape(1, 1, len(picked), 4 * h, 4 * w)
        iou = iou[picked].view(1, 1, -1)
        if dynamic:
            masks, iou = dec._dynamic_multimask_via_stability(masks, iou)
        return masks, iou
