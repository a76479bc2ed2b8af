"""Boxes: add, update, delete (kept, flagged), accept, and a model's predictions replaced at once."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator

from desktop.core.store.categories import _insert_category
from desktop.core.store.errors import StoreError
from desktop.core.store.records import BOX_COLUMNS, Box, box_from_row
from desktop.core.store.schema import BOX_STATES

_SELECT = f"SELECT {BOX_COLUMNS} FROM boxes b JOIN categories c ON c.id = b.category_id"
_INSERT = ("INSERT INTO boxes(id, image_id, category_id, x, y, w, h, source, model, score, state, locked, "
           "orig_category_id, orig_x, orig_y, orig_w, orig_h, created, modified) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


class BoxesMixin:
    conn: sqlite3.Connection

    # -- reading -----------------------------------------------------------------------------
    def boxes(self, image_id: int, include_deleted: bool = False) -> list[Box]:
        where = "" if include_deleted else " AND b.deleted = 0"
        return [box_from_row(r) for r in self.conn.execute(
            f"{_SELECT} WHERE b.image_id = ?{where} ORDER BY b.id", (image_id,))]

    def box(self, box_id: int) -> Box:
        row = self.conn.execute(f"{_SELECT} WHERE b.id = ?", (self._rid(box_id),)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no box with id {box_id}")
        return box_from_row(row)

    def all_boxes(self, include_deleted: bool = False) -> Iterator[Box]:
        where = "" if include_deleted else " WHERE b.deleted = 0"
        for r in self.conn.execute(f"{_SELECT}{where} ORDER BY b.image_id, b.id"):
            yield box_from_row(r)

    def box_count(self, include_deleted: bool = False) -> int:
        where = "" if include_deleted else " WHERE deleted = 0"
        return self.conn.execute(f"SELECT COUNT(*) FROM boxes{where}").fetchone()[0]

    # -- writing -----------------------------------------------------------------------------
    def add_box(self, image_id: int, category, x: float, y: float, w: float, h: float, *,
                source: str = "person", model: str | None = None, score: float | None = None,
                state: str | None = None, locked: bool = False, refined_by: str | None = None) -> int:
        """Add a box; `category` is a name (created when new) or an id. Returns the box id (known
        at once, even when the write has to wait in memory). `refined_by`: the segmentation model
        whose mask gave the box (the box editor's click-to-box)."""
        if source not in ("person", "model"):
            raise StoreError(f"box source must be 'person' or 'model', not {source!r}")
        state = state or ("drawn" if source == "person" else "unreviewed")
        if state not in BOX_STATES:
            raise StoreError(f"box state must be one of {', '.join(BOX_STATES)}, not {state!r}")
        _check_size(w, h)
        handle = self._new_handle()
        now = time.time()
        record = {"edit": "add_box", "image_id": int(image_id), "category": category, "x": float(x),
                  "y": float(y), "w": float(w), "h": float(h), "source": source, "model": model,
                  "score": None if score is None else float(score), "state": state, "locked": bool(locked),
                  "handle": handle, "refined_by": refined_by}

        def op(conn: sqlite3.Connection) -> int:
            # the id comes from SQLite inside this transaction (AUTOINCREMENT: never reused), so it
            # can never be one that another window holds (decision 0112)
            cid = _category_in(conn, category)
            orig = (cid, x, y, w, h) if source == "model" else (None,) * 5
            cur = conn.execute(_INSERT, (None, image_id, cid, float(x), float(y), float(w), float(h), source,
                                         model, None if score is None else float(score), state, int(locked),
                                         *orig, now, now))
            if refined_by:
                conn.execute("UPDATE boxes SET refined_by = ? WHERE id = ?", (refined_by, cur.lastrowid))
            self.writer.stage(handle, cur.lastrowid)
            return cur.lastrowid

        result = self.writer.write(op, "a new box", record=record)
        return handle if result is None else result

    def update_box(self, box_id: int, *, category=None, x: float | None = None, y: float | None = None,
                   w: float | None = None, h: float | None = None, state: str | None = None,
                   locked: bool | None = None, deleted: bool | None = None, refined_by: str | None = None) -> None:
        """Change a box. Moving, resizing or relabelling a model's box makes it "modified" unless
        `state` is given (undo passes the state it restores). `refined_by` names the segmentation
        model that refined the box's outline; "" clears it (undo of a refinement)."""
        if state is not None and state not in BOX_STATES:
            raise StoreError(f"box state must be one of {', '.join(BOX_STATES)}, not {state!r}")
        if w is not None or h is not None:
            _check_size(w if w is not None else 1, h if h is not None else 1)
        geometry = {"x": x, "y": y, "w": w, "h": h}
        now = time.time()

        def op(conn: sqlite3.Connection) -> None:
            bid = self._rid(box_id)
            row = conn.execute("SELECT source, state, category_id, x, y, w, h FROM boxes WHERE id = ?",
                               (bid,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no box with id {box_id}")
            cid = None if category is None else _category_in(conn, category)
            sets, values = [], []
            changed = cid is not None and cid != row[2]
            for i, (col, val) in enumerate(geometry.items()):
                if val is not None:
                    sets.append(f"{col} = ?")
                    values.append(float(val))
                    changed |= float(val) != row[3 + i]
            if cid is not None:
                sets.append("category_id = ?")
                values.append(cid)
            new_state = state
            if new_state is None and changed and row[0] == "model" and row[1] in ("unreviewed", "accepted"):
                new_state = "modified"
            for col, val in (("state", new_state), ("locked", locked), ("deleted", deleted)):
                if val is not None:
                    sets.append(f"{col} = ?")
                    values.append(int(val) if isinstance(val, bool) else val)
            if refined_by is not None:
                sets.append("refined_by = ?")
                values.append(refined_by or None)
            if sets:
                conn.execute(f"UPDATE boxes SET {', '.join(sets)}, modified = ? WHERE id = ?",
                             (*values, now, bid))

        fields = {k: v for k, v in (("category", category), ("x", x), ("y", y), ("w", w), ("h", h),
                                    ("state", state), ("locked", locked), ("deleted", deleted),
                                    ("refined_by", refined_by)) if v is not None}
        self.writer.write(op, f"box {box_id}", record={"edit": "update_box", "box": int(box_id), "fields": fields})

    def delete_box(self, box_id: int) -> None:
        """Delete a box. The row is kept with a flag, so a deleted prediction still counts as a
        correction and undo can bring the box back (`restore_box`)."""
        self.update_box(box_id, deleted=True)

    def restore_box(self, box_id: int) -> None:
        self.update_box(box_id, deleted=False)

    def accept_predictions(self, image_id: int, box_ids: Iterable[int] | None = None) -> list[int]:
        """Mark the image's unreviewed predictions (or those of `box_ids`) accepted; returns them."""
        ids = [b.id for b in self.boxes(image_id) if b.is_prediction]
        if box_ids is not None:
            wanted = {self._rid(i) for i in box_ids}
            ids = [i for i in ids if i in wanted]
        now = time.time()
        self.writer.write(lambda conn: conn.executemany(
            "UPDATE boxes SET state = 'accepted', modified = ? WHERE id = ?", [(now, i) for i in ids]),
            "accepted predictions", record={"edit": "accept", "ids": ids})
        return ids

    def replace_predictions(self, image_id: int, model_name: str, predictions, run_id: int | None = None) -> list[int]:
        """Put a model's new predictions on an image, in ONE transaction, replacing only that
        model's earlier predictions nobody reviewed. A person's boxes, accepted or modified
        predictions and deleted ones (corrections) stay. `predictions` holds
        (category_name, x, y, w, h, score); `run_id` names the run that made them (runs.py).
        Returns the new box ids."""
        rows = [(str(c), float(x), float(y), float(w), float(h), float(s)) for c, x, y, w, h, s in predictions]
        now = time.time()

        def op(conn: sqlite3.Connection) -> list[int]:
            conn.execute("DELETE FROM boxes WHERE image_id = ? AND source = 'model' AND model = ? "
                         "AND state = 'unreviewed' AND deleted = 0", (image_id, model_name))
            cats: dict[str, int] = {}
            ids = []
            for name, x, y, w, h, s in rows:
                if name not in cats:
                    cats[name] = _category_in(conn, name)
                cid = cats[name]
                cur = conn.execute(_INSERT, (None, image_id, cid, x, y, w, h, "model", model_name, s,
                                             "unreviewed", 0, cid, x, y, w, h, now, now))
                ids.append(cur.lastrowid)
            if run_id is not None and ids:
                conn.execute(f"UPDATE boxes SET run_id = ? WHERE id IN ({','.join('?' * len(ids))})",
                             (run_id, *ids))
            return ids

        return self.writer.write(op, f"predictions of {model_name}", queue=False)

    def bulk_add_boxes(self, rows, source: str = "person", state: str = "drawn") -> int:
        """Add many boxes in one transaction: (image_id, category_id, x, y, w, h) each."""
        now = time.time()
        data = [(i, c, x, y, w, h) for i, c, x, y, w, h in rows]
        sql = ("INSERT INTO boxes(image_id, category_id, x, y, w, h, source, state, created, modified) "
               f"VALUES (?,?,?,?,?,?,'{source}','{state}',{now!r},{now!r})")
        if source not in ("person", "model") or state not in BOX_STATES:
            raise StoreError(f"bad source/state {source!r}/{state!r}")
        self.writer.write(lambda conn: conn.executemany(sql, data), f"{len(data)} box(es)", queue=False)
        return len(data)

    # -- ids -----------------------------------------------------------------------------------
    def _new_handle(self) -> int:
        """A provisional id for a box whose write may wait: negative, so it is never a real id
        (of this window or another); `_rid` turns it into the real one once the write landed."""
        with self._handles_lock:
            self._last_handle -= 1
            return self._last_handle

    def _landed(self, staged) -> None:
        for handle, real in staged:
            self.id_remap[handle] = real

    def _rid(self, box_id: int) -> int:
        """The real id of a box: itself, or the id a provisional handle got when its write landed."""
        return self.id_remap.get(box_id, box_id) if box_id < 0 else box_id


def _category_in(conn: sqlite3.Connection, category) -> int:
    """A category id inside the running transaction, creating a named category when new."""
    if isinstance(category, int):
        return category
    name = str(category).strip()
    if not name:
        raise StoreError("a category needs a name")
    found = conn.execute("SELECT id FROM categories WHERE name = ?", (name,)).fetchone()
    return found[0] if found else _insert_category(conn, name, None)


def _check_size(w: float, h: float) -> None:
    if not (w > 0 and h > 0):
        raise StoreError(f"a box needs a positive width and height, not {w} x {h}")
