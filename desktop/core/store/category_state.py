"""Snapshots of the label set, so that any category edit can be undone in one transaction.

A `CategoryState` holds every category row and the full rows of the boxes that point at the
categories an edit touches (as their category or as a prediction's original one, deleted boxes
included). `restore_category_state(state, affected)` brings the database back to it: categories
upserted by id, those boxes rewritten as they were, and an affected category absent from the
state removed with its boxes. Undoing an add, rename, colour, key, order, merge, delete (any box
policy) or a whole label set is then the same one call (decision 0026).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.core.store.errors import StoreError


@dataclass(frozen=True)
class CategoryState:
    categories: tuple[tuple, ...]  # (id, name, color, key, ord)
    box_columns: tuple[str, ...]
    boxes: tuple[tuple, ...]

    @property
    def ids(self) -> set[int]:
        return {row[0] for row in self.categories}


class CategoryStateMixin:
    conn: sqlite3.Connection

    def category_state(self, affected: Iterable[int] = ()) -> CategoryState:
        """Every category, and the boxes of the `affected` categories (all of their rows)."""
        cats = tuple(self.conn.execute("SELECT id, name, color, key, ord FROM categories ORDER BY id"))
        ids = sorted({int(i) for i in affected})
        cur = self.conn.execute("SELECT * FROM boxes WHERE 0")
        columns = tuple(d[0] for d in cur.description)
        rows: tuple = ()
        if ids:
            marks = ",".join("?" * len(ids))
            rows = tuple(self.conn.execute(
                f"SELECT * FROM boxes WHERE category_id IN ({marks}) OR orig_category_id IN ({marks})",
                (*ids, *ids)))
        return CategoryState(cats, columns, rows)

    def restore_category_state(self, state: CategoryState, affected: Iterable[int] = ()) -> None:
        """Make the label set what `state` holds, in ONE transaction (undo/redo of a category edit)."""
        drop = sorted({int(i) for i in affected} - state.ids)
        columns = ", ".join(state.box_columns)
        insert_box = (f"INSERT OR REPLACE INTO boxes({columns}) "
                      f"VALUES ({','.join('?' * len(state.box_columns))})")

        def op(conn: sqlite3.Connection) -> None:
            # names are unique: move the rows being renamed out of the way first
            wanted = {row[0]: row for row in state.categories}
            present = {r[0] for r in conn.execute("SELECT id FROM categories")}
            for cid in wanted.keys() & present:
                conn.execute("UPDATE categories SET name = ? WHERE id = ?", (f"\x00restoring {cid}", cid))
            for cid, name, color, key, order in state.categories:
                clash = conn.execute("SELECT id FROM categories WHERE name = ? AND id != ?", (name, cid)).fetchone()
                if clash is not None:
                    raise StoreError(f"cannot restore category {name!r}: another category has that name now")
                if cid in present:
                    conn.execute("UPDATE categories SET name=?, color=?, key=?, ord=? WHERE id=?",
                                 (name, color, key, order, cid))
                else:
                    conn.execute("INSERT INTO categories(id, name, color, key, ord) VALUES (?,?,?,?,?)",
                                 (cid, name, color, key, order))
            if state.boxes:
                conn.executemany(insert_box, state.boxes)
            if drop:
                marks = ",".join("?" * len(drop))
                conn.execute(f"DELETE FROM boxes WHERE category_id IN ({marks})", drop)
                conn.execute(f"UPDATE boxes SET orig_category_id = category_id WHERE orig_category_id IN ({marks})",
                             drop)
                conn.execute(f"DELETE FROM categories WHERE id IN ({marks})", drop)

        self.writer.write(op, "label set", queue=False)

    def reorder_categories(self, ids: Iterable[int]) -> None:
        """Put the categories `ids` first, in that order (one transaction); the others follow."""
        ids = [int(i) for i in ids]
        rest = [r[0] for r in self.conn.execute("SELECT id FROM categories ORDER BY ord, id") if r[0] not in ids]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE categories SET ord = ? WHERE id = ?",
                             [(k, cid) for k, cid in enumerate(ids + rest)])

        self.writer.write(op, "category order", queue=False)

    def category_box_count(self, category_id: int) -> tuple[int, int]:
        """(boxes shown, deleted boxes kept as corrections) of a category."""
        row = self.conn.execute("SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) "
                                "FROM boxes WHERE category_id = ?", (int(category_id),)).fetchone()
        return int(row[0]), int(row[1])
