"""The image list: every image of the folder, lazily made thumbnails, a name filter, bad files
marked with their reason (icon, red text, tooltip), and each image's review status (a coloured
mark, a filter by status and a "12 of 340 done" count) once the box editor has opened the store.

Nothing here walks every image per step or per keystroke (docs/decisions/0105-image-list-filter-
in-one-pass.md): rows map through `ListFilterProxy` by bisection, names are precomputed once, the
review count is kept up to date incrementally, and the name filter waits for a pause in typing."""

from __future__ import annotations

import os

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
    QTimer,
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
from .list_filter import ListFilterProxy
from .queue_order import QueueOrder
from .review_marks import STATUS_TEXT, ReviewMarkDelegate, StatusRole
from .workers import LatestFirstQueue, ThumbnailJob

THUMB = 64
FILTER_PAUSE_MS = 180  # the name filter runs once typing pauses this long (or on Enter)
LAYOUT_BATCH = 1000  # rows the list lays out per pass of the event loop


ErrorRole = Qt.UserRole + 1
PathRole = Qt.UserRole + 2


class ImageListModel(QAbstractListModel):
    """Paths in folder order; thumbnails are requested the first time a row is painted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.root = ""
        self.paths: list[str] = []
        self.names: list[str] = []  # shown text: the path relative to the folder
        self.folded_names: list[str] = []  # the same, case-folded, for the name filter
        self.row_of: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.statuses: dict[str, str] = {}  # normalised path -> review status (absent: unreviewed)
        self.uncertainty: dict[str, float] = {}  # path -> the ordering run's score, while ordered by one
        self._thumbs: dict[str, QIcon] = {}
        self._requested: set[str] = set()
        self._jobs: dict[str, ThumbnailJob] = {}
        self._counts = dict.fromkeys(STATUS_TEXT, 0)  # review status -> listed images with it
        self.pool = LatestFirstQueue()
        self._placeholder = QIcon(_blank(THUMB))
        self._bad_icon = QWidget().style().standardIcon(QStyle.SP_MessageBoxWarning)

    def reset(self, root: str) -> None:
        self.pool.clear()
        self.beginResetModel()
        self.root, self.paths, self.row_of = root, [], {}
        self.names, self.folded_names = [], []
        self._counts = dict.fromkeys(STATUS_TEXT, 0)
        self.errors.clear()
        self.statuses.clear()
        self.uncertainty = {}
        self._thumbs.clear()
        self._requested.clear()
        self._jobs.clear()
        self.endResetModel()

    def append(self, paths: list[str], names: list[str] | None = None, folded: list[str] | None = None) -> None:
        """`names` (relative to the folder) and `folded` (case-folded) as the folder scan made them
        in its worker, when given: then nothing here runs Python per row (decision 0123)."""
        if not paths:
            return
        first = len(self.paths)
        if names is None:
            names = [self._name(p) for p in paths]
        if folded is None:
            folded = [n.casefold() for n in names]
        self.beginInsertRows(QModelIndex(), first, first + len(paths) - 1)
        self.row_of.update(zip(paths, range(first, first + len(paths))))
        self.paths.extend(paths)
        self.names.extend(names)
        self.folded_names.extend(folded)
        self._count(paths, +1)
        self.endInsertRows()

    def _name(self, path: str) -> str:
        if not self.root:
            return os.path.basename(path)
        prefix = self.root.rstrip(os.sep) + os.sep
        return path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, self.root)

    def _count(self, paths, sign: int) -> None:
        statuses = self.statuses
        if not statuses:
            self._counts["unreviewed"] += sign * len(paths)
            return
        for p in paths:
            self._counts[statuses.get(p, "unreviewed")] += sign

    def mark_bad(self, path: str, reason: str) -> None:
        if self.errors.get(path) == reason:
            return
        self.errors[path] = reason
        self._changed(path)

    def set_statuses(self, statuses: dict[str, str]) -> None:
        """Every image's review status at once (path -> status), e.g. when the store opens."""
        self.statuses = {os.path.normpath(p): s for p, s in statuses.items() if s != "unreviewed"}
        self._counts = dict.fromkeys(STATUS_TEXT, 0)
        self._count(self.paths, +1)
        if self.paths:
            self.dataChanged.emit(self.index(0), self.index(len(self.paths) - 1), [StatusRole, Qt.ToolTipRole])

    def set_status(self, path: str, status: str) -> None:
        key = os.path.normpath(path)
        before = self.status_of(key)
        if before == status:
            return
        if key in self.row_of:
            self._counts[before] -= 1
            self._counts[status] += 1
        if status == "unreviewed":
            self.statuses.pop(key, None)
        else:
            self.statuses[key] = status
        self._changed(key)

    def status_of(self, path: str) -> str:
        """Listed paths are normalised already (the folder scan makes them with pathlib)."""
        return self.statuses.get(path) or self.statuses.get(os.path.normpath(path), "unreviewed")

    def status_counts(self) -> dict[str, int]:
        """How many listed images have each status (kept as rows and statuses change)."""
        return dict(self._counts)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.paths)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        path = self.paths[index.row()]
        if role == Qt.DisplayRole:
            return self.names[index.row()]
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
            if path in self.uncertainty:  # the list is ordered by a run's uncertainty
                review += f"\nUncertainty: {self.uncertainty[path]:.2f}"
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
        for old in self.pool.start(job):  # scrolled past: asked for again if painted again
            self._jobs.pop(old.path, None)
            self._requested.discard(old.path)

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
        self.proxy = ListFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_PAUSE_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(self._filter_typed)
        self.filter.returnPressed.connect(self.apply_filter)
        self.status_filter = QComboBox(self)
        self.status_filter.setToolTip("Show only images with this review status")
        self.status_filter.addItem("All", None)
        for status, text in STATUS_TEXT.items():
            self.status_filter.addItem(text, status)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.order = QueueOrder(self)  # folder order or most uncertain first (desktop/ui/review fills it)
        self.review_count = QLabel(self)
        self.review_count.setObjectName("review_count")
        self.review_count.hide()  # shown once a store tells the statuses
        self.view = QListView(self)
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)  # only visible rows are asked for: lazy thumbnails
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.setItemDelegate(ReviewMarkDelegate(self.view))
        self.view.setTextElideMode(Qt.ElideMiddle)  # file names keep their numbers and extension
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # rows fit the width (review_marks)
        self.view.setResizeMode(QListView.Adjust)  # a wider or narrower dock lays the rows out again
        # rows are laid out LAYOUT_BATCH at a time, one batch per pass of the event loop: a relayout
        # of 100,000 rows in one go held the loop for 60-100 ms (decision 0123)
        self.view.setLayoutMode(QListView.Batched)
        self.view.setBatchSize(LAYOUT_BATCH)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)  # names are not edited here
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        filters = QHBoxLayout()
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.status_filter)
        layout.addLayout(filters)
        layout.addWidget(self.order)
        layout.addWidget(self.view)
        layout.addWidget(self.review_count)
        self.model.rowsInserted.connect(lambda *_: self._update_count())
        self.model.modelReset.connect(self.review_count.hide)  # a new folder: its store tells again

    # -- filters ------------------------------------------------------------------------------
    def _filter_typed(self, text: str) -> None:
        if text:
            self._filter_timer.start()  # restarted by each key: runs once typing pauses
        else:
            self.apply_filter()  # cleared: show everything at once

    def apply_filter(self) -> None:
        """Run the name and status filters now; the current image stays current and in view."""
        self._filter_timer.stop()
        text, status = self.filter.text(), self.status_filter.currentData()
        if (text, status) == (self.proxy.text, self.proxy.status):
            return
        current = self.view.currentIndex()
        current_path = current.data(PathRole) if current.isValid() else None
        self.proxy.set_filter(text, status)
        row = self.model.row_of.get(current_path) if current_path else None
        if row is not None and self.proxy.proxy_row(row) is not None:
            self.select_path(current_path)
        else:
            self.view.scrollToTop()  # the current image is filtered out: the matches from the top

    # -- order (the review queue: decision 0131) ----------------------------------------------
    def set_order_scores(self, scores: dict[str, float] | None) -> None:
        """Order the list by `scores` (path -> uncertainty, highest first; images without one
        after them), or folder order with None. The current image stays current and in view."""
        current = self.view.currentIndex()
        current_path = current.data(PathRole) if current.isValid() else None
        rows = None
        self.model.uncertainty = scores or {}
        if scores is not None:
            row_of = self.model.row_of
            rows = {row_of[p]: v for p, v in scores.items() if p in row_of}
        self.proxy.set_order(rows)
        if current_path:
            self.select_path(current_path, force=True)
        else:
            self.view.scrollToTop()

    def first_in_queue(self, ranked: list[str], skip: str | None = None, start: int = 0) -> tuple[str | None, int]:
        """(path, lead): the first of `ranked[start:]` (paths, most uncertain first) that is listed
        under the filter, not reviewed (done) and not `skip`, and how many of `ranked` from the
        start are done (a caller may begin there next time, until a status goes back). Stops at
        the first hit: a step, not a pass over the folder."""
        self.flush_filter()
        row_of, proxy, status_of, statuses = self.model.row_of, self.proxy, self.model.status_of, self.model.statuses
        lead = start
        for i in range(start, len(ranked)):
            path = ranked[i]
            if statuses.get(path) == "done":
                if lead == i:
                    lead = i + 1
                continue
            row = row_of.get(path)
            if row is None or path == skip or proxy.proxy_row(row) is None or status_of(path) == "done":
                continue
            return path, lead
        return None, lead

    def flush_filter(self) -> None:
        """A filter still waiting for the typing pause runs now (before a step or a query)."""
        if self._filter_timer.isActive():
            self.apply_filter()

    # -- review status (the box editor tells it; see desktop/ui/editor/__init__.py) ------------
    def set_review_statuses(self, statuses: dict[str, str]) -> None:
        self.model.set_statuses(statuses)
        self.review_count.show()
        if self.proxy.status is not None:
            self.proxy.set_filter(self.proxy.text, self.proxy.status)
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

    def select_path(self, path: str, force: bool = False) -> None:
        """Make `path` current (and visible) without emitting `activated` twice; `force` selects
        it again after the rows moved (a new order)."""
        row = self.model.row_of.get(path)
        if row is None:
            return
        row = self.proxy.proxy_row(row)
        if row is None:
            return
        index = self.proxy.index(row, 0)
        if self.view.currentIndex() == index and not force:
            return
        self.view.selectionModel().blockSignals(True)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)
        self.view.selectionModel().blockSignals(False)
        self.view.viewport().update()
        self.view.scrollTo(index)

    def selected_paths(self) -> list[str]:
        """Selected paths in list order."""
        source = self.proxy.source_rows()
        rows = [source[r] for r in sorted(i.row() for i in self.view.selectionModel().selectedIndexes())]
        return [self.model.paths[r] for r in rows]

    def visible_paths(self) -> list[str]:
        """Paths that pass the filter, in list order."""
        self.flush_filter()
        paths = self.model.paths
        return [paths[r] for r in self.proxy.source_rows()]

    def neighbour(self, path: str | None, step: int) -> str | None:
        """The listed path `step` rows from `path` as filtered; the first one when `path` is not
        listed (e.g. hidden by the filter); None past either end. O(log N), not a list scan."""
        self.flush_filter()
        rows = self.proxy.source_rows()
        if not len(rows):
            return None
        row = self.model.row_of.get(path) if path is not None else None
        at = self.proxy.proxy_row(row) if row is not None else None
        if at is None:
            return self.model.paths[rows[0]]
        at += step
        return self.model.paths[rows[at]] if 0 <= at < len(rows) else None

    def around(self, path: str, offsets) -> list[str]:
        """Listed paths at these row offsets from `path` (as filtered), those that exist."""
        row = self.model.row_of.get(path)
        at = self.proxy.proxy_row(row) if row is not None else None
        if at is None:
            return []
        rows = self.proxy.source_rows()
        return [self.model.paths[rows[at + k]] for k in offsets if 0 <= at + k < len(rows)]
