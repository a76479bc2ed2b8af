"""What people changed relative to a model's predictions, so a team can measure how much a model
is corrected: each prediction is accepted, moved, relabelled (or both), deleted, or still
unreviewed; each box a person drew is added. A box whose outline a segmentation model snapped to a
mask's extent (the box editor's Refine, issue 16) is also "refined", and names that model
(`refined_by`); `refined_by` in the summary counts them per segmentation model."""

from __future__ import annotations

from pathlib import Path

from desktop.core.exchange.coco_export import write_json_atomic
from desktop.core.store import AnnotationStore

KINDS = ("accepted", "moved", "relabelled", "deleted", "added", "unreviewed", "refined")
_EPS = 1e-6


def corrections(store: AnnotationStore, model: str | None = None, keep_paths: bool = True) -> dict:
    """`keep_paths=False` names images `img<id>` (naming.py) instead of their relative paths."""
    from desktop.core.exchange.naming import export_names

    names = {c.id: c.name for c in store.categories()}
    paths = export_names(store.conn.execute("SELECT id, rel_path FROM images").fetchall(), keep_paths)
    cond, params = ("AND (source = 'person' OR model = ?)", (model,)) if model else ("", ())
    rows = store.conn.execute(
        "SELECT id, image_id, source, model, score, state, deleted, category_id, x, y, w, h, "
        "orig_category_id, orig_x, orig_y, orig_w, orig_h, refined_by FROM boxes WHERE 1 " + cond +
        " ORDER BY image_id, id", params).fetchall()
    items, counts, refiners = [], dict.fromkeys(KINDS, 0), {}
    for (bid, image_id, source, mdl, score, state, deleted, cat, x, y, w, h,
         ocat, ox, oy, ow, oh, refined_by) in rows:
        item = {"image": paths[image_id], "box_id": bid, "category": names.get(cat), "bbox": [x, y, w, h]}
        if source == "person":
            if deleted:
                continue  # drawn, then deleted: nothing to measure
            kinds = ["added"]
        else:
            item.update(model=mdl, score=score, predicted_category=names.get(ocat, names.get(cat)),
                        predicted_bbox=[ox, oy, ow, oh])
            kinds = prediction_kinds(state, deleted, cat, (x, y, w, h), ocat, (ox, oy, ow, oh))
        if refined_by and not deleted:
            kinds = [*kinds, "refined"]
            item["refined_by"] = refined_by
            refiners[refined_by] = refiners.get(refined_by, 0) + 1
        item["kinds"] = kinds
        for k in kinds:
            counts[k] += 1
        items.append(item)
    reviewed = sum(counts[k] for k in ("accepted", "deleted")) + sum(
        1 for it in items if it.get("model") and set(it["kinds"]) & {"moved", "relabelled"})
    return {"model": model, "counts": counts, "refined_by": refiners, "predictions_reviewed": reviewed,
            "accepted_unchanged_rate": counts["accepted"] / reviewed if reviewed else None,
            "corrections": items}


def prediction_kinds(state: str, deleted, category, box, orig_category, orig_box) -> list[str]:
    """What happened to one prediction: ["deleted"], ["unreviewed"], ["accepted"], or "moved"
    and/or "relabelled" relative to the model's original box (x, y, w, h) and category."""
    if deleted:
        return ["deleted"]
    if state == "unreviewed":
        return ["unreviewed"]
    moved = orig_box[0] is not None and any(abs(a - b) > _EPS for a, b in zip(box, orig_box))
    relabelled = orig_category is not None and orig_category != category
    return [k for k, on in (("moved", moved), ("relabelled", relabelled)) if on] or ["accepted"]


def export_corrections(store: AnnotationStore, out_path: str | Path, model: str | None = None,
                       keep_paths: bool = False) -> Path:
    """Images are named `img<id>` unless `keep_paths` (naming.py)."""
    from desktop.core.exchange.coco_export import private_names

    out = Path(out_path)
    if out.is_dir() or not out.suffix:
        out = out / "corrections.json"
    private_names(store, store.conn.execute("SELECT id, rel_path FROM images").fetchall(), keep_paths)
    return write_json_atomic(out, corrections(store, model, keep_paths=keep_paths))
