"""The image list: every image of the folder, lazily made thumbnails, a name filter, bad files
marked with their reason (icon, red text, tooltip), and each image's review status (a coloured
mark, a filter by status and a "12 of 340 done" count) once the box editor has opened the store."""

from __future__ import annotations

import os

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from .canvas import to_qimage
from .review_marks import STATUS_TEXT, ReviewFilterProxy, ReviewMarkDelegate, StatusRole
from .workers import ThumbnailJob, WorkQueue

THUMB = 64


ErrorRole = Qt.UserRole + 1
PathRole = Qt.UserRole + 2


class ImageListModel(QAbstractListModel):
    """Paths in folder order; thumbnails are requested the first time a row is painted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.root = ""
        self.paths: list[str] = []
        self.row_of: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.statuses: dict[str, str] = {}  # normalised path -> review status (absent: unreviewed)
        self._thumbs: dict[str, QIcon] = {}
        self._requested: set[str] = set()
        self._jobs: dict[str, ThumbnailJob] = {}
        self.pool = WorkQueue(1)
        self._placeholder = QIcon(_blank(THUMB))
        self._bad_icon = QWidget().style().standardIcon(QStyle.SP_MessageBoxWarning)

    def reset(self, root: str) -> None:
        self.pool.clear()
        self.beginResetModel()
        self.root, self.paths, self.row_of = root, [], {}
        self.errors.clear()
        self.statuses.clear()
        self._thumbs.clear()
        self._requested.clear()
        self._jobs.clear()
        self.endResetModel()

    def append(self, paths: list[str]) -> None:
        if not paths:
            return
        first = len(self.paths)
        self.beginInsertRows(QModelIndex(), first, first + len(paths) - 1)
        for i, p in enumerate(paths):
            self.row_of[p] = first + i
        self.paths.extend(paths)
        self.endInsertRows()

    def mark_bad(self, path: str, reason: str) -> None:
        if self.errors.get(path) == reason:
            return
        self.errors[path] = reason
        self._changed(path)

    def set_statuses(self, statuses: dict[str, str]) -> None:
        """Every image's review status at once (path -> status), e.g. when the store opens."""
        self.statuses = {os.path.normpath(p): s for p, s in statuses.items() if s != "unreviewed"}
        if self.paths:
            self.dataChanged.emit(self.index(0), self.index(len(self.paths) - 1), [StatusRole, Qt.ToolTipRole])

    def set_status(self, path: str, status: str) -> None:
        key = os.path.normpath(path)
        if self.status_of(key) == status:
            return
        if status == "unreviewed":
            self.statuses.pop(key, None)
        else:
            self.statuses[key] = status
        self._changed(key)

    def status_of(self, path: str) -> str:
        """Listed paths are normalised already (the folder scan makes them with pathlib)."""
        return self.statuses.get(path) or self.statuses.get(os.path.normpath(path), "unreviewed")

    def status_counts(self) -> dict[str, int]:
        """How many listed images have each status."""
        counts = dict.fromkeys(STATUS_TEXT, 0)
        for p in self.paths:
            counts[self.statuses.get(p, "unreviewed")] += 1
        return counts

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.paths)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        path = self.paths[index.row()]
        if role == Qt.DisplayRole:
            return os.path.relpath(path, self.root) if self.root else os.path.basename(path)
        if role == Qt.DecorationRole:
            if path in self.errors:
                return self._bad_icon
            icon = self._thumbs.get(path)
            if icon is None:
                self._request(path)
                return self._placeholder
            return icon
        if role == Qt.ToolTipRole:
            reason = self.errors.get(path)
            review = f"Review: {STATUS_TEXT[self.status_of(path)]}"
            return f"{path}\n\nCannot be shown: {reason}" if reason else f"{path}\n{review}"
        if role == Qt.ForegroundRole and path in self.errors:
            return QColor(220, 90, 80)
        if role == PathRole:
            return path
        if role == ErrorRole:
            return self.errors.get(path) or None
        if role == StatusRole:
            return self.status_of(path)
        return None

    def _request(self, path: str) -> None:
        if path in self._requested:
            return
        self._requested.add(path)
        job = ThumbnailJob(path, THUMB)
        job.signals.done.connect(self._thumb_done)
        job.signals.failed.connect(self._thumb_failed)
        self._jobs[path] = job
        self.pool.start(job)

    def _thumb_done(self, path: str, pixels) -> None:
        self._jobs.pop(path, None)
        if path in self.row_of:  # else a job of a folder that was closed
            self._thumbs[path] = QIcon(QPixmap.fromImage(to_qimage(pixels)))
            self._changed(path)

    def _thumb_failed(self, path: str, reason: str) -> None:
        self._jobs.pop(path, None)
        if path in self.row_of:
            self.errors[path] = reason
            self._changed(path)

    def _changed(self, path: str) -> None:
        row = self.row_of.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index)


def _blank(size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(40, 40, 40))
    return pixmap


class ImageListPanel(QWidget):
    """Name filter and review-status filter above the list, the review count below it.
    Emits `activated(path)` when the user picks an image."""

    activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ImageListModel(self)
        self.proxy = ReviewFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.status_filter = QComboBox(self)
        self.status_filter.setToolTip("Show only images with this review status")
        self.status_filter.addItem("All", None)
        for status, text in STATUS_TEXT.items():
            self.status_filter.addItem(text, status)
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_status(self.status_filter.currentData()))
        self.review_count = QLabel(self)
        self.review_count.setObjectName("review_count")
        self.review_count.hide()  # shown once a store tells the statuses
        self.view = QListView(self)
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)  # only visible rows are asked for: lazy thumbnails
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.setItemDelegate(ReviewMarkDelegate(self.view))
        self.view.setTextElideMode(Qt.ElideMiddle)  # file names keep their numbers and extension
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setLayoutMode(QListView.Batched)
        self.view.setBatchSize(200)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        filters = QHBoxLayout()
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.status_filter)
        layout.addLayout(filters)
        layout.addWidget(self.view)
        layout.addWidget(self.review_count)
        self.model.rowsInserted.connect(lambda *_: self._update_count())
        self.model.modelReset.connect(self.review_count.hide)  # a new folder: its store tells again

    # -- review status (the box editor tells it; see desktop/ui/editor/__init__.py) ------------
    def set_review_statuses(self, statuses: dict[str, str]) -> None:
        self.model.set_statuses(statuses)
        self.review_count.show()
        self.proxy.invalidate()
        self._update_count()

    def set_review_status(self, path: str, status: str) -> None:
        """One image's status changed. The row stays listed under the current status filter until
        the filter changes, so "Mark reviewed and next" walks on instead of losing its place."""
        self.model.set_status(path, status)
        self._update_count()

    def _update_count(self) -> None:
        if self.review_count.isHidden():
            return
        counts = self.model.status_counts()
        total = sum(counts.values())
        self.review_count.setText(f"{counts['done']} of {total} reviewed · {counts['in_progress']} in progress")

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.activated.emit(current.data(PathRole))

    def select_path(self, path: str) -> None:
        """Make `path` current (and visible) without emitting `activated` twice."""
        row = self.model.row_of.get(path)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if not index.isValid() or self.view.currentIndex() == index:
            return
        self.view.selectionModel().blockSignals(True)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)
        self.view.selectionModel().blockSignals(False)
        self.view.viewport().update()
        self.view.scrollTo(index)

    def selected_paths(self) -> list[str]:
        rows = sorted(self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.paths[r] for r in rows]

    def visible_paths(self) -> list[str]:
        """Paths that pass the filter, in list order."""
        return [self.proxy.index(r, 0).data(PathRole) for r in range(self.proxy.rowCount())]
