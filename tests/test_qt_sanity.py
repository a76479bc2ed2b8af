"""Guards against a Qt binding that corrupts the interpreter (decision 0014)."""

import sys

import pytest

pytestmark = pytest.mark.gui


def test_repaints_do_not_drop_references_to_none(qtbot):
    from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
    from PySide6.QtWidgets import QLabel, QListView

    class Model(QAbstractListModel):
        def rowCount(self, parent=QModelIndex()):
            return 30

        def data(self, index, role=Qt.DisplayRole):
            return f"row {index.row()}" if role == Qt.DisplayRole else None

    label = QLabel("x")
    view = QListView()
    model = Model()
    view.setModel(model)
    for w in (label, view):
        qtbot.addWidget(w)
        w.show()
    before = sys.getrefcount(None)
    for _ in range(500):
        label.repaint()
        view.viewport().repaint()
    assert sys.getrefcount(None) >= before, "this PySide6 build drops references to None on repaint"
