"""A stand-in training child for the supervisor tests: speaks the real protocol (models.training.
progress) and honours the real stop flag. Usage: training_child.py MODE OUT STOP_FILE
MODE: ok | slow (steps until stopped) | crash | abort | ignore-stop (never stops politely) |
hang (ignores the stop file and SIGINT, never ends, and starts a grandchild `sleep` in its group)."""

import os
import signal
import sys
import time

from models.training.progress import Progress, StopFlag, TrainingCancelled

mode, out, stop_file = sys.argv[1], sys.argv[2], sys.argv[3]
progress = Progress.for_child("jsonl")
stop = StopFlag(stop_file)
if mode in ("ignore-stop", "hang"):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
else:
    stop.install_signal_handlers()
print("library noise on stdout goes to stderr")
progress.emit("start", task="test", epochs=3, steps_per_epoch=4, device="cpu", out=out)
if mode == "hang":
    import subprocess
    from pathlib import Path

    Path(out).mkdir(parents=True, exist_ok=True)  # what a real run has written by then
    (Path(out) / "metrics.jsonl").write_text('{"event": "start"}\n')

    grandchild = subprocess.Popen(["sleep", "120"])
    progress.emit("log", message=f"grandchild {grandchild.pid}")
    while True:
        time.sleep(0.2)
        progress.emit("step", epoch=1, step=1, steps=4, loss=0.5, eta_s=34000.0)
try:
    for epoch in range(1, 4):
        for step in range(1, 5):
            time.sleep(0.05 if mode == "ok" else 0.2)
            progress.emit("step", epoch=epoch, step=step, steps=4, loss=1.0 / (epoch * step), eta_s=1.0)
            if mode == "crash" and epoch == 2:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            if mode == "abort" and epoch == 2:
                sys.stderr.write("about to die hard\n")
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            if mode != "ignore-stop":
                stop.check()
        progress.emit("epoch", epoch=epoch, epochs=3, train_loss=1.0 / epoch, val_loss=1.2 / epoch,
                      metrics={"map50": 0.1 * epoch})
except TrainingCancelled:
    progress.emit("cancelled", out=out)
    sys.exit(3)
except RuntimeError as exc:
    progress.emit("error", message=str(exc), kind="oom")
    raise
progress.emit("done", out=out, card=os.path.join(out, "model.json"), metrics={"map50": 0.3})
