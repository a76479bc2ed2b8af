"""Small dialogs of the label list: what happens to a deleted category's boxes, and a category to
merge into. Each returns its choice; the label panel turns it into an undoable command."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)


class DeleteCategoryDialog(QDialog):
    """Delete a category: delete its boxes, move them to another category, or only delete it when
    it has none (refuse). Nothing is preselected that loses boxes."""

    def __init__(self, name: str, shown: int, deleted: int, others: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Delete label {name}")
        layout = QVBoxLayout(self)
        kept = f" and {deleted} deleted box(es) kept as corrections" if deleted else ""
        layout.addWidget(QLabel(f"{name!r} has {shown} box(es){kept}. What happens to them?", self))
        self.refuse = QRadioButton("Only delete the label if it has no boxes", self)
        self.move = QRadioButton("Move its boxes to:", self)
        self.target = QComboBox(self)
        self.target.addItems(others)
        self.delete = QRadioButton("Delete its boxes too", self)
        self.group = QButtonGroup(self)
        for button in (self.refuse, self.move, self.delete):
            self.group.addButton(button)
        self.refuse.setChecked(True)
        self.move.setEnabled(bool(others))
        self.target.setEnabled(bool(others))
        self.target.currentIndexChanged.connect(lambda _i: self.move.setChecked(True))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (self.refuse, self.move, self.target, self.delete, buttons):
            layout.addWidget(widget)

    def choice(self) -> tuple[str, str | None]:
        """(store box policy, category receiving the boxes or None)."""
        if self.move.isChecked():
            return "reassign", self.target.currentText()
        if self.delete.isChecked():
            return "delete_boxes", None
        return "refuse", None
