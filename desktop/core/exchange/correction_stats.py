"""How much each model is corrected, from what the store keeps (decision 0132): per model, per run
and per class, how many of its predictions were accepted, moved, relabelled, deleted or are still
unreviewed, how many boxes people added where it ran, and the mean IoU between a moved box and the
model's original. The corrections dashboard (Models ▸ Corrections Dashboard…) draws these numbers
and `loupe corrections FOLDER --csv F --png F` writes them.

Definitions (the corrections export's, desktop/core/exchange/corrections.py `prediction_kinds`):
- a prediction is counted under the class the MODEL gave it (orig_category_id), and under the run
  that made it (boxes.run_id; predictions older than run records: "earlier runs");
- moved and relabelled can both hold for one box; `corrected` counts a box once (moved, relabelled
  or deleted); `reviewed` = predictions - unreviewed; `corrected_rate` = corrected / reviewed;
- `added`: boxes a person drew (not deleted) on an image where the model has predictions, counted
  for that model's latest run on the image, under the drawn class: what the model missed;
- `refined`: boxes whose outline a segmentation model snapped (boxes.refined_by).
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.exchange.corrections import _EPS

EARLIER = "earlier runs"  # predictions made before runs were recorded (or imported)
COUNTS = ("predictions", "accepted", "moved", "relabelled", "deleted", "unreviewed", "added", "refined")
CSV_COLUMNS = ("level", "model", "run", "run_started", "class", *COUNTS, "reviewed", "corrected",
               "corrected_rate", "moved_mean_iou")


@dataclass
class Tally:
    predictions: int = 0
    accepted: int = 0
    moved: int = 0
    relabelled: int = 0
    deleted: int = 0
    unreviewed: int = 0
    added: int = 0
    refined: int = 0
    corrected: int = 0
    iou_sum: float = 0.0

    @property
    def reviewed(self) -> int:
        return self.predictions - self.unreviewed

    @property
    def corrected_rate(self) -> float | None:
        return self.corrected / self.reviewed if self.reviewed else None

    @property
    def moved_mean_iou(self) -> float | None:
        return self.iou_sum / self.moved if self.moved else None

    def add(self, other: Tally) -> None:
        for name in (*COUNTS, "corrected", "iou_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunInfo:
    key: int | None  # the run's id; None: EARLIER
    label: str
    started: float | None


@dataclass
class CorrectionStats:
    models: list[str] = field(default_factory=list)
    runs: dict[str, list[RunInfo]] = field(default_factory=dict)  # model -> its runs, oldest first
    cells: dict[tuple[str, int | None, str], Tally] = field(default_factory=dict)  # (model, run, class)

    @property
    def empty(self) -> bool:
        return not any(t.predictions for t in self.cells.values())

    def total(self, model: str) -> Tally:
        out = Tally()
        for (m, _r, _c), t in self.cells.items():
            if m == model:
                out.add(t)
        return out

    def per_class(self, model: str) -> dict[str, Tally]:
        out: dict[str, Tally] = {}
        for (m, _r, c), t in sorted(self.cells.items(), key=lambda kv: kv[0][2]):
            if m == model:
                out.setdefault(c, Tally()).add(t)
        return out

    def per_run(self, model: str) -> list[tuple[RunInfo, Tally]]:
        out = []
        for info in self.runs.get(model, []):
            t = Tally()
            for (m, r, _c), cell in self.cells.items():
                if m == model and r == info.key:
                    t.add(cell)
            out.append((info, t))
        return out

    def rows(self) -> list[dict]:
        """The CSV's rows: per model, then per (model, run), then per (model, run, class)."""
        rows = []
        for model in self.models:
            rows.append(_row("model", model, None, "", self.total(model)))
            for info, t in self.per_run(model):
                rows.append(_row("run", model, info, "", t))
                for (m, r, c), cell in sorted(self.cells.items(), key=lambda kv: kv[0][2]):
                    if m == model and r == info.key:
                        rows.append(_row("class", model, info, c, cell))
        return rows


def _row(level: str, model: str, info: RunInfo | None, cls: str, t: Tally) -> dict:
    rate, iou = t.corrected_rate, t.moved_mean_iou
    started = "" if info is None or info.started is None else time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(info.started))
    return {"level": level, "model": model, "run": "" if info is None else ("" if info.key is None else info.key),
            "run_started": started, "class": cls, **{k: getattr(t, k) for k in COUNTS},
            "reviewed": t.reviewed, "corrected": t.corrected,
            "corrected_rate": "" if rate is None else round(rate, 6),
            "moved_mean_iou": "" if iou is None else round(iou, 6)}


def iou_xywh(a, b) -> float:
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    iw = max(0.0, min(ax0 + aw, bx0 + bw) - max(ax0, bx0))
    ih = max(0.0, min(ay0 + ah, by0 + bh) - max(ay0, by0))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


# What happened to each prediction, as SQL: `prediction_kinds` (corrections.py) written as columns,
# so a store of a million boxes is counted by SQLite in one grouped pass (tests check the two agree).
_KINDS_SQL = f"""
WITH p AS (
    SELECT model, run_id, COALESCE(orig_category_id, category_id) AS cls, deleted,
           deleted = 0 AND state = 'unreviewed' AS unrev,
           deleted = 0 AND state != 'unreviewed' AND orig_x IS NOT NULL AND (
               abs(x - orig_x) > {_EPS} OR abs(y - orig_y) > {_EPS} OR abs(w - orig_w) > {_EPS}
               OR abs(h - orig_h) > {_EPS}) AS moved,
           deleted = 0 AND state != 'unreviewed' AND orig_category_id IS NOT NULL
               AND orig_category_id != category_id AS relab,
           refined_by IS NOT NULL AND deleted = 0 AS refined,
           max(0.0, min(x + w, orig_x + orig_w) - max(x, orig_x)) * max(0.0, min(y + h, orig_y + orig_h) - max(y, orig_y))
               AS inter,
           w * h + orig_w * orig_h AS areas
    FROM boxes WHERE source = 'model')
SELECT model, run_id, cls, COUNT(*), SUM(deleted = 0 AND unrev = 0 AND moved = 0 AND relab = 0), SUM(moved),
       SUM(relab), SUM(deleted), SUM(unrev), SUM(refined), SUM(deleted OR moved OR relab),
       SUM(CASE WHEN moved THEN CASE WHEN areas - inter > 0 THEN inter / (areas - inter) ELSE 0.0 END ELSE 0.0 END)
FROM p GROUP BY model, run_id, cls
"""
# boxes people drew (not deleted) on an image, with each model that has predictions there and its
# latest run on that image (0: predictions older than run records)
_ADDED_SQL = """
WITH latest AS (
    SELECT image_id, model, MAX(COALESCE(run_id, 0)) AS run FROM boxes WHERE source = 'model' GROUP BY image_id, model)
SELECT l.model, l.run, b.category_id, COUNT(*) FROM boxes b JOIN latest l ON l.image_id = b.image_id
WHERE b.source = 'person' AND b.deleted = 0 GROUP BY l.model, l.run, b.category_id
"""


def correction_stats(store) -> CorrectionStats:
    """Every model's corrections in `store` (a desktop.core.store.AnnotationStore), counted by
    SQLite in two grouped queries (no Python loop over the boxes)."""
    conn = store.conn
    names = {cid: name for cid, name in conn.execute("SELECT id, name FROM categories")}
    run_rows = {rid: started for rid, started in conn.execute("SELECT id, started FROM runs")}
    stats = CorrectionStats()
    cells = stats.cells
    seen_runs: dict[str, set] = {}

    def run_key(run_id):
        return run_id if run_id in run_rows else None

    for (model, run_id, cls, n, accepted, moved, relab, deleted, unrev, refined, corrected,
         iou_sum) in conn.execute(_KINDS_SQL):
        model = model or "(unnamed model)"
        run = run_key(run_id)
        seen_runs.setdefault(model, set()).add(run)
        t = cells.setdefault((model, run, names.get(cls, str(cls))), Tally())
        t.add(Tally(n, accepted, moved, relab, deleted, unrev, 0, refined, corrected, float(iou_sum or 0.0)))
    for model, run_id, cat, n in conn.execute(_ADDED_SQL):
        model = model or "(unnamed model)"
        cells.setdefault((model, run_key(run_id or None), names.get(cat, str(cat))), Tally()).added += int(n)
    stats.models = sorted(seen_runs)
    for model, runs in seen_runs.items():
        infos = []
        for r in sorted(runs, key=lambda r: (r is not None, r or 0)):
            if r is None:
                infos.append(RunInfo(None, EARLIER, None))
            else:
                started = run_rows[r]
                infos.append(RunInfo(r, f"run {r} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}",
                                     started))
        stats.runs[model] = infos
    return stats


def write_csv(stats: CorrectionStats, path: str | os.PathLike) -> Path:
    """The rows as CSV (UTF-8, header CSV_COLUMNS), written atomically."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(stats.rows())
    os.replace(tmp, out)
    return out


EMPTY_HINT = ("No model predictions in this folder's annotations yet. Run a detector on the folder "
              "(Models dock: All images), then accept, move, relabel or delete its boxes in the box "
              "editor; this dashboard counts those corrections per model, class and run.")
