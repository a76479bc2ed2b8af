"""COCO JSON text straight from the database rows, without a dict per image and per box.

`json.dumps` of 100,000 annotation dicts spends most of its time on the dicts' keys; here each
row goes through one %-template instead. The text is byte for byte what
`json.dumps(coco_dict(...), separators=(",", ":"))` writes (floats through `repr`, as the json
module does; strings through its C escaper), which a test checks. A box coordinate that is not
finite (JSON has no spelling for it) falls back to `json.dumps` (decision 0027).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote

from desktop.core.store import AnnotationStore

_IMAGE = '{"id":%d,"file_name":%s,"width":%d,"height":%d}'
_ANN = '{"id":%d,"image_id":%d,"category_id":%d,"bbox":[%r,%r,%r,%r],"area":%r,"iscrowd":0,"segmentation":[]}'
_ANN_SCORE = _ANN[:-1] + ',"score":%r}'
_COMPACT = (",", ":")


def image_rows(store: AnnotationStore, only_reviewed: bool = False) -> list[tuple]:
    where = " WHERE review_status = 'done'" if only_reviewed else ""
    return store.conn.execute(f"SELECT id, rel_path, width, height FROM images{where} ORDER BY id").fetchall()


def annotation_rows(store: AnnotationStore, only_reviewed: bool, include_predictions: bool) -> list[tuple]:
    """(image_id, category_id, x, y, w, h, score) in one query, by image then box id."""
    cond = "" if include_predictions else " AND state != 'unreviewed'"
    if only_reviewed:
        cond += " AND image_id IN (SELECT id FROM images WHERE review_status = 'done')"
    return store.conn.execute(f"SELECT image_id, category_id, x, y, w, h, score FROM boxes "
                              f"WHERE deleted = 0{cond} ORDER BY image_id, id").fetchall()


def coco_text(store: AnnotationStore, *, only_reviewed: bool = False, include_predictions: bool = False,
              with_scores: bool = False, file_names: dict[int, str] | None = None, progress=None) -> str:
    """`file_names` (image id -> name) replaces the relative paths (the non-identifying names);
    `progress(done, total, "boxes written")` is told after each chunk of boxes (progress.py)."""
    from desktop.core.exchange.coco_export import INFO, coco_categories, coco_dict
    from desktop.core.exchange.progress import chunks

    names = file_names or {}
    images = ",".join([_IMAGE % (i, _quote(names.get(i, rel)), w, h)
                       for i, rel, w, h in image_rows(store, only_reviewed)])
    rows = annotation_rows(store, only_reviewed, include_predictions)
    parts: list[str] = []
    if progress is not None:
        progress(0, len(rows), "boxes written")
    k0 = 1
    for part in chunks(rows):
        if with_scores:
            parts.append(",".join([(_ANN if s is None else _ANN_SCORE) % (
                (k, i, c, x, y, w, h, w * h) if s is None else (k, i, c, x, y, w, h, w * h, s))
                for k, (i, c, x, y, w, h, s) in enumerate(part, k0)]))
        else:
            parts.append(",".join([_ANN % (k, i, c, x, y, w, h, w * h)
                                   for k, (i, c, x, y, w, h, _s) in enumerate(part, k0)]))
        k0 += len(part)
        if progress is not None:
            progress(k0 - 1, len(rows), "boxes written")
    anns = ",".join(parts)
    if "inf" in anns:  # a non-finite number: let the json module spell it as it always did
        return json.dumps(coco_dict(store, only_reviewed=only_reviewed, include_predictions=include_predictions,
                                    with_scores=with_scores, file_names=file_names), separators=_COMPACT)
    head = json.dumps({"info": INFO, "licenses": [],
                       "categories": coco_categories(store)}, separators=_COMPACT)
    return f'{head[:-1]},"images":[{images}],"annotations":[{anns}]}}'
