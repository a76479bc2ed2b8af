"""The list of cases as a model over light rows (desktop.core.teaching.cases.CaseRow), so a folder
of thousands of cases lists and filters in milliseconds: a reset, not thousands of items."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from desktop.core.teaching.cases import DIFFICULTY


def row_text(row) -> str:
    extra = [f"{row.images} images"] if row.images > 1 else []
    if row.difficulty:
        extra.append(DIFFICULTY.get(row.difficulty, str(row.difficulty)))
    return row.name() + (f"  ·  {', '.join(extra)}" if extra else "")


class CaseListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []
        self._row_of: dict[int, int] = {}

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._row_of = {r.id: n for n, r in enumerate(self._rows)}
        self.endResetModel()

    def replace_row(self, row) -> None:
        """One case changed (its title, diagnosis or difficulty)."""
        n = self._row_of.get(row.id)
        if n is not None:
            self._rows[n] = row
            index = self.index(n)
            self.dataChanged.emit(index, index)

    def ids(self) -> list[int]:
        return [r.id for r in self._rows]

    def row_of(self, case_id: int) -> int | None:
        return self._row_of.get(case_id)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.DisplayRole:
            return row_text(row)
        if role == Qt.UserRole:
            return row.id
        if role == Qt.ToolTipRole:
            keywords = row.keywords()
            return "Keywords: " + ", ".join(keywords) if keywords else None
        return None
