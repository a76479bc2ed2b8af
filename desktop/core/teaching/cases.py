"""Teaching cases of a folder (no Qt): one image, or a patient's group of images, with the text an
educator writes about it. They live in the folder's store (tables `cases` and `case_images`,
schema version 5; decision 0140).

    book = CaseBook(store)
    case_id = book.create([image_id], diagnosis="Pneumothorax", keywords=["chest", "trauma"])
    book.update(case_id, "findings", "Right apical pleural line.")
    book.case(case_id).findings, book.cases(), book.search("pneumo")
    book.expert_marks(case_id)     # the folder's boxes on its images, as scoring.Mark
    book.image_paths(case_id)      # absolute paths, in the case's order

Fields: `title`, `history`, `findings`, `diagnosis`, `discussion` (text), `differential`,
`keywords` (lists of text), `difficulty` (1 very easy .. 5 very hard, or None). Every edit is one
transaction through the store's writer (kept in memory and retried when the disk refuses, written
to a recovery file on close, like box edits). A deleted case is flagged, so undo gives it back
with its id and quiz results keep naming it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.store.errors import StoreError
from desktop.core.teaching.scoring import Mark

TEXT_FIELDS = ("title", "history", "findings", "diagnosis", "discussion")
LIST_FIELDS = ("differential", "keywords")
FIELDS = TEXT_FIELDS + LIST_FIELDS + ("difficulty",)
DIFFICULTY = {1: "very easy", 2: "easy", 3: "medium", 4: "hard", 5: "very hard"}
FIELD_NAMES = {"title": "title", "history": "history", "findings": "findings", "diagnosis": "diagnosis",
               "discussion": "discussion", "differential": "differential diagnosis",
               "keywords": "keywords", "difficulty": "difficulty"}
_COLUMNS = "id, title, history, findings, diagnosis, discussion, differential, keywords, difficulty, " \
           "deleted, created, modified"


@dataclass(frozen=True)
class Case:
    id: int
    title: str
    history: str
    findings: str
    diagnosis: str
    discussion: str
    differential: tuple[str, ...]
    keywords: tuple[str, ...]
    difficulty: int | None
    image_ids: tuple[int, ...]
    deleted: bool
    created: float
    modified: float

    def name(self) -> str:
        """What lists show: the title, else the diagnosis, else "Case N"."""
        return self.title.strip() or self.diagnosis.strip() or f"Case {self.id}"

    def value(self, field: str):
        return getattr(self, field)


@dataclass(frozen=True)
class CaseRow:
    """What a list of cases shows, read without decoding every field (thousands at once)."""
    id: int
    title: str
    diagnosis: str
    difficulty: int | None
    images: int
    keywords_json: str

    def name(self) -> str:
        return self.title.strip() or self.diagnosis.strip() or f"Case {self.id}"

    def keywords(self) -> list[str]:
        return _load_list(self.keywords_json)


def clean_value(field: str, value):
    """The value as stored for `field`; raises StoreError for a field or value that cannot be."""
    if field in TEXT_FIELDS:
        return str(value or "")
    if field in LIST_FIELDS:
        if isinstance(value, str):
            value = split_list(value)
        return tuple(s for s in (str(v).strip() for v in (value or ())) if s)
    if field == "difficulty":
        if value in (None, "", 0):
            return None
        try:
            level = int(value)
        except (TypeError, ValueError):
            raise StoreError(f"difficulty must be 1 to 5 ({_levels()}), not {value!r}") from None
        if level not in DIFFICULTY:
            raise StoreError(f"difficulty must be 1 to 5 ({_levels()}), not {value!r}")
        return level
    raise StoreError(f"a teaching case has no field {field!r}; its fields are {', '.join(FIELDS)}")


def split_list(text: str) -> tuple[str, ...]:
    """"a, b; c" or one per line -> ("a", "b", "c")."""
    return tuple(s.strip() for s in re.split(r"[,;\n]", text or "") if s.strip())


def _levels() -> str:
    return ", ".join(f"{k} {v}" for k, v in DIFFICULTY.items())


def _db_value(field: str, value):
    return json.dumps(list(value), ensure_ascii=False) if field in LIST_FIELDS else value


class CaseBook:
    """The teaching cases of one store. Cheap to make; holds no state but the store."""

    def __init__(self, store):
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    # -- reading -----------------------------------------------------------------------------
    def case(self, case_id: int) -> Case:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (int(case_id),)).fetchone()
        if row is None:
            raise StoreError(f"{self.store.path}: no teaching case with id {case_id}")
        return self._from_row(row, self._images_of([row[0]]).get(row[0], ()))

    def cases(self, ids: Iterable[int] | None = None, include_deleted: bool = False) -> list[Case]:
        """Every case (by id), or those of `ids` in that order."""
        deleted = "" if include_deleted else " AND deleted = 0"
        if ids is None:
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM cases WHERE 1{deleted} ORDER BY id").fetchall()
            images = self._images_of(None)
            return [self._from_row(r, images.get(r[0], ())) for r in rows]
        ids = [int(i) for i in ids]
        rows = {r[0]: r for r in _chunked(self.conn, f"SELECT {_COLUMNS} FROM cases WHERE id IN ({{}}){deleted}", ids)}
        images = self._images_of([i for i in ids if i in rows])
        return [self._from_row(rows[i], images.get(i, ())) for i in ids if i in rows]

    def rows(self, ids: Iterable[int] | None = None) -> list[CaseRow]:
        """Light rows for a list (name, difficulty, number of images, keywords): every case by
        id, or those of `ids` in that order."""
        sql = ("SELECT c.id, c.title, c.diagnosis, c.difficulty, "
               "(SELECT COUNT(*) FROM case_images ci WHERE ci.case_id = c.id), c.keywords FROM cases c "
               "WHERE c.deleted = 0")
        if ids is None:
            return [CaseRow(*r) for r in self.conn.execute(sql + " ORDER BY c.id")]
        ids = [int(i) for i in ids]
        found = {r[0]: CaseRow(*r) for r in _chunked(self.conn, sql + " AND c.id IN ({})", ids)}
        return [found[i] for i in ids if i in found]

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM cases WHERE deleted = 0").fetchone()[0]

    def cases_of_image(self, image_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT ci.case_id FROM case_images ci JOIN cases c ON c.id = ci.case_id "
            "WHERE ci.image_id = ? AND c.deleted = 0 ORDER BY ci.case_id", (int(image_id),))]

    def image_paths(self, case_id: int) -> list[Path]:
        """The case's images as absolute paths, in the case's order."""
        return [self.store.folder / rel for (rel,) in self.conn.execute(
            "SELECT i.rel_path FROM case_images ci JOIN images i ON i.id = ci.image_id "
            "WHERE ci.case_id = ? ORDER BY ci.ord", (int(case_id),))]

    def expert_marks(self, case_id: int) -> list[Mark]:
        """The folder's boxes on the case's images (deleted boxes and predictions nobody reviewed
        left out), as scoring.Mark with `image` = the image id."""
        return [Mark(label, x, y, w, h, image_id) for image_id, label, x, y, w, h in self.conn.execute(
            "SELECT b.image_id, c.name, b.x, b.y, b.w, b.h FROM boxes b "
            "JOIN categories c ON c.id = b.category_id JOIN case_images ci ON ci.image_id = b.image_id "
            "WHERE ci.case_id = ? AND b.deleted = 0 AND NOT (b.source = 'model' AND b.state = 'unreviewed') "
            "ORDER BY ci.ord, b.id", (int(case_id),))]

    def diagnoses(self) -> list[str]:
        """The distinct diagnoses of the folder's cases (case-insensitive), first spelling kept."""
        seen: dict[str, str] = {}
        for (text,) in self.conn.execute("SELECT diagnosis FROM cases WHERE deleted = 0 ORDER BY id"):
            key = " ".join(text.split()).lower()
            if key and key not in seen:
                seen[key] = text.strip()
        return list(seen.values())

    def search(self, query: str, fields: Sequence[str] | None = None, limit: int | None = None) -> list[int]:
        """Ids of the cases matching every word of `query` (word prefixes), best first; `fields`
        limits where to look (e.g. ("keywords", "diagnosis")). See teaching.search."""
        from desktop.core.teaching.search import search

        return search(self.store, query, fields, limit)

    # -- writing -----------------------------------------------------------------------------
    def create(self, image_ids: Sequence[int], **fields) -> int:
        """A new case on these images (in this order); returns its id. Raises StoreWriteError
        when the database cannot be written now (nothing is half-made)."""
        image_ids = [int(i) for i in dict.fromkeys(image_ids)]
        if not image_ids:
            raise StoreError("a teaching case needs at least one image")
        values = {f: clean_value(f, v) for f, v in fields.items()}
        known = {r[0] for r in self.conn.execute(
            f"SELECT id FROM images WHERE id IN ({','.join('?' * len(image_ids))})", image_ids)}
        missing = [i for i in image_ids if i not in known]
        if missing:
            raise StoreError(f"{self.store.path}: no image with id {missing[0]} for the new case")
        now = time.time()
        columns = list(values)

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                f"INSERT INTO cases({''.join(c + ', ' for c in columns)}created, modified) "
                f"VALUES ({'?, ' * len(columns)}?, ?)",
                [_db_value(c, values[c]) for c in columns] + [now, now])
            case_id = cur.lastrowid
            conn.executemany("INSERT INTO case_images(case_id, image_id, ord) VALUES (?,?,?)",
                             [(case_id, i, n) for n, i in enumerate(image_ids)])
            _reindex(conn, case_id)
            return case_id

        return self.store.writer.write(op, "a new teaching case", queue=False)

    def update(self, case_id: int, field: str, value) -> None:
        """Set one field (one transaction; waits in memory when the disk refuses, like box edits)."""
        value = clean_value(field, value)
        self._write(case_id, {field: value}, f"the {FIELD_NAMES[field]} of a teaching case",
                    {"edit": "teaching.case", "case_id": int(case_id), "field": field,
                     "value": list(value) if isinstance(value, tuple) else value})

    def set_images(self, case_id: int, image_ids: Sequence[int]) -> None:
        """The case's films, in this order (at least one)."""
        image_ids = [int(i) for i in dict.fromkeys(image_ids)]
        if not image_ids:
            raise StoreError("a teaching case needs at least one image")
        now = time.time()

        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("UPDATE cases SET modified = ? WHERE id = ?", (now, int(case_id))).rowcount == 0:
                raise StoreError(f"teaching case {case_id} no longer exists")
            conn.execute("DELETE FROM case_images WHERE case_id = ?", (int(case_id),))
            conn.executemany("INSERT INTO case_images(case_id, image_id, ord) VALUES (?,?,?)",
                             [(int(case_id), i, n) for n, i in enumerate(image_ids)])
            _reindex(conn, int(case_id))

        self.store.writer.write(op, "the images of a teaching case",
                                record={"edit": "teaching.case", "case_id": int(case_id), "field": "images",
                                        "value": image_ids})

    def set_deleted(self, case_id: int, deleted: bool = True) -> None:
        self._write(case_id, {"deleted": int(bool(deleted))},
                    "deleting a teaching case" if deleted else "restoring a teaching case",
                    {"edit": "teaching.case", "case_id": int(case_id), "field": "deleted",
                     "value": bool(deleted)})

    def _write(self, case_id: int, values: dict, what: str, record: dict) -> None:
        now = time.time()
        column, value = next(iter(values.items()))

        def op(conn: sqlite3.Connection) -> None:
            cur = conn.execute(f"UPDATE cases SET {column} = ?, modified = ? WHERE id = ?",
                               (_db_value(column, value), now, int(case_id)))
            if cur.rowcount == 0:
                raise StoreError(f"teaching case {case_id} no longer exists")
            _reindex(conn, int(case_id))

        self.store.writer.write(op, what, record=record)

    # -- internals ---------------------------------------------------------------------------
    def _images_of(self, ids) -> dict[int, tuple[int, ...]]:
        if ids is None:
            rows = self.conn.execute("SELECT case_id, image_id FROM case_images ORDER BY case_id, ord")
        else:
            rows = sorted(_chunked(self.conn, "SELECT case_id, image_id, ord FROM case_images WHERE case_id IN ({})",
                                   list(ids)), key=lambda r: (r[0], r[2]))
        out: dict[int, list[int]] = {}
        for case_id, image_id, *_ord in rows:
            out.setdefault(case_id, []).append(image_id)
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    def _from_row(row, image_ids) -> Case:
        return Case(row[0], row[1], row[2], row[3], row[4], row[5], tuple(_load_list(row[6])),
                    tuple(_load_list(row[7])), row[8], tuple(image_ids), bool(row[9]), row[10], row[11])


def _chunked(conn: sqlite3.Connection, sql: str, ids: list[int], size: int = 500) -> list[tuple]:
    """`sql` with "{}" for the placeholders, run over `ids` in chunks (SQLite's variable limit)."""
    out: list[tuple] = []
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        out += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return out


def _load_list(text: str) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return [text] if text else []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _reindex(conn: sqlite3.Connection, case_id: int) -> None:
    from desktop.core.teaching.search import reindex_case

    reindex_case(conn, case_id)


def replay(store, record: dict, skipped: list[str]) -> None:
    """Put back one teaching edit from a recovery file (store.recovery calls this)."""
    case_id = int(record["case_id"])
    if store.conn.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is None:
        skipped.append(f"teaching case {case_id} no longer exists")
        return
    book = CaseBook(store)
    if record["field"] == "deleted":
        book.set_deleted(case_id, bool(record["value"]))
    elif record["field"] == "images":
        known = {r[0] for r in store.conn.execute("SELECT id FROM images")}
        images = [i for i in record["value"] if i in known]
        if images:
            book.set_images(case_id, images)
        else:
            skipped.append(f"the images of teaching case {case_id} no longer exist")
    else:
        book.update(case_id, record["field"], record["value"])
