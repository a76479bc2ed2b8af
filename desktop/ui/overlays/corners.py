"""The overlay widget: a mouse-transparent child of the canvas laid over its viewport (a child of
the scroll area, not of the viewport, so panning never scrolls it), painting the corner text of
desktop.core.imaging.overlay_text and the orientation letters of desktop.core.imaging.orientation.
Every line is elided to its half of the view, so nothing overlaps however small the window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from desktop.core.imaging.orientation import edge_letters
from desktop.core.imaging.overlay_text import corner_text

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
    def eventFilter(self, obj, event) -> bool:
        if event.type() in (QEvent.Resize, QEvent.Move, QEvent.Show):
            self._place()
        return False

    def _place(self) -> None:
        self.setGeometry(self.canvas.viewport().geometry())
        self.raise_()

    def paintEvent(self, _event) -> None:
        if not self.enabled or (not self.lines and not self.letters):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setRenderHint(QPainter.TextAntialiasing)
        font = QFont(self.font())
        p.setFont(font)
        fm = QFontMetrics(font)
        rect = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        half = max(rect.width() // 2 - MARGIN, 40)
        step = fm.lineSpacing()
        for corner, lines in self.lines.items():
            top = corner.startswith("top")
            right = corner.endswith("right")
            for k, line in enumerate(lines if top else list(reversed(lines))):
                text = fm.elidedText(line, Qt.ElideRight, half)
                w = fm.horizontalAdvance(text)
                x = rect.right() - w if right else rect.left()
                y = rect.top() + fm.ascent() + k * step if top else rect.bottom() - fm.descent() - k * step
                if (top and y > rect.center().y()) or (not top and y < rect.center().y()):
                    break  # a very short view: the corners keep to their halves
                self._outlined(p, x, y, text, font, TEXT)
        if self.letters:
            big = QFont(font)
            big.setPointSizeF(font.pointSizeF() * 1.35 if font.pointSizeF() > 0 else 13)
            big.setBold(True)
            bm = QFontMetrics(big)
            mid_x, mid_y = rect.center().x(), rect.center().y()
            for edge, letter in self.letters.items():
                w = bm.horizontalAdvance(letter)
                if edge == "top":
                    x, y = mid_x - w / 2, rect.top() + bm.ascent()
                elif edge == "bottom":
                    x, y = mid_x - w / 2, rect.bottom() - bm.descent()
                elif edge == "left":
                    x, y = rect.left(), mid_y + bm.ascent() / 2
                else:
                    x, y = rect.right() - w, mid_y + bm.ascent() / 2
                self._outlined(p, x, y, letter, big, LETTERS)
        p.end()

    @staticmethod
    def _outlined(p: QPainter, x: float, y: float, text: str, font: QFont, color: QColor) -> None:
        """White (or yellow) text with a dark outline: legible on bone and on air alike."""
        path = QPainterPath()
        path.addText(x, y, font, text)
        p.strokePath(path, QPen(QColor(0, 0, 0, 200), 3, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.fillPath(path, color)


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
