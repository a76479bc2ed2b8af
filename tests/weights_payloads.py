"""Objects whose unpickling would have a side effect: used to prove that Loupe never runs them."""

from __future__ import annotations

import os
from pathlib import Path


def touch(path: str) -> None:
    Path(path).write_text("the pickle payload ran")


class CreatesFile:
    """Unpickling this calls os.system and creates a file: the classic malicious checkpoint."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class LightningConfig:
    """Stands for a Lightning `hyper_parameters` object; building it back would create a file."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (touch, (self.target,))


class Opens:
    """Unpickling this calls builtins.open and writes a file (`open` is refused like os.system)."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


class Evaluates:
    """Unpickling this calls builtins.eval on a string that creates a file."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (eval, (f"__import__('pathlib').Path({self.target!r}).write_text('ran')",))


class GetsAttribute:
    """Unpickling this calls builtins.getattr (the usual step towards os.system without naming os)."""

    def __reduce__(self):
        return (getattr, (str, "join"))
