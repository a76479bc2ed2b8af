"""Measurements: rulers, angles and regions of interest, kept apart from boxes (decision 0135).

Like boxes: one transaction per edit, ids from SQLite (AUTOINCREMENT, never reused), a provisional
negative handle while a write waits, deletion as a flag (undo brings the same row back), and a
plain record of each edit for the recovery file.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from desktop.core.store.errors import StoreError

MEASUREMENT_KINDS = ("line", "angle", "ellipse", "box")
_POINTS = {"line": 2, "angle": 3, "ellipse": 2, "box": 2}
_COLUMNS = "id, image_id, frame, kind, points, result, label, deleted, created, modified"


@dataclass(frozen=True)
class Measurement:
    id: int
    image_id: int
    frame: int
    kind: str  # "line" (ruler), "angle", "ellipse", "box" (regions of interest)
    points: tuple[tuple[float, float], ...]
    result: dict = field(hash=False, compare=False)
    label: str = ""
    deleted: bool = False
    created: float = 0.0
    modified: float = 0.0

    @property
    def text(self) -> str:
        return str(self.result.get("text", ""))


def _from_row(row) -> Measurement:
    try:
        result = json.loads(row[5] or "{}")
    except ValueError:
        result = {}
    points = tuple((float(x), float(y)) for x, y in json.loads(row[4]))
    return Measurement(row[0], row[1], row[2], row[3], points, result, row[6], bool(row[7]), row[8], row[9])


def check_points(kind: str, points) -> list[list[float]]:
    if kind not in MEASUREMENT_KINDS:
        raise StoreError(f"a measurement is one of {', '.join(MEASUREMENT_KINDS)}, not {kind!r}")
    try:
        pts = [[float(x), float(y)] for x, y in points]
    except (TypeError, ValueError):
        raise StoreError(f"a {kind} measurement needs (x, y) points, not {points!r}") from None
    if len(pts) != _POINTS[kind] or not all(math.isfinite(v) for p in pts for v in p):
        raise StoreError(f"a {kind} measurement needs {_POINTS[kind]} finite (x, y) points, not {points!r}")
    return pts


def _json(result) -> str:
    return json.dumps(_no_nan(result or {}), allow_nan=False, default=str)


def _no_nan(value):
    """JSON has no NaN: an empty region's statistics are written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


class MeasurementsMixin:
    conn: sqlite3.Connection

    # -- reading -----------------------------------------------------------------------------
    def measurements(self, image_id: int, include_deleted: bool = False) -> list[Measurement]:
        where = "" if include_deleted else " AND deleted = 0"
        return [_from_row(r) for r in self.conn.execute(
            f"SELECT {_COLUMNS} FROM measurements WHERE image_id = ?{where} ORDER BY id", (image_id,))]

    def all_measurements(self, include_deleted: bool = False) -> Iterator[Measurement]:
        where = "" if include_deleted else " WHERE deleted = 0"
        for r in self.conn.execute(f"SELECT {_COLUMNS} FROM measurements{where} ORDER BY image_id, id"):
            yield _from_row(r)

    def measurement(self, measurement_id: int) -> Measurement:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM measurements WHERE id = ?",
                                (self._rid(measurement_id),)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no measurement with id {measurement_id}")
        return _from_row(row)

    def measurement_count(self, include_deleted: bool = False) -> int:
        where = "" if include_deleted else " WHERE deleted = 0"
        return self.conn.execute(f"SELECT COUNT(*) FROM measurements{where}").fetchone()[0]

    # -- writing -----------------------------------------------------------------------------
    def add_measurement(self, image_id: int, kind: str, points, *, frame: int = 0, result: dict | None = None,
                        label: str = "") -> int:
        """Add a measurement; returns its id (a provisional handle while the write waits)."""
        pts = check_points(kind, points)
        frame = int(frame)
        if frame < 0:
            raise StoreError(f"frame must be 0 or more, not {frame}")
        handle = self._new_handle()
        now = time.time()
        text = _json(result)
        record = {"edit": "add_measurement", "image_id": int(image_id), "kind": kind, "points": pts,
                  "frame": frame, "result": json.loads(text), "label": str(label), "handle": handle}

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO measurements(image_id, frame, kind, points, result, label, created, modified) "
                "VALUES (?,?,?,?,?,?,?,?)", (int(image_id), frame, kind, json.dumps(pts), text, str(label), now, now))
            self.writer.stage(handle, cur.lastrowid)
            return cur.lastrowid

        result_id = self.writer.write(op, f"a new {kind} measurement", record=record)
        return handle if result_id is None else result_id

    def update_measurement(self, measurement_id: int, *, points=None, result: dict | None = None,
                           label: str | None = None, deleted: bool | None = None) -> None:
        now = time.time()
        fields: dict = {}
        if label is not None:
            fields["label"] = str(label)
        if deleted is not None:
            fields["deleted"] = bool(deleted)
        if result is not None:
            fields["result"] = json.loads(_json(result))

        def op(conn: sqlite3.Connection) -> None:
            mid = self._rid(measurement_id)
            row = conn.execute("SELECT kind FROM measurements WHERE id = ?", (mid,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no measurement with id {measurement_id}")
            sets, values = [], []
            if points is not None:
                sets.append("points = ?")
                values.append(json.dumps(check_points(row[0], points)))
            for col, val in fields.items():
                sets.append(f"{col} = ?")
                values.append(json.dumps(val) if col == "result" else (int(val) if col == "deleted" else val))
            if sets:
                conn.execute(f"UPDATE measurements SET {', '.join(sets)}, modified = ? WHERE id = ?",
                             (*values, now, mid))

        record = dict(fields)
        if points is not None:
            record["points"] = [[float(x), float(y)] for x, y in points]
        self.writer.write(op, f"measurement {measurement_id}",
                          record={"edit": "update_measurement", "measurement": int(measurement_id), "fields": record})

    def delete_measurement(self, measurement_id: int) -> None:
        """Flag it deleted (kept, so undo brings the same row back)."""
        self.update_measurement(measurement_id, deleted=True)

    def restore_measurement(self, measurement_id: int) -> None:
        self.update_measurement(measurement_id, deleted=False)
