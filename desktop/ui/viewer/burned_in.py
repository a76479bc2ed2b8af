"""The banner above the image when its pixels may show a patient's name or ID (burned-in text):
the DICOM says Burned In Annotation = YES, or its modality (US, SC, OT) commonly carries such
text. The reason comes from desktop.core.phi.burned_in_warning through the image's facts."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy

BURNED_IN_FACT = "Burned-in text"


class BurnedInBanner(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("burnedInBanner")
        self.setWordWrap(True)
        # at most two lines: it never takes the image's room, even in a narrow window (the tooltip
        # holds the whole text)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Maximum)
        self.setMaximumHeight(2 * self.fontMetrics().lineSpacing() + 12)
        self.setStyleSheet("QLabel#burnedInBanner { background: #5a4410; color: #ffe7a8; "
                           "border-bottom: 1px solid #e0b050; padding: 4px 8px; }")
        self.hide()

    def show_for(self, meta: dict | None) -> None:
        """Show the warning for an image's facts (hidden when they give no reason)."""
        reason = (meta or {}).get(BURNED_IN_FACT)
        if not reason:
            self.hide()
            return
        self.setText(f"⚠ The pixels may show the patient's name or ID: {reason}")
        self.setToolTip(f"{reason}.\nLoupe hides identifying DICOM tags, but it cannot hide text that is part "
                        "of the image itself: check the image before sharing a screenshot or an export of "
                        "its pixels.")
        self.show()
