"""The corrections dashboard's plots, drawn with QPainter: the dialog paints them on screen and the
PNG export (window and `loupe corrections --png`) paints the same function into a QImage, so the
file is what the dialog shows (decision 0132). Numbers come from desktop.core.exchange.correction_stats.

Four panels: the share of each model's reviewed predictions that people corrected; for the chosen
model, what happened to its predictions per class (accepted, moved, relabelled, deleted, and boxes
people added); its corrected share per run; and the mean IoU of its moved boxes with its originals.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from desktop.core.exchange.correction_stats import EMPTY_HINT, CorrectionStats

KIND_COLOURS = {  # Okabe-Ito, colour-blind safe
    "accepted": QColor("#009E73"), "moved": QColor("#0072B2"), "relabelled": QColor("#E69F00"),
    "deleted": QColor("#D55E00"), "added": QColor("#CC79A7"),
}
INK, FAINT, PAPER, GRID = QColor(30, 30, 30), QColor(110, 110, 110), QColor(255, 255, 255), QColor(225, 225, 225)
PNG_SIZE = (1200, 800)


def paint_dashboard(painter: QPainter, rect: QRectF, stats: CorrectionStats, model: str | None) -> None:
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing)
    painter.fillRect(rect, PAPER)
    base = QFont(painter.font())
    base.setPixelSize(max(11, min(15, int(rect.height() / 52))))
    painter.setFont(base)
    pad = base.pixelSize()
    inner = rect.adjusted(pad, pad, -pad, -pad)
    if stats.empty:
        painter.setPen(INK)
        painter.drawText(inner, Qt.AlignCenter | Qt.TextWordWrap, EMPTY_HINT)
        painter.restore()
        return
    model = model if model in stats.models else stats.models[0]
    total = stats.total(model)
    title = QFont(base)
    title.setPixelSize(base.pixelSize() + 3)
    title.setBold(True)
    painter.setFont(title)
    painter.setPen(INK)
    line = painter.fontMetrics().height()
    rate = total.corrected_rate
    headline = (f"{model}: {total.predictions} predictions, {total.reviewed} reviewed, "
                + (f"{total.corrected} corrected ({rate:.0%})" if rate is not None else "none reviewed yet"))
    painter.drawText(QRectF(inner.left(), inner.top(), inner.width(), line), Qt.AlignLeft | Qt.AlignVCenter,
                     painter.fontMetrics().elidedText(headline, Qt.ElideRight, int(inner.width())))
    painter.setFont(base)
    body = inner.adjusted(0, line + pad * 0.6, 0, 0)
    gap = pad * 1.5
    w, h = (body.width() - gap) / 2, (body.height() - gap) / 2
    cells = [QRectF(body.left() + (w + gap) * (i % 2), body.top() + (h + gap) * (i // 2), w, h) for i in range(4)]
    _per_model(painter, cells[0], stats)
    per_class = stats.per_class(model)
    _grouped(painter, cells[1], f"Per class ({model})", list(per_class),
             {k: [getattr(t, k) for t in per_class.values()] for k in KIND_COLOURS})
    runs = stats.per_run(model)
    _bars(painter, cells[2], f"Corrected share per run ({model})", [i.label for i, _ in runs],
          [t.corrected_rate for _, t in runs], [f"{t.corrected}/{t.reviewed}" for _, t in runs], 1.0, "%")
    _bars(painter, cells[3], f"Mean IoU, moved box vs the model's ({model})", list(per_class),
          [t.moved_mean_iou for t in per_class.values()], [f"n={t.moved}" for t in per_class.values()], 1.0, "")
    painter.restore()


def _frame(painter: QPainter, rect: QRectF, title: str) -> QRectF:
    """Draw the panel's title; returns the plot area below it."""
    fm = painter.fontMetrics()
    painter.setPen(INK)
    bold = QFont(painter.font())
    bold.setBold(True)
    painter.save()
    painter.setFont(bold)
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), fm.height()), Qt.AlignLeft | Qt.AlignVCenter,
                     painter.fontMetrics().elidedText(title, Qt.ElideRight, int(rect.width())))
    painter.restore()
    return rect.adjusted(0, fm.height() * 1.4, 0, 0)


def _per_model(painter: QPainter, rect: QRectF, stats: CorrectionStats) -> None:
    area = _frame(painter, rect, "Share of reviewed predictions corrected, per model")
    fm = painter.fontMetrics()
    models = stats.models
    label_w = min(area.width() * 0.35, max(fm.horizontalAdvance(m) for m in models) + 8)
    row_h = min(area.height() / max(len(models), 1), fm.height() * 2.4)
    for i, model in enumerate(models):
        t = stats.total(model)
        y = area.top() + i * row_h
        painter.setPen(INK)
        painter.drawText(QRectF(area.left(), y, label_w - 6, row_h), Qt.AlignRight | Qt.AlignVCenter,
                         fm.elidedText(model, Qt.ElideMiddle, int(label_w - 6)))
        bar = QRectF(area.left() + label_w, y + row_h * 0.2, area.width() - label_w, row_h * 0.6)
        painter.fillRect(bar, GRID)
        rate = t.corrected_rate
        if rate is not None:
            painter.fillRect(QRectF(bar.left(), bar.top(), bar.width() * rate, bar.height()), KIND_COLOURS["deleted"])
        text = (f"{rate:.0%} corrected ({t.corrected} of {t.reviewed})" if rate is not None
                else f"none of {t.predictions} reviewed yet")
        painter.setPen(INK)
        painter.drawText(bar.adjusted(6, 0, -6, 0), Qt.AlignLeft | Qt.AlignVCenter, text)


def _grouped(painter: QPainter, rect: QRectF, title: str, groups: list[str], series: dict[str, list[int]]) -> None:
    area = _frame(painter, rect, title)
    fm = painter.fontMetrics()
    legend_h = fm.height() * 1.3
    x = area.left()
    for kind, colour in KIND_COLOURS.items():  # the legend on one line
        painter.fillRect(QRectF(x, area.top() + legend_h * 0.25, legend_h * 0.5, legend_h * 0.5), colour)
        painter.setPen(INK)
        painter.drawText(QRectF(x + legend_h * 0.7, area.top(), 200, legend_h), Qt.AlignLeft | Qt.AlignVCenter, kind)
        x += legend_h * 0.7 + fm.horizontalAdvance(kind) + legend_h * 0.6
    plot = area.adjusted(fm.horizontalAdvance("0000") + 4, legend_h + 4, 0, -fm.height() * 1.3)
    top = max([1] + [v for values in series.values() for v in values])
    top = -(-top // 4) * 4  # a multiple of 4: the 5 grid lines fall on whole counts
    _axis(painter, plot, top, lambda v: f"{v:.0f}")
    if not groups:
        return
    slot = plot.width() / len(groups)
    n = len(series)
    bar_w = slot * 0.8 / n
    for g, name in enumerate(groups):
        for k, (kind, values) in enumerate(series.items()):
            v = values[g]
            bh = plot.height() * v / top
            painter.fillRect(QRectF(plot.left() + g * slot + slot * 0.1 + k * bar_w, plot.bottom() - bh,
                                    bar_w * 0.92, bh), KIND_COLOURS[kind])
        painter.setPen(INK)
        painter.drawText(QRectF(plot.left() + g * slot, plot.bottom() + 2, slot, fm.height()),
                         Qt.AlignHCenter | Qt.AlignTop, fm.elidedText(name, Qt.ElideMiddle, int(slot - 2)))


def _bars(painter: QPainter, rect: QRectF, title: str, names: list[str], values: list[float | None],
          notes: list[str], top: float, unit: str) -> None:
    area = _frame(painter, rect, title)
    fm = painter.fontMetrics()
    plot = area.adjusted(fm.horizontalAdvance("100%") + 6, fm.height() * 0.6, 0, -fm.height() * 1.3)
    _axis(painter, plot, top, (lambda v: f"{v:.0%}") if unit == "%" else (lambda v: f"{v:.2f}"))
    if not names:
        return
    slot = plot.width() / len(names)
    for i, (name, v, note) in enumerate(zip(names, values, notes)):
        x = plot.left() + i * slot
        if v is not None:
            bh = plot.height() * v / top
            painter.fillRect(QRectF(x + slot * 0.2, plot.bottom() - bh, slot * 0.6, bh), KIND_COLOURS["moved"])
            shown = f"{v:.0%}" if unit == "%" else f"{v:.2f}"
            painter.setPen(INK)
            painter.drawText(QRectF(x, plot.bottom() - bh - fm.height(), slot, fm.height()), Qt.AlignHCenter,
                             fm.elidedText(f"{shown} ({note})", Qt.ElideRight, int(slot)))
        else:
            painter.setPen(FAINT)
            painter.drawText(QRectF(x, plot.bottom() - fm.height(), slot, fm.height()), Qt.AlignHCenter, "—")
        painter.setPen(INK)
        painter.drawText(QRectF(x, plot.bottom() + 2, slot, fm.height()), Qt.AlignHCenter | Qt.AlignTop,
                         fm.elidedText(name, Qt.ElideMiddle, int(slot - 2)))


def _axis(painter: QPainter, plot: QRectF, top: float, fmt) -> None:
    fm = painter.fontMetrics()
    for i in range(5):
        v = top * i / 4
        y = plot.bottom() - plot.height() * i / 4
        painter.setPen(QPen(GRID, 1))
        painter.drawLine(plot.left(), y, plot.right(), y)
        painter.setPen(FAINT)
        painter.drawText(QRectF(plot.left() - 200 - 4, y - fm.height() / 2, 200, fm.height()),
                         Qt.AlignRight | Qt.AlignVCenter, fmt(v))
    painter.setPen(QPen(FAINT, 1))
    painter.drawLine(plot.left(), plot.bottom(), plot.right(), plot.bottom())


def render_image(stats: CorrectionStats, model: str | None, size: tuple[int, int] = PNG_SIZE) -> QImage:
    image = QImage(int(size[0]), int(size[1]), QImage.Format_RGB32)
    image.fill(PAPER)
    painter = QPainter(image)
    try:
        paint_dashboard(painter, QRectF(0, 0, size[0], size[1]), stats, model)
    finally:
        painter.end()
    return image


def save_png(stats: CorrectionStats, model: str | None, path, size: tuple[int, int] = PNG_SIZE) -> None:
    from pathlib import Path

    from models.errors import LoupeError

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not render_image(stats, model, size).save(str(out), "PNG"):
        raise LoupeError(f"{out}: the PNG could not be written (is the folder writable?)")
