"""What the centre of the window shows before a folder is open: what to do, as buttons (Open
folder…, Open sample folder, the recent folders that still exist)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

MAX_SHOWN = 6


class WelcomePage(QWidget):
    open_folder = Signal()  # Open folder… (a file dialog)
    open_samples = Signal()
    open_recent = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("welcome")
        self.title = QLabel("<h2>Open a folder of images</h2>"
                            "<p>DICOM, PNG, JPEG, TIFF, BMP and WebP, or drop a folder or file here.</p>", self)
        self.title.setAlignment(Qt.AlignCenter)
        self.title.setWordWrap(True)
        self.folder_button = QPushButton("Open folder…", self)
        self.samples_button = QPushButton("Open sample folder", self)
        for b in (self.folder_button, self.samples_button):
            b.setMinimumWidth(220)
        self.folder_button.setDefault(True)
        self.folder_button.clicked.connect(self.open_folder)
        self.samples_button.clicked.connect(self.open_samples)
        self.recent_title = QLabel("<b>Recent folders</b>", self)
        self.recent_title.setAlignment(Qt.AlignCenter)
        self.recent_box = QVBoxLayout()
        self.recent_buttons: list[QPushButton] = []
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        lay.addWidget(self.title)
        lay.addSpacing(12)
        for b in (self.folder_button, self.samples_button):
            lay.addWidget(b, 0, Qt.AlignHCenter)
        lay.addSpacing(18)
        lay.addWidget(self.recent_title)
        lay.addLayout(self.recent_box)
        lay.addStretch(3)

    def set_recent(self, folders: list[str]) -> None:
        for b in self.recent_buttons:
            b.deleteLater()
        self.recent_buttons = []
        for folder in folders[:MAX_SHOWN]:
            b = QPushButton(os.path.basename(folder.rstrip("/\\")) or folder, self)
            b.setFlat(True)
            b.setCursor(Qt.PointingHandCursor)
            b.setToolTip(folder)
            b.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; }")
            b.clicked.connect(lambda _=False, f=folder: self.open_recent.emit(f))
            self.recent_box.addWidget(b, 0, Qt.AlignHCenter)
            self.recent_buttons.append(b)
        self.recent_title.setVisible(bool(self.recent_buttons))
