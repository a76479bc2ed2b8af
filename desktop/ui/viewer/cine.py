"""Multi-frame images: frame keys and cine playback (decision 0137).

Keys: Ctrl+Right / Ctrl+Left step one frame anywhere in the window; with the frame slider focused
(click it), Page Down / Page Up, the arrows, Home and End move the frame instead of the image. C
plays or pauses. The rate starts at the file's own (desktop.core.imaging.cine.frame_rate) and can
be changed in the spin box beside the slider.

Playback is paced by the clock, not by counting ticks: each tick of a precise QTimer shows the
frame that is due at that moment (start frame + elapsed x fps), so when rendering a frame takes
longer than a frame's time, frames are skipped and the cine keeps the file's rate, and the event
loop gets control back after every frame, so the window never freezes. Every frame is already
decoded (the whole file is read at once), so a tick costs one window/level render.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDoubleSpinBox, QStyle, QToolButton

from desktop.core.imaging.cine import DEFAULT_FPS, MAX_FPS, MIN_FPS, frame_rate
from desktop.ui.guard import guarded

_SLIDER_KEYS = {Qt.Key_PageDown: 1, Qt.Key_PageUp: -1, Qt.Key_Right: 1, Qt.Key_Left: -1, Qt.Key_Down: 1,
                Qt.Key_Up: -1}


class CineControl(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.area = window.view_area
        self.slider = self.area.slider
        self.playing = False
        self.shown = 0  # frames put on screen since play started
        self.skipped = 0  # frames passed over to keep the rate
        self.file_rate = None
        self._clock = QElapsedTimer()
        self._start_frame = 0
        self._last = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)

        self.button = QToolButton(self.area.bar)
        self.button.setObjectName("cinePlay")
        self._icons = {on: self.button.style().standardIcon(QStyle.SP_MediaPause if on else QStyle.SP_MediaPlay)
                       for on in (True, False)}  # the style's icons: no font lacks them
        self.button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self._show_state()
        self.button.setToolTip("Play the frames as a cine loop (C)")
        self.button.clicked.connect(self.toggle)
        self.rate = QDoubleSpinBox(self.area.bar)
        self.rate.setObjectName("cineRate")
        self.rate.setRange(MIN_FPS, MAX_FPS)
        self.rate.setDecimals(1)
        self.rate.setSingleStep(1.0)
        self.rate.setSuffix(" fps")
        self.rate.setValue(DEFAULT_FPS)
        self.rate.setKeyboardTracking(False)
        self.rate.valueChanged.connect(self._rate_changed)
        row = self.area.bar.layout()
        row.insertWidget(0, self.button)
        row.addWidget(self.rate)

        self.slider.setFocusPolicy(Qt.ClickFocus)  # click it, then Page Up/Down step frames
        self.slider.installEventFilter(self)
        self.slider.sliderPressed.connect(self.pause)
        view = window.menu("View")
        frames = view.addMenu("&Frames")
        self.actions = {
            "next": self._action(frames, "&Next Frame", lambda: self.step(1), ["Ctrl+Right"]),
            "previous": self._action(frames, "&Previous Frame", lambda: self.step(-1), ["Ctrl+Left"]),
            "play": self._action(frames, "&Play / Pause Cine", self.toggle, ["C"]),
        }
        window.current_image_changed.connect(self.image_changed)

    def _action(self, menu, text, slot, keys) -> QAction:
        from desktop.ui.viewer.actions import menu_action

        return menu_action(self.window, menu, text, slot, keys)

    # ----- state ------------------------------------------------------------------------------------
    def frames(self) -> int:
        image = self.window.current_image()
        return image.n_frames if image is not None else 1

    def fps(self) -> float:
        return float(self.rate.value())

    def image_changed(self, _path=None) -> None:
        self.pause()
        image = self.window.current_image()
        self.file_rate = frame_rate(getattr(image, "dataset", None)) if image is not None else None
        self.rate.blockSignals(True)
        self.rate.setValue(self.file_rate.fps if self.file_rate else DEFAULT_FPS)
        self.rate.blockSignals(False)
        if self.file_rate:
            self.rate.setToolTip(f"Frames per second; the file's own rate is {self.file_rate.fps:g} fps "
                                 f"(from {self.file_rate.source})")
        else:
            self.rate.setToolTip(f"Frames per second; the file gives no rate, so cine starts at {DEFAULT_FPS:g}")
        enabled = self.frames() > 1
        for action in self.actions.values():
            action.setEnabled(enabled)

    def step(self, delta: int) -> None:
        n = self.frames()
        if n > 1:
            self.slider.setValue((self.slider.value() + delta) % n)

    # ----- playback ---------------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.frames() < 2 or self.playing:
            return
        self.playing = True
        self.shown = self.skipped = 0
        self._restart_clock()
        self._timer.start(max(int(1000.0 / self.fps() / 2), 1))  # ticks at twice the rate: never late by a frame
        self._show_state()
        self._refresh_overlay()

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        self._show_state()
        self._refresh_overlay()

    def _show_state(self) -> None:
        self.button.setIcon(self._icons[self.playing])
        self.button.setText("Pause" if self.playing else "Play")

    def _restart_clock(self) -> None:
        self._start_frame = self._last = self.slider.value()
        self._clock.start()

    def _rate_changed(self, _value: float) -> None:
        if self.playing:
            self._restart_clock()
            self._timer.start(max(int(1000.0 / self.fps() / 2), 1))
        self._refresh_overlay()

    def _tick(self) -> None:
        n = self.frames()
        if n < 2:
            self.pause()
            return
        due = int(self._clock.elapsed() * self.fps() / 1000.0)
        target = (self._start_frame + due) % n
        if target == self._last:
            return
        gap = (target - self._last) % n
        self.skipped += max(gap - 1, 0)
        self.shown += 1
        self._last = target
        self.slider.setValue(target)

    def _refresh_overlay(self) -> None:
        overlay = getattr(self.window, "overlays", None)
        if overlay is not None:
            overlay.refresh()

    # ----- the slider's keys ------------------------------------------------------------------------
    @guarded("the frame slider's keys", False)
    def eventFilter(self, obj, event) -> bool:
        if obj is self.slider:
            t = event.type()
            keys = (*_SLIDER_KEYS, Qt.Key_Home, Qt.Key_End)
            plain = not event.modifiers() & (Qt.ControlModifier | Qt.AltModifier) if t == QEvent.ShortcutOverride else False
            if t == QEvent.ShortcutOverride and event.key() in keys and plain:
                event.accept()  # the window's image keys yield while the slider has focus
                return True
            if t == QEvent.KeyPress and event.key() in _SLIDER_KEYS:
                self.step(_SLIDER_KEYS[event.key()])
                return True
            if t == QEvent.KeyPress and event.key() in (Qt.Key_Home, Qt.Key_End):
                self.slider.setValue(0 if event.key() == Qt.Key_Home else self.frames() - 1)
                return True
            if t == QEvent.KeyPress and event.key() == Qt.Key_Escape:
                self.window.canvas.setFocus()  # the keys go back to the image
                return True
        return False
