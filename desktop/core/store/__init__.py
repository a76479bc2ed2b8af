"""The annotation store: one SQLite database per image folder (no Qt)."""

from desktop.core.store.errors import StoreError, StoreReadOnlyError, StoreWriteError
from desktop.core.store.records import Box, Category, ImageRecord
from desktop.core.store.schema import BOX_STATES, REVIEW_STATUSES, SCHEMA_VERSION
from desktop.core.store.store import AnnotationStore, open_store

__all__ = [
    "AnnotationStore", "open_store", "Box", "Category", "ImageRecord", "StoreError", "StoreWriteError",
    "StoreReadOnlyError",
    "BOX_STATES", "REVIEW_STATUSES", "SCHEMA_VERSION",
]
