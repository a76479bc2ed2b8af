"""The overlay widget: a mouse-transparent child of the canvas laid over its viewport (a child of
the scroll area, not of the viewport, so panning never scrolls it), painting the corner text of
desktop.core.imaging.overlay_text and the orientation letters of desktop.core.imaging.orientation.
Every line is elided to its half of the view, so nothing overlaps however small the window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from desktop.core.imaging.orientation import edge_letters
from desktop.core.imaging.overlay_text import corner_text
from desktop.ui.guard import guarded

MARGIN = 8
TEXT = QColor(235, 235, 235)
LETTERS = QColor(255, 214, 90)


class CornerOverlay(QWidget):
    def __init__(self, window):
        canvas = window.canvas
        super().__init__(canvas)
        self.window = window
        self.canvas = canvas
        self.setObjectName("imageOverlay")
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.NoFocus)
        self.enabled = True
        self.lines: dict[str, list[str]] = {}
        self.letters: dict[str, str] | None = None
        self._pieces_key = None
        self._pieces: list = []
        canvas.viewport().installEventFilter(self)
        window.current_image_changed.connect(lambda _p: self.refresh())
        canvas.zoom_changed.connect(lambda _s: self.refresh())
        if hasattr(window, "wl"):
            window.wl.changed.connect(self.refresh)
        if hasattr(window, "view_area"):
            window.view_area.frame_changed.connect(lambda _f: self.refresh())
        inspector = getattr(window, "inspector", None)
        if inspector is not None and hasattr(inspector, "reveal"):
            inspector.reveal.toggled.connect(lambda _on: self.refresh())
        self._place()
        self.raise_()
        self.show()

    # ----- content --------------------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.setVisible(self.enabled)
        self.refresh()

    def refresh(self, *_args) -> None:
        image = self.window.current_image()
        if image is None or not self.enabled:
            self.lines, self.letters = {}, None
        else:
            frame = self.window.current_frame()
            wl = getattr(self.window, "wl", None)
            window = wl.effective() if wl is not None else None
            revealed = bool(getattr(getattr(self.window, "inspector", None), "revealed", False))
            cine = getattr(self.window, "cine", None)
            fps = cine.fps() if cine is not None and cine.playing else None
            try:
                self.lines = corner_text(image, frame=frame, window=window, zoom=self.canvas.scale_factor(),
                                         revealed=revealed, cine_fps=fps)
                self.letters = edge_letters(getattr(image, "dataset", None), frame)
            except Exception:  # odd attributes in a file: no overlay rather than no image
                self.lines, self.letters = {}, None
        self.update()

    def text(self) -> str:
        """Everything the overlay shows, as text (for tests and accessibility)."""
        out = [line for lines in self.lines.values() for line in lines]
        if self.letters:
            out += [f"{edge}: {letter}" for edge, letter in sorted(self.letters.items())]
        return "\n".join(out)

    # ----- geometry and painting ------------------------------------------------------------------
    @guarded("placing the image overlay", False)
    def eventFilter(self, obj, event) -> bool:
        if event.type() in (QEvent.Resize, QEvent.Move, QEvent.Show):
            self._place()
        return False

    def _place(self) -> None:
        self.setGeometry(self.canvas.viewport().geometry())
        self.raise_()

    @guarded("painting the image overlay")
    def paintEvent(self, _event) -> None:
        """Blits the pieces made by _layout (small pixmaps, made once per change of text or size):
        the overlay repaints with every repaint of the image under it (a window/level drag), so
        that costs a few blits, not text layout."""
        if not self.enabled or (not self.lines and not self.letters):
            return
        key = (self.width(), self.height(), tuple((k, tuple(v)) for k, v in self.lines.items()),
               tuple(sorted((self.letters or {}).items())))
        if key != self._pieces_key:
            self._pieces_key, self._pieces = key, self._layout()
        p = QPainter(self)
        for point, pixmap in self._pieces:
            p.drawPixmap(point, pixmap)
        p.end()

    def _layout(self) -> list:
        font = QFont(self.font())
        fm = QFontMetrics(font)
        rect = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        half = max(rect.width() // 2 - MARGIN, 40)
        room = max((rect.height() // 2) // fm.lineSpacing(), 1)  # lines a corner may use: its half
        pieces = []
        for corner, lines in self.lines.items():
            lines = [fm.elidedText(line, Qt.ElideRight, half) for line in lines]
            top, right = corner.startswith("top"), corner.endswith("right")
            lines = lines[:room] if top else lines[-room:]
            if not lines:
                continue
            pixmap = _text_pixmap(lines, font, TEXT, right, self.devicePixelRatioF())
            w = pixmap.width() / pixmap.devicePixelRatio()
            h = pixmap.height() / pixmap.devicePixelRatio()
            x = rect.right() - w + 1 if right else rect.left()
            y = rect.top() if top else rect.bottom() - h + 1
            pieces.append((QPointF(x, y), pixmap))
        if self.letters:
            big = QFont(font)
            big.setPointSizeF(font.pointSizeF() * 1.35 if font.pointSizeF() > 0 else 13)
            big.setBold(True)
            for edge, letter in self.letters.items():
                pixmap = _text_pixmap([letter], big, LETTERS, False, self.devicePixelRatioF())
                w = pixmap.width() / pixmap.devicePixelRatio()
                h = pixmap.height() / pixmap.devicePixelRatio()
                cx, cy = rect.center().x() - w / 2, rect.center().y() - h / 2
                x, y = {"top": (cx, rect.top()), "bottom": (cx, rect.bottom() - h + 1),
                        "left": (rect.left(), cy), "right": (rect.right() - w + 1, cy)}[edge]
                pieces.append((QPointF(x, y), pixmap))
        return pieces


def _text_pixmap(lines: list[str], font: QFont, color: QColor, right: bool, ratio: float) -> QPixmap:
    """Lines of text with a dark outline (legible on bone and on air alike), on a transparent pixmap."""
    fm = QFontMetrics(font)
    w = max(fm.horizontalAdvance(line) for line in lines) + 2
    h = fm.lineSpacing() * len(lines) + 2
    pixmap = QPixmap(int(w * ratio) + 1, int(h * ratio) + 1)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.transparent)
    p = QPainter(pixmap)
    p.setFont(font)
    for k, line in enumerate(lines):
        x = (w - 1 - fm.horizontalAdvance(line)) if right else 1
        y = 1 + fm.ascent() + k * fm.lineSpacing()
        p.setPen(QColor(0, 0, 0, 220))
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):
            p.drawText(QPointF(x + dx, y + dy), line)
        p.setPen(color)
        p.drawText(QPointF(x, y), line)
    p.end()
    return pixmap


def build_overlay_action(window, overlay: CornerOverlay) -> QAction:
    settings = getattr(window, "settings", None)
    action = QAction("Image &Overlays (corner text, orientation)", window)
    action.setCheckable(True)
    action.setShortcut("I")
    action.setShortcutContext(Qt.WindowShortcut)
    action.setStatusTip("Show or hide the text in the image's corners and the orientation letters at its edges")
    on = settings is None or str(settings.value("view/overlays", "true")) == "true"
    action.setChecked(on)
    overlay.set_enabled(on)

    def toggled(value: bool) -> None:
        overlay.set_enabled(value)
        if settings is not None:
            settings.setValue("view/overlays", "true" if value else "false")

    action.toggled.connect(toggled)
    window.menu("View").addAction(action)
    window.addAction(action)
    return action


__all__ = ["CornerOverlay", "build_overlay_action"]
