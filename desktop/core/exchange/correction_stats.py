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

from desktop.core.exchange.corrections import prediction_kinds

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


def correction_stats(store) -> CorrectionStats:
    """Every model's corrections in `store` (a desktop.core.store.AnnotationStore), in one pass."""
    names = {c.id: c.name for c in store.categories()}
    run_rows = {rid: (model, started) for rid, model, started in
                store.conn.execute("SELECT id, model, started FROM runs")}
    stats = CorrectionStats()
    cells = stats.cells
    seen_runs: dict[str, set] = {}
    latest: dict[tuple[int, str], int | None] = {}  # (image, model) -> its latest run there
    rows = store.conn.execute(
        "SELECT image_id, source, model, state, deleted, category_id, x, y, w, h, orig_category_id, "
        "orig_x, orig_y, orig_w, orig_h, refined_by, run_id FROM boxes ORDER BY image_id, id").fetchall()
    drawn = []
    for (image_id, source, model, state, deleted, cat, x, y, w, h, ocat, ox, oy, ow, oh, refined,
         run_id) in rows:
        if source != "model":
            if not deleted:
                drawn.append((image_id, names.get(cat, str(cat)), refined))
            continue
        model = model or "(unnamed model)"
        run = run_id if run_id in run_rows else None
        seen_runs.setdefault(model, set()).add(run)
        key = (image_id, model)
        if key not in latest or (run or 0) > (latest[key] or 0):
            latest[key] = run
        cls = names.get(ocat if ocat is not None else cat, str(cat))
        t = cells.setdefault((model, run, cls), Tally())
        kinds = prediction_kinds(state, deleted, cat, (x, y, w, h), ocat, (ox, oy, ow, oh))
        t.predictions += 1
        for k in kinds:
            setattr(t, k, getattr(t, k) + 1)
        if "moved" in kinds:
            t.iou_sum += iou_xywh((x, y, w, h), (ox, oy, ow, oh))
        if set(kinds) & {"moved", "relabelled", "deleted"}:
            t.corrected += 1
        if refined and not deleted:
            t.refined += 1
    by_image: dict[int, list[str]] = {}
    for image_id, model in latest:
        by_image.setdefault(image_id, []).append(model)
    for image_id, cls, _refined in drawn:
        for model in by_image.get(image_id, []):
            cells.setdefault((model, latest[(image_id, model)], cls), Tally()).added += 1
    stats.models = sorted(seen_runs)
    for model, runs in seen_runs.items():
        infos = []
        for r in sorted(runs, key=lambda r: (r is not None, r or 0)):
            if r is None:
                infos.append(RunInfo(None, EARLIER, None))
            else:
                started = run_rows[r][1]
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
