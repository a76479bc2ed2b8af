"""A prompt's box without building the full-resolution mask (issue 16: a prompt under 50 ms on CPU).

`SegmentAnythingModel.segment` returns the processor's `post_process_masks` mask at the image's size:
for a 2500 x 2048 radiograph that is two bilinear resizes of three masks, 400 ms on one core. The box
editor needs only the mask's *box* (and a preview it can show at low resolution), so `prompt_box`:

1. runs the prompt encoder and mask decoder as `segment` does, and keeps only the best mask (the one
   `segment` would return: the highest predicted IoU when SAM gives three);
2. finds the box of the processor's resizes of that mask's logits `low` (256 x 256) -> (H, W)
   (SAM: bilinear to the padded input size, the crop to the resized image, bilinear to the image's
   size; SAM 2: one bilinear resize; align_corners=False, then > 0) without computing either resize
   in full: the chain is, along each axis, one linear map with four taps per output pixel
   (`composite`: torch's float32 indices and weights of each stage, `area_pixel_compute_source_index`,
   multiplied out exactly in float64), evaluated only along the box's edges, scanning inwards from
   the region where `low` is positive. Exactness: a bilinear value is a convex combination of its
   neighbours, so a pixel can be positive only where one of its taps is (the region is a superset;
   a sum of products of non-negative weights with non-positive numbers cannot round to a positive
   one). Each value is compared with 0 outside a margin of 4e-6 x the largest |logit| its taps read:
   torch's two float32 passes differ from the exact value by under ~8 float32 roundings of that
   (5e-7 x), so a value outside the margin has torch's sign; a value inside it that could decide
   the box sends the prompt to the full-resolution path (`post_process_masks`' own resizes), so the
   box is always the full mask's box.
3. returns the mask at the decoder's resolution, cropped to the decoder pixels over the image, as
   the preview, with the image pixels it covers (`extent`; the window scales it there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.segmentation.boxes import box_from_mask

_MARGIN = 4e-6  # x max |tap|: torch's two float32 resizes are within ~5e-7 x that of the exact value
_CHUNK = 16  # columns (rows) evaluated together while scanning for an edge


@dataclass
class Prompted:
    box: tuple[int, int, int, int] | None  # (x0, y0, x1, y1) of the full-resolution mask; None: empty
    score: float  # the model's predicted IoU of the mask
    low: np.ndarray  # bool (h, w): the mask at the decoder's resolution, over the image (a preview)
    exact_path: bool  # True when the full-resolution mask had to be built (a value too close to 0)
    extent: tuple[float, float] = (0.0, 0.0)  # (w, h) in image pixels that `low` covers from (0, 0)


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


def composite(stages) -> tuple[np.ndarray, np.ndarray]:
    """One axis of a chain of bilinear resizes, `stages` [(in, out), ...] in order, each taking the
    first `in` pixels of the previous one's output (the processor's crop), as (indices (out, T),
    weights (out, T)) into the first stage's input: T = 2 ** len(stages) taps, each weight the
    product of the stages' float32 weights (exact in float64)."""
    (n_in, n_out) = stages[-1]
    i0, i1, w0, w1 = axis(n_in, n_out)
    idx, wt = np.stack([i0, i1], 1), np.stack([w0, w1], 1)
    for n_in, n_out in reversed(stages[:-1]):
        p0, p1, q0, q1 = axis(n_in, n_out)
        idx, wt = np.concatenate([p0[idx], p1[idx]], 1), np.concatenate([wt * q0[idx], wt * q1[idx]], 1)
    return idx, wt


class _Resize:
    """A chain of bilinear resizes of `low` (h, w), evaluated on blocks of output pixels, one axis at
    a time (separable): rows `ry`, columns `rx` as `composite` gives them."""

    def __init__(self, low: np.ndarray, ry, rx):
        self.low = low  # float32; only the pixels a block reads go to float64 (exactly), not all of it
        self.ry, self.rx = ry, rx

    def block(self, rows: np.ndarray, cols: np.ndarray):
        """(values, margins) of the output pixels rows x cols; a margin is _MARGIN x the largest
        |value| among the pixels of `low` the output pixel's taps read."""
        iy, wy = self.ry[0][rows], self.ry[1][rows]  # (R, T)
        ix, wx = self.rx[0][cols], self.rx[1][cols]  # (C, T)
        L = self.low
        if len(rows) >= len(cols):  # along x first: (h, C), then the rows
            g = L[:, ix].astype(np.float64)  # (h, C, T)
            part, big = (g * wx).sum(axis=2), np.abs(g).max(axis=2)
            values = (part[iy] * wy[:, :, None]).sum(axis=1)  # (R, T, C) -> (R, C)
            margin = big[iy].max(axis=1)
        else:  # along y first: (R, w), then the columns
            g = L[iy].astype(np.float64)  # (R, T, w)
            part, big = (g * wy[:, :, None]).sum(axis=1), np.abs(g).max(axis=1)
            values = (part[:, ix] * wx).sum(axis=2)  # (R, C, T) -> (R, C)
            margin = big[:, ix].max(axis=2)
        return values, _MARGIN * margin

    @staticmethod
    def candidates(lo: int, hi: int, r) -> np.ndarray:
        """Output indices with a tap of non-zero weight on [lo, hi] of `low`."""
        idx, wt = r
        return np.flatnonzero(((idx >= lo) & (idx <= hi) & (wt > 0)).any(axis=1))


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
    return box_of_resizes(low, [(low.shape[0], out_h)], [(low.shape[1], out_w)])


def box_of_resizes(low: np.ndarray, ys, xs) -> tuple[int, int, int, int] | None:
    """The box of `low` after the chain of bilinear resizes `ys` (rows) / `xs` (columns) (`composite`)
    > 0, or raises _Unsure."""
    pos = low > 0
    if not pos.any():
        return None
    rows_l, cols_l = np.flatnonzero(pos.any(axis=1)), np.flatnonzero(pos.any(axis=0))
    resize = _Resize(low, composite(ys), composite(xs))
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
    low = masks[0, 0].numpy()
    h, w = emb.original_size
    mh, mw = low.shape
    if model.family == "sam2":  # post_process_masks: one resize to the image's size
        ys, xs = [(mh, h)], [(mw, w)]
        part, scale = (mh, mw), (h / mh, w / mw)
    else:  # to the padded input size, the crop to the resized image, then to the image's size
        pad = model.processor.image_processor.pad_size
        (rh, rw), ph, pw = emb.reshaped_size, pad["height"], pad["width"]
        ys, xs = [(mh, ph), (rh, h)], [(mw, pw), (rw, w)]
        part = (-(-rh * mh // ph), -(-rw * mw // pw))  # the decoder pixels over the resized image
        scale = (ph / mh * h / rh, pw / mw * w / rw)  # image pixels per decoder pixel
    try:
        found, exact = box_of_resizes(low, ys, xs), False
    except _Unsure:
        full = masks
        if model.family != "sam2":  # the processor's resizes in full, as post_process_masks runs them
            full = F.interpolate(masks, (ph, pw), mode="bilinear", align_corners=False)[..., :rh, :rw]
        full = F.interpolate(full, (h, w), mode="bilinear", align_corners=False) > 0
        found, exact = box_from_mask(full[0, 0].numpy()), True
    preview = low[: part[0], : part[1]] > 0
    extent = (part[1] * scale[1], part[0] * scale[0])  # (w, h): may pass the image's edge by < 1 decoder pixel
    return Prompted(found, float(iou[best]), preview, exact, extent)
