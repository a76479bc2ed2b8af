"""The main window: canvas in the middle, image list, window/level and inspector docks, and the
seam other panels use (docs/decisions/0001-layout-and-seams.md). Panel code lives elsewhere and is
installed by `desktop.ui.extensions.install_all`."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desktop.core.imaging import ImageReadError, read_image
from desktop.ui.guard import guarded
from desktop.ui.viewer import drops
from desktop.ui.viewer import settings as saved
from desktop.ui.viewer.actions import build_actions
from desktop.ui.viewer.burned_in import BurnedInBanner
from desktop.ui.viewer.cache import ImageCache
from desktop.ui.viewer.canvas import ImageCanvas
from desktop.ui.viewer.image_list import ImageListPanel
from desktop.ui.viewer.inspector import Inspector
from desktop.ui.viewer.menus import Menus
from desktop.ui.viewer.navigation import PREFETCH_AHEAD, prefetch_offsets
from desktop.ui.viewer.notifications import NotificationArea
from desktop.ui.viewer.view_area import ViewArea
from desktop.ui.viewer.welcome import WelcomePage
from desktop.ui.viewer.window_level import WindowLevelPanel, WindowLevelState
from desktop.ui.viewer.workers import FolderScanJob, WorkQueue


class MainWindow(QMainWindow):
    folder_opened = Signal(str)
    current_image_changed = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Loupe")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else saved.default_settings()
        self._menus = Menus(self.menuBar(), self)
        self._folder: Path | None = None
        self._current: str | None = None
        self._image = None
        self._frame = 0
        self._show_first: str | None = None  # a path to show once the scan lists it
        self._scan: FolderScanJob | None = None
        self._generation = 0
        self._scan_pool = WorkQueue(1)
        self.cache = ImageCache(parent=self)
        self.cache.decoded.connect(self._decoded)
        self._wanted: str | None = None  # the image the keys asked for, while it decodes

        self.view_area = ViewArea(self)
        self.canvas: ImageCanvas = self.view_area.canvas
        self.burned_in = BurnedInBanner(self.view_area)
        self.view_area.layout().insertWidget(0, self.burned_in)  # above the image
        self.welcome = WelcomePage(self)  # before a folder is open: what to do, as buttons
        self.centre = QStackedWidget(self)
        self.centre.addWidget(self.welcome)
        self.centre.addWidget(self.view_area)
        self.setCentralWidget(self.centre)
        self.view_area.frame_changed.connect(self._frame_changed)
        self.wl = WindowLevelState(self)
        self.wl.changed.connect(self._render)
        self.wl.settled.connect(self._save_window_level)
        self.canvas.window_drag.connect(self.wl.drag)
        self.canvas.window_drag_finished.connect(self.wl.end_drag)

        self.image_list = ImageListPanel(self)
        self.image_list.activated.connect(self.show_image)
        images_dock = self.add_panel("Images", self.image_list, Qt.LeftDockWidgetArea)
        self.wl_panel = WindowLevelPanel(self.wl, self)
        wl_dock = self.add_panel("Window / Level", self.wl_panel, Qt.LeftDockWidgetArea)
        self.inspector = Inspector(self)
        inspector_dock = self.add_panel("Inspector", self.inspector)
        self.notifications = NotificationArea(self)
        self.statusBar().addWidget(self.notifications, 1)
        self.zoom_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.canvas.zoom_changed.connect(lambda s: self.zoom_label.setText(f"{s * 100:.0f}%"))
        self.actions_ = build_actions(self)
        from desktop.ui.viewer.cine import CineControl

        self.cine = CineControl(self)  # frame keys and cine playback of multi-frame images
        self._connect_welcome()

        # the right side holds many panels (seven with every extension): their tabs run down the
        # window's edge, where each title fits whole at 1280x720, instead of a row of "I…", "L…"
        # (decision 0151)
        self.setTabPosition(Qt.RightDockWidgetArea, QTabWidget.East)
        self.extensions: list[str] = []
        self._install_extensions()
        # restored after every panel's dock exists (restoreState places only docks it knows)
        if not saved.restore_window(self, self.settings):
            self._first_start_layout(images_dock, wl_dock, inspector_dock)
        self.welcome.set_recent(saved.existing_recent_folders(self.settings))

    def _first_start_layout(self, images_dock, wl_dock, inspector_dock) -> None:
        """The image gets the room; list (wide enough for its review marks) and W/L on the left,
        the inspector and panels tabbed on the right with Models (else the Inspector) in front."""
        width = self.width()
        left = max(230, width // 6)  # the image list with its review marks
        right_docks = [d for d in self.findChildren(QDockWidget) if self.dockWidgetArea(d) == Qt.RightDockWidgetArea]
        def need(dock) -> int:
            inner = self.panel_widget(dock)
            inner = inner.widget() if isinstance(inner, QScrollArea) and inner.widget() is not None else inner
            return inner.minimumSizeHint().width() + 24

        wanted = max([width // 4] + [need(d) for d in right_docks])
        right = max(min(wanted, width // 2 - left - 8), 200)  # the canvas keeps half the window
        self.resizeDocks([images_dock, inspector_dock], [left, right], Qt.Horizontal)
        wl_height = self.wl_panel.sizeHint().height() + 24  # its title bar
        column = max(self.height() - 80, 300)  # the menu and status bars take the rest
        boxes = self.findChild(QDockWidget, "dock_Boxes")
        if boxes is not None and self.dockWidgetArea(boxes) == Qt.LeftDockWidgetArea:
            boxes_height = max(110, column // 5)  # a few rows of the current image's boxes
            images = max(column - wl_height - boxes_height, 200)  # the list gets the most
            self.resizeDocks([images_dock, wl_dock, boxes], [images, wl_height, boxes_height], Qt.Vertical)
        else:
            self.resizeDocks([images_dock, wl_dock], [max(column - wl_height, 200), wl_height], Qt.Vertical)
        front = getattr(getattr(self, "model_panel", None), "dock", None) or inspector_dock
        front.raise_()
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, front.raise_)  # the tab bar exists once the window is shown

    def _connect_welcome(self) -> None:
        from desktop.ui.viewer.actions import choose_folder, open_samples

        self.welcome.open_folder.connect(lambda: choose_folder(self))
        self.welcome.open_samples.connect(lambda: open_samples(self))
        self.welcome.open_recent.connect(self.open_folder)

    def _install_extensions(self) -> None:
        """The panels (box editor, models, training); a broken one is reported, not fatal."""
        import logging

        from desktop.ui.extensions import install_all

        try:
            self.extensions = install_all(self)
        except Exception as exc:  # one broken panel must not keep the viewer from opening
            logging.getLogger(__name__).exception("installing the panels failed")
            self.notify("A panel failed to load; the viewer works without it",
                        details=f"{type(exc).__name__}: {exc}", level="error")

    # ----- the seam -------------------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        return self._folder

    def current_path(self) -> str | None:
        return self._current

    def current_image(self):
        """The decoded image on screen (a desktop.core.imaging.LoupeImage) or None."""
        return self._image

    def current_frame(self) -> int:
        return self._frame

    def current_rgb(self):
        """RGB uint8 (H, W, 3) as shown: current window, polarity and frame; None without image."""
        if self._image is None:
            return None
        return self._image.display(self.wl.effective(), self._frame, self.wl.invert_flag())

    def image_paths(self) -> list[str]:
        return list(self.image_list.model.paths)

    def selected_paths(self) -> list[str]:
        return self.image_list.selected_paths()

    def menu(self, name: str) -> QMenu:
        """The menu `name`, created on demand; File, Edit, View, Models, Train, Help keep that order."""
        return self._menus.get(name)

    def add_panel(self, title: str, widget, area=Qt.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName("dock_" + "".join(ch for ch in title if ch.isalnum()))
        dock.setWidget(widget if isinstance(widget, QAbstractScrollArea) else _scrolled(widget))
        self.addDockWidget(area, dock)
        same_side = [d for d in self.findChildren(QDockWidget)
                     if d is not dock and self.dockWidgetArea(d) == area and not d.isFloating()]
        if area == Qt.RightDockWidgetArea and len(same_side) >= 1:
            self.tabifyDockWidget(same_side[-1], dock)
        self.menu("View").addAction(dock.toggleViewAction())
        return dock

    def panel_widget(self, dock: QDockWidget):
        """The widget given to add_panel (docks hold it inside a scroll area)."""
        inner = dock.widget()
        return inner.widget() if isinstance(inner, QScrollArea) and inner.property("loupe_wrapper") else inner

    def notify(self, text: str, details: str | None = None, level: str = "info") -> None:
        """A non-modal message in the status bar ('info', 'warning' or 'error')."""
        self.notifications.notify(text, details, level)

    # ----- folders --------------------------------------------------------------------------------
    def open_folder(self, path, show: str | None = None) -> bool:
        folder = Path(path).expanduser()
        if folder.is_file():
            folder, show = folder.parent, str(folder.resolve())
        if not folder.is_dir():
            self.notify(f"Cannot open {folder}: not a folder", level="error")
            return False
        folder = folder.resolve()
        if self._scan is not None:
            self._scan.cancel()
        self._generation += 1
        self._folder, self._current, self._image, self._wanted = folder, None, None, None
        self._show_first = show
        self.cache.clear()
        self.centre.setCurrentWidget(self.view_area)
        self.image_list.model.reset(str(folder))
        self.canvas.show_message("Listing images…")
        self.inspector.show_meta(None)
        self.wl.user, self.wl.invert, self.wl.locked = saved.load_window_level(self.settings, str(folder))
        saved.add_recent_folder(self.settings, str(folder))
        self.setWindowTitle(f"{folder.name} — Loupe")
        self._scan = FolderScanJob(folder, self._generation)
        self._scan.signals.batch.connect(self._scan_batch)
        self._scan.signals.finished.connect(self._scan_finished)
        self._scan_pool.start(self._scan)
        self.folder_opened.emit(str(folder))
        return True

    def _scan_batch(self, payload) -> None:
        generation, paths, names, folded = payload
        if generation != self._generation:
            return
        model = self.image_list.model
        first_new = len(model.paths)
        if model.root == str(self._folder):  # the worker's names are relative to this folder
            model.append(paths, names, folded)
        else:
            model.append(paths)
        if self._current is None and self._wanted is None:
            target = self._show_first if self._show_first in paths else (None if self._show_first else paths[0])
            if target:  # decoded in the worker like a step, not here: the loop keeps running (0123)
                self._wanted = target
                self.image_list.select_path(target)
                self.canvas.show_message(f"Opening {os.path.basename(target)}…")
                self.cache.request(target)
        elif model.row_of.get(self._current, -10) >= first_new - PREFETCH_AHEAD:
            self._prefetch_neighbours(self._current)  # the image shown first now has neighbours

    def _scan_finished(self, generation: int) -> None:
        if generation != self._generation:
            return
        n = len(self.image_list.model.paths)
        if n == 0:
            self.canvas.show_message(f"No images in {self._folder}")
        elif self._current is None and self._wanted is None:  # the file asked for was not listed
            self._wanted = self.image_list.model.paths[0]
            self.cache.request(self._wanted)
        refused = list(self._scan.refused) if self._scan is not None else []
        if refused:  # names Qt would change: never shown under another file's name (decision 0118)
            self.notify(f"{n} image{'s' if n != 1 else ''} in {self._folder}; {len(refused)} file(s) left out: "
                        "their names are not valid UTF-8 text (rename them to open them)",
                        details="\n".join(ascii(p)[1:] for p in refused), level="warning")
            return
        self.notify(f"{n} image{'s' if n != 1 else ''} in {self._folder}")

    # ----- images ---------------------------------------------------------------------------------
    def show_image(self, path) -> bool:
        """Show `path`; a file that cannot be read is marked in the list and explained."""
        path = os.path.abspath(str(path))
        self._wanted = None  # whatever the keys asked for before, this one is shown now
        image = self.cache.get(path)
        error = self.cache.error(path)
        if image is None and error is None:
            try:
                image = read_image(path)
                self.cache.put(path, image)
            except ImageReadError as exc:
                error = exc.reason
        self._current, self._image, self._frame = path, image, 0
        self.image_list.select_path(path)
        if image is not None:
            try:
                self.wl.set_image(image, path)
                self.view_area.set_frames(image.n_frames)
                self._render(new_image=True)
            except Exception as exc:  # a renderer bug on odd data: explained like a bad file, not raised
                error = f"cannot be displayed ({type(exc).__name__}: {exc})"
                self._image = image = None
        self.burned_in.show_for(None if image is None else image.meta)
        if image is None:
            self.image_list.model.mark_bad(path, error)
            self.canvas.show_message(f"{os.path.basename(path)} cannot be shown:\n{error}")
            self.inspector.show_meta({"File": os.path.basename(path), "Folder": os.path.dirname(path)}, error)
            self.view_area.set_frames(1)
            self.wl.set_image(None, path)
            self.notify(f"{os.path.basename(path)} cannot be shown", details=f"{path}\n\n{error}", level="warning")
        else:
            self.inspector.show_meta(image.meta)
            self.wl_panel.refresh()
        self._prefetch_neighbours(path)
        self.current_image_changed.emit(path)
        return image is not None

    def go_next(self) -> None:
        """Show the next image in the list as filtered, now (decoded here if not prefetched)."""
        target = self.image_list.neighbour(self._current, +1)
        if target:
            self.show_image(target)

    def go_first(self) -> None:
        paths = self.image_list.visible_paths()
        if paths and paths[0] != self._current:
            self.show_image(paths[0])

    def go_last(self) -> None:
        paths = self.image_list.visible_paths()
        if paths and paths[-1] != self._current:
            self.show_image(paths[-1])

    def go_previous(self) -> None:
        target = self.image_list.neighbour(self._current, -1)
        if target:
            self.show_image(target)

    def step(self, delta: int) -> None:
        """The keys' next/previous: a prefetched image shows at once; otherwise the list moves
        now and the image is decoded in the worker, the latest request winning, so a held key
        never queues decodes (docs/decisions/0106-held-keys-coalesce.md)."""
        base = self._wanted or self._current
        target = self.image_list.neighbour(base, delta)
        if not target or target == base:
            return
        if self.cache.get(target) is not None or self.cache.error(target) is not None:
            self.show_image(target)
            return
        self._wanted = target
        self.image_list.select_path(target)  # the list follows the key at once
        self.cache.request(target)

    def step_next(self) -> None:
        self.step(+1)

    def step_previous(self) -> None:
        self.step(-1)

    def _decoded(self, path: str) -> None:
        if path == self._wanted:
            self.show_image(path)

    def _prefetch_neighbours(self, path: str) -> None:
        self.cache.prefetch(self.image_list.around(path, prefetch_offsets()))

    def _render(self, new_image: bool = False) -> None:
        if self._image is None:
            return
        raw = self._image.raw(self._frame)
        out = self.canvas.buffer_for(raw.shape if raw.ndim == 3 else raw.shape[:2])
        self._image.render(self.wl.effective(), self._frame, self.wl.invert_flag(), out=out)
        self.canvas.present(new_image=new_image)

    def _frame_changed(self, frame: int) -> None:
        if self._image is not None and frame != self._frame:
            self._frame = self.wl.frame = frame
            self._render()

    def _save_window_level(self) -> None:
        if self._folder is not None:
            saved.save_window_level(self.settings, str(self._folder), self.wl.user, self.wl.invert,
                                    self.wl.locked)

    # ----- drops, closing ------------------------------------------------------------------------
    @guarded("dragging files onto the window")
    def dragEnterEvent(self, event):
        drops.accept_drag(event)

    @guarded("dropping files onto the window")
    def dropEvent(self, event):
        drops.open_drop(self, event)

    @guarded("closing the window")
    def closeEvent(self, event):
        saved.save_window(self, self.settings)
        for child in self.findChildren(QWidget):  # details and help windows close with the window
            if child.isWindow() and child.isVisible():
                child.close()
        if self._scan is not None:
            self._scan.cancel()
        super().closeEvent(event)


def _scrolled(widget) -> QScrollArea:
    """A dock's content inside a frameless scroll area: however wide a label inside wants to be,
    it can never widen the dock (docs/decisions/0103-layout-never-collapses.md)."""
    area = QScrollArea()
    area.setProperty("loupe_wrapper", True)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # a few clipped pixels beat a scroll bar
    area.setWidget(widget)
    return area
