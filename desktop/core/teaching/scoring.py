"""Scoring a learner's answer to a teaching case (pure functions, no store, no Qt).

The rule (decision 0141), which the HTML teaching set repeats in its page:

- Boxes are matched per image and per label, one-to-one. Among the pairs whose IoU is at least
  `threshold` (0.5), the matching chosen is the one with the largest total IoU (the Hungarian
  algorithm, `scipy.optimize.linear_sum_assignment`, on the IoU matrix with the pairs below the
  threshold set to 0; pairs left at 0 are dropped). A matched pair is a hit; an expert box left
  unmatched is a miss; a learner's mark left unmatched is a false mark.
- Mean IoU is over the hits (None when there are none).
- The diagnosis is right when the two texts are equal after trimming, collapsing runs of spaces
  and ignoring case (`normalise_diagnosis`); None when the case has no diagnosis.

    score = score_case(expert_marks, learner_marks, "Pneumothorax", " pneumothorax ")
    score.hits, score.misses, score.false_marks, score.mean_iou, score.diagnosis_correct
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

IOU_THRESHOLD = 0.5
_EPS = 1e-9  # an IoU of exactly 0.5 computed as 0.49999999... still counts


@dataclass(frozen=True)
class Mark:
    """A box on one image of a case: `image` tells the case's images apart (an image id, or an
    index), x/y the top-left corner and w/h the size, in image pixels."""
    label: str
    x: float
    y: float
    w: float
    h: float
    image: int = 0


@dataclass(frozen=True)
class LabelScore:
    label: str
    expert: int
    learner: int
    hits: int
    misses: int
    false_marks: int
    iou_sum: float

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.expert if self.expert else None


@dataclass(frozen=True)
class CaseScore:
    expert_boxes: int
    learner_marks: int
    hits: int
    misses: int
    false_marks: int
    mean_iou: float | None
    diagnosis_expected: str
    diagnosis_given: str
    diagnosis_correct: bool | None
    per_label: dict[str, LabelScore] = field(default_factory=dict)
    # (index into the expert marks, index into the learner marks, IoU) of each hit
    pairs: tuple[tuple[int, int, float], ...] = ()

    def learner_iou(self) -> dict[int, float]:
        """Learner mark index -> the IoU of the expert box it hit (false marks are absent)."""
        return {j: iou for _i, j, iou in self.pairs}

    def to_dict(self) -> dict:
        out = asdict(self)
        out["per_label"] = {k: asdict(v) for k, v in self.per_label.items()}
        out["pairs"] = [list(p) for p in self.pairs]
        return out


def iou(a: Mark | Sequence[float], b: Mark | Sequence[float]) -> float:
    """Intersection over union of two boxes given as Marks or (x, y, w, h)."""
    ax, ay, aw, ah = _xywh(a)
    bx, by, bw, bh = _xywh(b)
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


def iou_matrix(expert: Sequence, learner: Sequence) -> np.ndarray:
    """(len(expert), len(learner)) IoU of every pair."""
    out = np.zeros((len(expert), len(learner)), dtype=np.float64)
    for i, e in enumerate(expert):
        for j, m in enumerate(learner):
            out[i, j] = iou(e, m)
    return out


def match(expert: Sequence, learner: Sequence, threshold: float = IOU_THRESHOLD) -> list[tuple[int, int, float]]:
    """The one-to-one pairs (expert index, learner index, IoU) with IoU >= threshold that give the
    largest total IoU. The boxes are compared as given: callers group by image and label."""
    if not len(expert) or not len(learner):
        return []
    from scipy.optimize import linear_sum_assignment

    ious = iou_matrix(expert, learner)
    eligible = np.where(ious >= threshold - _EPS, ious, 0.0)
    rows, cols = linear_sum_assignment(eligible, maximize=True)
    return [(int(i), int(j), float(ious[i, j])) for i, j in zip(rows, cols) if eligible[i, j] > 0]


def normalise_diagnosis(text: str | None) -> str:
    """What diagnoses are compared on: trimmed, runs of white space as one space, lower case.
    (JavaScript: `s.trim().split(/\\s+/).join(" ").toLowerCase()`.)"""
    return " ".join(str(text or "").split()).lower()


def diagnosis_correct(expected: str | None, given: str | None) -> bool | None:
    """True/False; None when the case has no diagnosis to compare with."""
    want = normalise_diagnosis(expected)
    if not want:
        return None
    return normalise_diagnosis(given) == want


def score_case(expert: Iterable[Mark], learner: Iterable[Mark], diagnosis_expected: str = "",
               diagnosis_given: str = "", threshold: float = IOU_THRESHOLD) -> CaseScore:
    """The score of one answer: boxes matched per (image, label) as the module says."""
    expert, learner = list(expert), list(learner)
    groups: dict[tuple[int, str], tuple[list[int], list[int]]] = {}
    for i, m in enumerate(expert):
        groups.setdefault((m.image, m.label), ([], []))[0].append(i)
    for j, m in enumerate(learner):
        groups.setdefault((m.image, m.label), ([], []))[1].append(j)
    pairs: list[tuple[int, int, float]] = []
    tallies: dict[str, list] = {}
    for (_image, label), (e_idx, l_idx) in groups.items():
        found = match([expert[i] for i in e_idx], [learner[j] for j in l_idx], threshold)
        pairs += [(e_idx[a], l_idx[b], v) for a, b, v in found]
        t = tallies.setdefault(label, [0, 0, 0, 0.0])
        t[0] += len(e_idx)
        t[1] += len(l_idx)
        t[2] += len(found)
        t[3] += sum(v for _a, _b, v in found)
    per_label = {label: LabelScore(label, e, m, h, e - h, m - h, s)
                 for label, (e, m, h, s) in sorted(tallies.items())}
    hits = len(pairs)
    total_iou = sum(v for _i, _j, v in pairs)
    return CaseScore(
        expert_boxes=len(expert), learner_marks=len(learner), hits=hits, misses=len(expert) - hits,
        false_marks=len(learner) - hits, mean_iou=(total_iou / hits) if hits else None,
        diagnosis_expected=str(diagnosis_expected or ""), diagnosis_given=str(diagnosis_given or ""),
        diagnosis_correct=diagnosis_correct(diagnosis_expected, diagnosis_given),
        per_label=per_label, pairs=tuple(sorted(pairs)))


def _xywh(box) -> tuple[float, float, float, float]:
    if isinstance(box, Mark):
        return box.x, box.y, box.w, box.h
    x, y, w, h = box
    return float(x), float(y), float(w), float(h)
