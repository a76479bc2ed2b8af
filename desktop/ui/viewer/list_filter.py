"""The image list as filtered: the name filter AND, when set, one review status, computed in one
pass over precomputed lower-case names (docs/decisions/0105-image-list-filter-in-one-pass.md).

A QSortFilterProxyModel asks Python's `filterAcceptsRow` (and through it `data()`) once per row:
at 100,000 images one keystroke cost seconds. This proxy keeps the accepted source rows as an
ascending list (a `range` while nothing is filtered), so mapping a row either way is O(1) or a
bisection, a step is O(log N), and a new filter is one list comprehension plus one model reset.
It is a QStringListModel with one (empty) string per shown row, not a QAbstractProxyModel: each time the view
lays the list out (every insert, reset, some scrolls) it calls `index()` and through it `rowCount()`
twice per row; a Python model answered those 200,000 calls at 100,000 rows in about a second. Here
they stay in C++; only `data()` of the rows on screen and `flags()` reach Python.

An order other than the folder's (`set_order`: a score per source row, highest first, e.g. the
review queue's uncertainty) is one sort when it is set; the rows map back through a dict then, so
a step stays O(1) (docs/decisions/0131-review-queue-order.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from PySide6.QtCore import QModelIndex, QStringListModel, Qt

_FLAGS = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren
INSERT_CHUNK = 256  # rows per insertRows (its cost grows with the square of the count)


class ListFilterProxy(QStringListModel):
    """Rows of an `ImageListModel` (desktop/ui/viewer/image_list.py) whose name contains the text
    (case-insensitive) and whose review status is `status` (None: any), in folder order or the
    order `set_order` gives. Status changes do not
    re-filter by themselves: a row marked done under "Unreviewed" stays until the filter changes,
    so next/previous keep their place (docs/decisions/0074-review-status-in-the-image-list.md)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = ""
        self.status: str | None = None
        self._rows: range | list[int] = range(0)
        self._source = None
        self.passes = 0  # filter passes over every row (tests count them)
        self.order: dict[int, float] | None = None  # source row -> score (highest first); None: folder order
        self._pos: dict[int, int] | None = None  # source row -> list row, while an order is set

    # -- source -----------------------------------------------------------------------------------
    def sourceModel(self):
        return self._source

    def setSourceModel(self, model) -> None:
        self._source = model
        model.modelReset.connect(self._source_reset)
        model.rowsInserted.connect(self._source_inserted)
        model.dataChanged.connect(self._source_changed)
        self._source_reset()

    def _filtering(self) -> bool:
        return bool(self.text) or self.status is not None

    def _ordered(self, rows):
        """`rows` (ascending) in the set order: scored rows by score, highest first (ties in folder
        order), then the unscored ones in folder order. One sort; the reverse map for proxy_row."""
        if self.order is None:
            self._pos = None
            return rows
        import numpy as np

        order = self.order
        n = self.sourceModel().rowCount()
        listed = np.fromiter(rows, dtype=np.int64, count=len(rows))
        keys = np.fromiter(order.keys(), dtype=np.int64, count=len(order))
        values = np.fromiter(order.values(), dtype=np.float64, count=len(order))
        keep = (keys >= 0) & (keys < n)
        keys, values = keys[keep], values[keep]
        shown = np.zeros(n, dtype=bool)
        shown[listed] = True
        keep = shown[keys]
        keys, values = keys[keep], values[keep]
        scored = np.zeros(n, dtype=bool)
        scored[keys] = True
        first = keys[np.lexsort((keys, -values))]  # highest score first; ties in folder order
        out = np.concatenate([first, listed[~scored[listed]]]).tolist()
        self._pos = dict(zip(out, range(len(out))))
        return out

    def set_order(self, scores: dict[int, float] | None) -> None:
        """Order the rows by `scores` (source row -> score, highest first; rows without one after
        them) or, with None, in folder order again. One sort and one reset."""
        self.order = dict(scores) if scores is not None else None
        self.set_filter(self.text, self.status)

    def _accepted(self, first: int, last: int) -> range | list[int]:
        """Source rows first..last that pass: one comprehension over the precomputed names."""
        if not self._filtering():
            return range(first, last + 1)
        model = self.sourceModel()
        names = model.folded_names
        needle = self.text.casefold()
        rows = [r for r in range(first, last + 1) if needle in names[r]] if needle else range(first, last + 1)
        if self.status is not None:
            paths, statuses, status = model.paths, model.statuses, self.status
            rows = [r for r in rows if statuses.get(paths[r], "unreviewed") == status]
        return rows

    def set_filter(self, text: str, status: str | None) -> None:
        """Filter every row again: one pass, one reset (the view keeps no stale rows)."""
        self.text, self.status = text, status
        n = self.sourceModel().rowCount()
        self._rows = self._ordered(self._accepted(0, n - 1) if n else range(0))
        self.passes += 1
        self._show_rows()

    def _show_rows(self) -> None:
        """One reset. The C++ list only gives the rows their number (and keeps `index()` and
        `rowCount()` in C++); the names come from the source through `data()`."""
        self.setStringList([""] * len(self._rows))

    def _source_reset(self) -> None:
        n = self.sourceModel().rowCount()
        self.order = None  # a new folder: its rows are other images
        self._rows = self._ordered(self._accepted(0, n - 1) if n else range(0))
        self._show_rows()

    def _source_inserted(self, parent, first: int, last: int) -> None:
        """The folder scan appends at the end: accepted new rows are appended here too."""
        if parent.isValid():
            return
        new = self._accepted(first, last)
        if not len(new):
            return
        at = len(self._rows)
        if self._pos is not None:  # ordered: new rows wait at the end until the order is set again
            self._rows = [*self._rows, *new]
            self._pos.update(zip(new, range(at, at + len(new))))
        elif isinstance(self._rows, range) and isinstance(new, range) and self._rows.stop == new.start:
            self._rows = range(self._rows.start, new.stop) if len(self._rows) else new
        else:
            self._rows = [*self._rows, *new]
        # QStringListModel inserts row by row at one position, moving the rows it just inserted
        # each time: 5,000 at once cost 25 ms, in chunks a tenth of that (decision 0123)
        for start in range(0, len(new), INSERT_CHUNK):
            self.insertRows(at + start, min(INSERT_CHUNK, len(new) - start))

    def _source_changed(self, top_left, bottom_right, roles=()) -> None:
        if self._pos is not None:
            if top_left.row() == bottom_right.row():
                row = self._pos.get(top_left.row())
                if row is not None:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, 0), roles)
            elif self._rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0), roles)
            return
        lo = bisect_left(self._rows, top_left.row())
        hi = bisect_right(self._rows, bottom_right.row()) - 1
        if lo <= hi:
            self.dataChanged.emit(self.index(lo, 0), self.index(hi, 0), roles)

    # -- mapping ----------------------------------------------------------------------------------
    def proxy_row(self, source_row: int) -> int | None:
        """The list row of a source row, None when the filter hides it. O(log N), O(1) when ordered."""
        if self._pos is not None:
            return self._pos.get(source_row)
        i = bisect_left(self._rows, source_row)
        return i if i < len(self._rows) and self._rows[i] == source_row else None

    def source_row(self, row: int) -> int:
        return self._rows[row]

    def source_rows(self) -> range | list[int]:
        return self._rows

    def mapToSource(self, proxy_index):
        if not proxy_index.isValid() or self.sourceModel() is None:
            return QModelIndex()
        return self.sourceModel().index(self._rows[proxy_index.row()], 0)

    def mapFromSource(self, source_index):
        if not source_index.isValid():
            return QModelIndex()
        row = self.proxy_row(source_index.row())
        return QModelIndex() if row is None else self.index(row, 0)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or role == Qt.EditRole:
            return None
        return self._source.data(self._source.index(self._rows[index.row()]), role)

    def flags(self, index):
        return _FLAGS if index.isValid() else Qt.NoItemFlags
