"""A prompt's box without building the full-resolution mask (issue 16: a prompt under 50 ms on CPU).

`SegmentAnythingModel.segment` returns the processor's `post_process_masks` mask at the image's size:
for a 2500 x 2048 radiograph that is two bilinear resizes of three masks, 400 ms on one core. The box
editor needs only the mask's *box* (and a preview it can show at low resolution), so `prompt_box`:

1. runs the prompt encoder and mask decoder as `segment` does, and keeps only the best mask (the one
   `segment` would return: the highest predicted IoU when SAM gives three);
2. runs the processor's resizes up to the last one exactly as `post_process_masks` does (SAM: to the
   padded input size, then the crop to the resized image; SAM 2: nothing), giving the logits `low`;
3. finds the box of the last resize (`low` -> (H, W), bilinear, align_corners=False, then > 0) by
   evaluating that resize only along the box's edges, scanning inwards from the region where `low`
   is positive. Exactness: a bilinear value is a convex combination of its 4 neighbours in `low`, so
   a pixel can be positive only where one of them is (the region is a superset; a sum of products of
   non-negative weights with non-positive numbers cannot round to a positive one). Each value is
   computed with torch's own source indices and weights (float32, `area_pixel_compute_source_index`)
   and compared with 0 outside a margin of 4e-6 x its neighbours' magnitude, ten times the float32
   error of the 4-term sum; a value inside the margin that could decide the box sends the prompt to
   the full-resolution path (`post_process_masks` itself), so the box is always the full mask's box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.segmentation.boxes import box_from_mask

_MARGIN = 4e-6  # x max |neighbour|: the float32 error of w0 * (u0 * a + u1 * b) + w1 * (...) is < 4e-7 x that
_CHUNK = 16  # columns (rows) evaluated together while scanning for an edge


@dataclass
class Prompted:
    box: tuple[int, int, int, int] | None  # (x0, y0, x1, y1) of the full-resolution mask; None: empty
    score: float  # the model's predicted IoU of the mask
    low: np.ndarray  # bool (h, w): the mask at the resolution before the last resize (a preview)
    exact_path: bool  # True when the full-resolution mask had to be built (a value too close to 0)


def axis(in_size: int, out_size: int):
    """Torch's bilinear (align_corners=False) indices and weights along one axis, as
    `upsample_bilinear2d` computes them in float32: (i0, i1, w0, w1) for each output index."""
    scale = np.float32(in_size) / np.float32(out_size)
    dst = np.arange(out_size, dtype=np.float32)
    src = scale * (dst + np.float32(0.5)) - np.float32(0.5)
    src = np.maximum(src, np.float32(0.0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    w1 = np.clip(src - i0.astype(np.float32), np.float32(0.0), np.float32(1.0))
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (np.float32(1.0) - w1).astype(np.float64), w1.astype(np.float64)


class _Resize:
    """The last bilinear resize of `low` (h, w) to (H, W), evaluated on blocks of output pixels."""

    def __init__(self, low: np.ndarray, out_h: int, out_w: int):
        self.low = low  # float32; only the pixels a block reads go to float64 (exactly), not all of it
        self.ry = axis(low.shape[0], out_h)
        self.rx = axis(low.shape[1], out_w)

    def block(self, rows: np.ndarray, cols: np.ndarray):
        """(values, margins) of the output pixels rows x cols."""
        y0, y1, v0, v1 = (a[rows] for a in self.ry)
        x0, x1, u0, u1 = (a[cols] for a in self.rx)
        L = self.low
        # the four neighbours by two one-axis gathers (the short axis first): the same pixels as
        # L[y0[:, None], x0[None, :]], several times faster than that broadcast gather
        if len(rows) >= len(cols):
            c0, c1 = L[:, x0], L[:, x1]
            a, b, c, d = c0[y0], c1[y0], c0[y1], c1[y1]
        else:
            r0, r1 = L[y0], L[y1]
            a, b, c, d = r0[:, x0], r0[:, x1], r1[:, x0], r1[:, x1]
        a, b, c, d = (t.astype(np.float64) for t in (a, b, c, d))
        values = v0[:, None] * (u0[None, :] * a + u1[None, :] * b) + v1[:, None] * (u0[None, :] * c + u1[None, :] * d)
        margin = _MARGIN * np.maximum(np.maximum(np.abs(a), np.abs(b)), np.maximum(np.abs(c), np.abs(d)))
        return values, margin

    def candidates(self, lo: int, hi: int, ry) -> np.ndarray:
        """Output indices whose two source indices touch [lo, hi] of `low` (with a non-zero weight)."""
        i0, i1, w0, w1 = ry
        touch = ((i0 >= lo) & (i0 <= hi) & (w0 > 0)) | ((i1 >= lo) & (i1 <= hi) & (w1 > 0))
        return np.flatnonzero(touch)


def _edge(resize: _Resize, lines: np.ndarray, across: np.ndarray, by_column: bool, reverse: bool):
    """The first of `lines` (columns, or rows) holding a clearly positive value over `across`;
    None when none does; raises _Unsure when a value too close to 0 could decide it."""
    order = lines[::-1] if reverse else lines
    for start in range(0, len(order), _CHUNK):
        chunk = order[start:start + _CHUNK]
        if by_column:
            values, margin = resize.block(across, chunk)
            pos, unsure = (values > margin).any(axis=0), (np.abs(values) <= margin).any(axis=0)
        else:
            values, margin = resize.block(chunk, across)
            pos, unsure = (values > margin).any(axis=1), (np.abs(values) <= margin).any(axis=1)
        for k in range(len(chunk)):
            if pos[k]:
                return int(chunk[k])
            if unsure[k]:
                raise _Unsure()
    return None


class _Unsure(Exception):
    pass


def box_of_resize(low: np.ndarray, out_h: int, out_w: int) -> tuple[int, int, int, int] | None:
    """The box of `bilinear(low -> (out_h, out_w)) > 0` (see the module docstring), or raises _Unsure."""
    pos = low > 0
    if not pos.any():
        return None
    rows_l, cols_l = np.flatnonzero(pos.any(axis=1)), np.flatnonzero(pos.any(axis=0))
    resize = _Resize(low, out_h, out_w)
    rows = resize.candidates(int(rows_l[0]), int(rows_l[-1]), resize.ry)
    cols = resize.candidates(int(cols_l[0]), int(cols_l[-1]), resize.rx)
    x0 = _edge(resize, cols, rows, by_column=True, reverse=False)
    if x0 is None:
        return None
    x1 = _edge(resize, cols, rows, by_column=True, reverse=True)
    inside = np.arange(x0, x1 + 1)
    y0 = _edge(resize, rows, inside, by_column=False, reverse=False)
    y1 = _edge(resize, rows, inside, by_column=False, reverse=True)
    return x0, y0, x1 + 1, y1 + 1


def prompt_box(model, emb, points=None, box=None) -> Prompted:
    """The box of the mask `model.segment(emb, points, box)` returns, its score and a low-resolution
    preview, without the full-resolution resize (see the module docstring)."""
    import torch
    import torch.nn.functional as F

    pred, iou, multimask = model.decode(emb, points, box, best_only=True)
    best = int(torch.argmax(iou)) if multimask else 0
    masks = pred[0, :, best:best + 1].float().cpu()  # (1 prompt, 1 mask, 256, 256), as post_process_masks takes it
    if model.family == "sam2":
        low = masks
    else:
        pad = model.processor.image_processor.pad_size
        low = upsample_around_positive(masks, pad["height"], pad["width"])
        low = low[..., : emb.reshaped_size[0], : emb.reshaped_size[1]]
    low_np = low[0, 0].numpy()
    h, w = emb.original_size
    try:
        found, exact = box_of_resize(low_np, h, w), False
    except _Unsure:
        if model.family != "sam2":  # the processor's first resize in full, as post_process_masks runs it
            low = F.interpolate(masks, (pad["height"], pad["width"]), mode="bilinear", align_corners=False)
            low = low[..., : emb.reshaped_size[0], : emb.reshaped_size[1]]
        full = F.interpolate(low, (h, w), mode="bilinear", align_corners=False) > 0
        found, exact = box_from_mask(full[0, 0].numpy()), True
    return Prompted(found, float(iou[best]), low_np > 0, exact)


_WINDOW_MARGIN = 2  # source pixels around the positive region that the windowed resize keeps


def upsample_around_positive(masks, out_h: int, out_w: int):
    """`F.interpolate(masks, (out_h, out_w), bilinear, align_corners=False)` (masks (1, 1, h, w)),
    computed only over the band of source rows around where `masks` is positive (2 rows above and
    below), all columns; elsewhere 0. Inside the band every value is bit for bit torch's own for the
    full resize: with an integer factor k, the source coordinate of output row i + k a is that of i,
    plus a, exactly (float32 multiples of 1 / 2k), so the band's resize has the same indices and
    weights, except in its outermost k / 2 output rows (clamped at the band's edge), which lie more
    than a source row from every value the box scan reads (positive values lie within one source
    pixel of a positive source, by convexity, and the scan reads one output pixel around them). The
    rows keep their full width so that the kernel's vector lanes (and its rounding) are the same: a
    window narrowed in columns differed in the last bit. Without an integer factor, or with nothing
    positive, the full resize."""
    import torch
    import torch.nn.functional as F

    h, w = masks.shape[-2:]
    pos = masks[0, 0] > 0
    if out_h % h or out_w % w or out_h // h != out_w // w or not bool(pos.any()):
        return F.interpolate(masks, (out_h, out_w), mode="bilinear", align_corners=False)
    k = out_h // h
    rows = torch.nonzero(pos.any(dim=1)).flatten()
    r0, r1 = max(0, int(rows[0]) - _WINDOW_MARGIN), min(h, int(rows[-1]) + 1 + _WINDOW_MARGIN)
    if (r0, r1) == (0, h):
        return F.interpolate(masks, (out_h, out_w), mode="bilinear", align_corners=False)
    part = F.interpolate(masks[..., r0:r1, :], scale_factor=float(k), mode="bilinear", align_corners=False,
                         recompute_scale_factor=False)
    out = masks.new_zeros((*masks.shape[:-2], out_h, out_w))
    out[..., k * r0:k * r1, :] = part
    return out
