"""How the image list shows review status: a coloured mark at the right of each row (nothing for
unreviewed, an amber ring for in progress, a green disc with a tick for done). The status filter
itself is desktop/ui/viewer/list_filter.py."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyledItemDelegate

from desktop.ui.guard import guarded

StatusRole = Qt.UserRole + 3
STATUS_TEXT = {"unreviewed": "Unreviewed", "in_progress": "In progress", "done": "Done"}
_AMBER, _GREEN = QColor(230, 160, 40), QColor(70, 170, 90)
MARK = 12  # diameter in pixels


class ReviewMarkDelegate(QStyledItemDelegate):
    """The standard row (thumbnail, name) plus the review mark at its right edge; a long name is
    shortened in the middle so it never runs under the mark."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if index.data(StatusRole) in ("in_progress", "done") and option.text:
            room = option.rect.width() - option.decorationSize.width() - 3 * 6 - (MARK + 8)
            option.text = option.fontMetrics.elidedText(option.text, Qt.ElideMiddle, max(room, 24))

    def sizeHint(self, option, index):
        """Never wider than the list: a long name is shortened in the middle, not given a
        horizontal scroll bar (the list's rows are uniform, so this is asked once per layout)."""
        size = super().sizeHint(option, index)
        view = self.parent()
        if view is not None and hasattr(view, "viewport"):
            size.setWidth(max(1, min(size.width(), view.viewport().width())))
        return size

    @guarded("drawing the review marks in the image list")
    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        status = index.data(StatusRole)
        if status not in ("in_progress", "done"):
            return
        r = option.rect
        box = QRectF(r.right() - MARK - 6, r.center().y() - MARK / 2, MARK, MARK)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        if status == "done":
            painter.setPen(Qt.NoPen)
            painter.setBrush(_GREEN)
            painter.drawEllipse(box)
            tick = QPainterPath(QPointF(box.left() + 3, box.center().y()))
            tick.lineTo(box.left() + 5.2, box.bottom() - 3.2)
            tick.lineTo(box.right() - 2.8, box.top() + 3.2)
            painter.setPen(QPen(Qt.white, 1.8, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(tick)
        else:
            painter.setPen(QPen(_AMBER, 2.2))
            painter.setBrush(Qt.NoBrush)
            painter.drawEllipse(box.adjusted(1, 1, -1, -1))
        painter.restore()
