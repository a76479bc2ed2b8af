"""Errors of the annotation store; their messages name the database file and the reason."""

from __future__ import annotations

from models.errors import LoupeError


class StoreError(LoupeError):
    """The store cannot be opened or an operation on it is invalid."""


class StoreWriteError(StoreError):
    """A write could not be committed (locked, read-only, disk full). When the edit was queued in
    memory, `pending` says how many edits wait to be retried."""

    def __init__(self, message: str, pending: int = 0):
        super().__init__(message)
        self.pending = pending


class StoreReadOnlyError(StoreWriteError):
    """The store was opened read-only (the folder cannot be written): every edit is refused with
    this message, and nothing is written anywhere."""
