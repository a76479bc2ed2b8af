"""Loupe's desktop application: viewer, box editor, model panel, training panel.

`desktop.core` holds everything that needs no Qt (decoding, the annotation store, import/export);
`desktop.ui` holds the Qt widgets; `desktop.jobs` runs work off the GUI thread.
"""

__version__ = "0.1.0"
