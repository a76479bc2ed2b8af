"""Which devices this machine offers models, asked of a child process (`loupe devices --json`).

`import torch` loads hundreds of megabytes of shared libraries while holding the GIL; in the
window's process that froze the event loop for up to half a second a few seconds after start, even
on a worker thread (docs/decisions/0121-device-probe-in-a-child-process.md). The child imports
torch and prints the devices as JSON; the window only reads a line of text. One probe per
application: the Models and Training panels both listen to it. torch then loads in the window's
process only with a model.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

CPU_ONLY = [("cpu", "CPU")]
TIMEOUT_MS = 180_000  # torch's first import on a loaded machine can take a minute


def probe_command() -> list[str]:
    """The child's command line: the same executable (works in a frozen app too)."""
    cmd = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "desktop"]
    return [*cmd, "devices", "--json"]


def parse_devices(text: str) -> list[tuple[str, str]]:
    """The child's output -> [(id, label), ...] best first; the CPU alone when it says nothing usable."""
    for line in reversed(text.splitlines()):  # the last JSON line: torch may print warnings first
        line = line.strip()
        if not line.startswith("["):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        devices = [(str(d[0]), str(d[1])) for d in data if isinstance(d, list) and len(d) == 2]
        if devices:
            return devices
    return list(CPU_ONLY)


class DeviceProbe(QObject):
    """`start()` runs the child once; `found` carries its devices ([("cpu", "CPU")] when the child
    fails: models then run on the CPU, which is always there)."""

    found = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.devices: list[tuple[str, str]] | None = None
        self.error = ""
        self.process: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._timed_out)

    def start(self) -> None:
        if self.process is not None or self.devices is not None:
            return
        cmd = probe_command()
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._failed)
        if not getattr(sys, "frozen", False):  # `-m desktop` finds this checkout, wherever Loupe started
            self.process.setWorkingDirectory(str(Path(__file__).resolve().parents[2]))
        self.process.start(cmd[0], cmd[1:])
        self._timer.start(TIMEOUT_MS)

    def _output(self) -> str:
        return bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")

    def _finished(self, code: int, _status) -> None:
        if self.devices is not None:
            return
        text = self._output()
        if code != 0:
            err = bytes(self.process.readAllStandardError()).decode("utf-8", "replace").strip()
            self.error = f"the device check exited with status {code}: {err[-500:]}"
            log.warning("%s", self.error)
        self._deliver(parse_devices(text))

    def _failed(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.devices is None:
            self.error = f"the device check could not start: {self.process.errorString()}"
            log.warning("%s", self.error)
            self._deliver(list(CPU_ONLY))

    def _timed_out(self) -> None:
        if self.devices is None:
            self.error = f"the device check gave no answer in {TIMEOUT_MS // 1000} s"
            log.warning("%s", self.error)
            self.process.kill()
            self._deliver(list(CPU_ONLY))

    def _deliver(self, devices) -> None:
        self._timer.stop()
        self.devices = devices
        self.found.emit(devices)

    def stop(self) -> None:
        """At quit: a child still importing torch is not waited for."""
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.process.waitForFinished(2000)


def shared_probe() -> DeviceProbe:
    """The application's one probe (not started: `when_found` or `start()` starts it)."""
    app = QApplication.instance()
    probe = getattr(app, "_loupe_device_probe", None)
    if probe is None:
        probe = DeviceProbe(app)
        app._loupe_device_probe = probe
        app.aboutToQuit.connect(probe.stop)
    return probe


def when_found(receiver: QObject, slot, delay_ms: int = 0) -> DeviceProbe:
    """Call `slot(devices)` once the devices are known (now when they already are), starting the
    probe after `delay_ms` (let the first window paint and the first image show). `slot` should be
    a method of `receiver` (a QObject): Qt then drops the connection when `receiver` goes."""
    probe = shared_probe()
    if probe.devices is not None:
        slot(probe.devices)
        return probe
    probe.found.connect(slot)
    QTimer.singleShot(delay_ms, probe.start)
    return probe
