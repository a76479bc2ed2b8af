"""Errors a user can act on. Their message names the file and the reason; the CLI prints it as is
and the app shows it in a notification, never a traceback."""


class LoupeError(Exception):
    """Base class of every error whose message is meant for the user."""


class WeightsError(LoupeError):
    """A weights file is missing, truncated, unsafe or of the wrong architecture."""


class ModelSpecError(LoupeError):
    """A model spec (preset name, card, or weights file) cannot be resolved."""
