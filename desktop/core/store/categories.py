"""Categories (the label set): name, colour, key 1-9 and order; add, rename, merge, delete."""

from __future__ import annotations

import sqlite3

from desktop.core.store.errors import StoreError
from desktop.core.store.records import PALETTE, Category

# What delete_category does with the category's boxes; there is no silent default.
DELETE_POLICIES = ("refuse", "delete_boxes", "reassign")


class CategoriesMixin:
    conn: sqlite3.Connection

    def categories(self) -> list[Category]:
        return [Category(*r) for r in self.conn.execute(
            "SELECT id, name, color, key, ord FROM categories ORDER BY ord, id")]

    def category_id(self, name: str) -> int | None:
        row = self.conn.execute("SELECT id FROM categories WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def category_name(self, category_id: int) -> str:
        row = self.conn.execute("SELECT name FROM categories WHERE id = ?", (category_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no category with id {category_id}")
        return row[0]

    def ensure_category(self, name: str, color: str | None = None) -> int:
        name = _clean(name)
        found = self.category_id(name)
        if found is not None:
            return found
        return self.writer.write(lambda conn: _insert_category(conn, name, color), f"category {name!r}",
                                 queue=False)

    def add_category(self, name: str, color: str | None = None, key: int | None = None) -> int:
        name = _clean(name)
        if self.category_id(name) is not None:
            raise StoreError(f"a category named {name!r} exists already")

        def op(conn):
            cid = _insert_category(conn, name, color)
            if key is not None:
                _set_key(conn, cid, key)
            return cid

        return self.writer.write(op, f"category {name!r}", queue=False)

    def set_category(self, name_or_id, *, color: str | None = None, key: int | None = None,
                     order: int | None = None) -> None:
        cid = self._cid(name_or_id)

        def op(conn):
            if color is not None:
                conn.execute("UPDATE categories SET color = ? WHERE id = ?", (color, cid))
            if key is not None:
                _set_key(conn, cid, key)
            if order is not None:
                conn.execute("UPDATE categories SET ord = ? WHERE id = ?", (order, cid))

        self.writer.write(op, "category", queue=False)

    def rename_category(self, name_or_id, new_name: str) -> None:
        cid, new_name = self._cid(name_or_id), _clean(new_name)
        other = self.category_id(new_name)
        if other is not None and other != cid:
            raise StoreError(f"a category named {new_name!r} exists already; merge the two instead")
        self.writer.write(lambda conn: conn.execute("UPDATE categories SET name = ? WHERE id = ?",
                                                    (new_name, cid)), "category name", queue=False)

    def merge_categories(self, source, target) -> int:
        """Move every box of `source` to `target` and remove `source`; returns the boxes moved."""
        sid, tid = self._cid(source), self._cid(target)
        if sid == tid:
            return 0

        def op(conn):
            n = conn.execute("UPDATE boxes SET category_id = ? WHERE category_id = ?", (tid, sid)).rowcount
            conn.execute("UPDATE boxes SET orig_category_id = ? WHERE orig_category_id = ?", (tid, sid))
            conn.execute("DELETE FROM categories WHERE id = ?", (sid,))
            return n

        return self.writer.write(op, "category merge", queue=False)

    def delete_category(self, name_or_id, boxes: str = "refuse", reassign_to=None) -> int:
        """Remove a category. `boxes` says what happens to its boxes: "refuse" (fail when it has
        any), "delete_boxes" (remove them for good) or "reassign" (move them to `reassign_to`).
        Returns how many boxes were removed or moved."""
        if boxes not in DELETE_POLICIES:
            raise StoreError(f"box policy must be one of {', '.join(DELETE_POLICIES)}, not {boxes!r}")
        cid = self._cid(name_or_id)
        count = self.conn.execute("SELECT COUNT(*) FROM boxes WHERE category_id = ?", (cid,)).fetchone()[0]
        if boxes == "refuse" and count:
            raise StoreError(f"category {self.category_name(cid)!r} still has {count} box(es); "
                             "choose to delete them or to reassign them to another category")
        if boxes == "reassign":
            if reassign_to is None:
                raise StoreError("reassign needs the category that receives the boxes")
            return self.merge_categories(cid, reassign_to)

        def op(conn):
            conn.execute("DELETE FROM boxes WHERE category_id = ?", (cid,))
            conn.execute("UPDATE boxes SET orig_category_id = category_id WHERE orig_category_id = ?", (cid,))
            conn.execute("DELETE FROM categories WHERE id = ?", (cid,))
            return count

        return self.writer.write(op, "category deletion", queue=False)

    def set_label_set(self, names) -> list[int]:
        """Make `names` (e.g. a model card's class names) the first categories, in that order,
        with keys 1-9 for the first nine. Other categories stay, after them."""
        names = [_clean(n) for n in names]

        def op(conn):
            ids = []
            for i, name in enumerate(names):
                row = conn.execute("SELECT id FROM categories WHERE name = ?", (name,)).fetchone()
                cid = row[0] if row else _insert_category(conn, name, None)
                conn.execute("UPDATE categories SET ord = ?, key = NULL WHERE id = ?", (i, cid))
                ids.append(cid)
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE categories SET ord = ord + ? WHERE id NOT IN ({marks})", (len(ids), *ids))
            conn.execute("UPDATE categories SET key = NULL")
            for i, cid in enumerate(ids[:9]):
                conn.execute("UPDATE categories SET key = ? WHERE id = ?", (i + 1, cid))
            return ids

        return self.writer.write(op, "label set", queue=False)

    def _cid(self, name_or_id) -> int:
        if isinstance(name_or_id, int):
            self.category_name(name_or_id)
            return name_or_id
        cid = self.category_id(str(name_or_id))
        if cid is None:
            raise StoreError(f"{self.path}: no category named {name_or_id!r}")
        return cid


def _clean(name) -> str:
    name = str(name).strip()
    if not name:
        raise StoreError("a category needs a name")
    return name


def _insert_category(conn: sqlite3.Connection, name: str, color: str | None) -> int:
    n, max_ord = conn.execute("SELECT COUNT(*), COALESCE(MAX(ord), -1) FROM categories").fetchone()
    used = {r[0] for r in conn.execute("SELECT key FROM categories WHERE key IS NOT NULL")}
    key = next((k for k in range(1, 10) if k not in used), None)
    cur = conn.execute("INSERT INTO categories(name, color, key, ord) VALUES (?,?,?,?)",
                       (name, color or PALETTE[n % len(PALETTE)], key, max_ord + 1))
    return cur.lastrowid


def _set_key(conn: sqlite3.Connection, cid: int, key: int) -> None:
    if not 1 <= int(key) <= 9:
        raise StoreError(f"a category key must be 1-9, not {key}")
    conn.execute("UPDATE categories SET key = NULL WHERE key = ?", (int(key),))
    conn.execute("UPDATE categories SET key = ? WHERE id = ?", (int(key), cid))
