"""How many torch threads each piece of segment-anything work gets (decision 0127; no Qt, no torch at
import: torch is imported inside `apply`, which only workers call, decision 0107).

Assist mode runs two workers at once by design: the embedding worker (the image on screen, then the
next image's embedding computed ahead) and the prompt worker (clicks, F, Refine all). Left at torch's
default both use every core, and on a small machine they oversubscribe it: a prompt measured 980 ms
under load against ~45 ms on a quiet core pair. The policy:

- the embedding of the image on screen: every core (the user waits for it; no prompt can run yet);
- an embedding computed ahead, or other heavy background work (a folder run's embeddings and its
  detector): `max(1, cores - 1)`, leaving a core to prompts and the GUI;
- a prompt or a refinement: every core when no embedding runs at that moment, else
  `max(1, cores - the threads the running embeddings use)`.

`torch.set_num_threads` is per calling thread with torch's OpenMP backend (OpenMP's and MKL's counts
of that thread; tests/test_refine_threads.py checks it): a thread keeps its count whatever other
threads set later, and a thread that has not run a parallel op yet takes torch's process default,
the value last set anywhere, at its first one. So `set_thread_count` first lets torch initialise the
calling thread (`get_num_threads`), then sets its count; every task sets it at its start (pool
threads expire and new ones start with the process default), and puts torch's default back at its
end, so other jobs on the same pools, and threads started later, get torch's default as before.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SHOWN = "shown"  # the embedding of the image on screen
AHEAD = "ahead"  # an embedding computed ahead, or other heavy background work
PROMPT = "prompt"  # a prompt or a refinement on a cached embedding


def threads_for(kind: str, cores: int, embedding_threads: int = 0, ahead_spare: int = 1) -> int:
    """The torch threads for work of `kind` on a machine of `cores`, while embeddings using
    `embedding_threads` threads in all run (0: none); an embedding ahead leaves `ahead_spare` cores."""
    cores = max(1, int(cores))
    if kind == SHOWN:
        return cores
    if kind == AHEAD:
        return max(1, cores - ahead_spare)
    if kind == PROMPT:
        return cores if embedding_threads <= 0 else max(1, cores - embedding_threads)
    raise ValueError(f"unknown kind of work {kind!r}: expected {SHOWN!r}, {AHEAD!r} or {PROMPT!r}")


def torch_default_threads() -> int:
    """torch's own default intra-op thread count in this process (physical cores, or OMP_NUM_THREADS /
    MKL_NUM_THREADS when set), read in a fresh thread before anything here sets a count."""
    import torch

    got = []
    t = threading.Thread(target=lambda: got.append(torch.get_num_threads()), name="torch-threads-probe")
    t.start()
    t.join()
    return max(1, got[0] if got else 1)


class ThreadPolicy:
    """The policy above with its bookkeeping: which embeddings run now, with how many threads.

    `cores`: the machine's count (tests inject one); None: torch's default, read at the first use.
    `enabled=False` leaves torch's default everywhere (the behaviour before decision 0127; the
    benchmark's comparison); `ahead_spare=0` lets an embedding ahead use every core too (prompts
    meanwhile still take one: the benchmark's third variant). Thread-safe: the embedding and prompt
    workers call it at once."""

    def __init__(self, cores: int | None = None, enabled: bool = True, ahead_spare: int = 1):
        self._cores = None if cores is None else max(1, int(cores))
        self.ahead_spare = max(0, int(ahead_spare))
        self._default: int | None = None  # torch's own default, put back after each task
        self.enabled = enabled
        self._lock = threading.Lock()
        self._running: dict[int, int] = {}  # token -> threads of an embedding running now
        self._tokens = itertools.count(1)

    def _probe(self) -> None:
        with self._lock:
            if self._default is None:
                self._default = torch_default_threads()
            if self._cores is None:
                self._cores = self._default

    @property
    def cores(self) -> int:
        self._probe()
        return self._cores

    def embedding_threads(self) -> int:
        """Threads the embeddings running now use, in all (0: none runs)."""
        with self._lock:
            return sum(self._running.values())

    def threads(self, kind: str) -> int:
        return threads_for(kind, self.cores, self.embedding_threads() if kind == PROMPT else 0, self.ahead_spare)

    @contextmanager
    def task(self, kind: str) -> Iterator[int | None]:
        """Around one task of `kind` in a worker: sets the calling thread's torch threads (the count
        is yielded; None when disabled), counts an embedding (SHOWN, AHEAD) as running until the
        block ends, so prompts meanwhile take the cores left, and then puts torch's default back
        (this thread's, and the one new threads start with: other jobs share these pools)."""
        from models.denormals import flush_denormals

        flush_denormals()  # before the task's first parallel op (decision 0155)
        if not self.enabled:
            yield None
            return
        n = self.threads(kind)
        token = None
        if kind != PROMPT:
            with self._lock:
                token = next(self._tokens)
                self._running[token] = n
        set_thread_count(n)
        try:
            yield n
        finally:
            if token is not None:
                with self._lock:
                    self._running.pop(token, None)
            set_thread_count(self._default)


def set_thread_count(n: int) -> None:
    """The calling thread's torch (OpenMP and MKL) thread count -> n, for its later ops."""
    import torch

    torch.get_num_threads()  # initialises this thread now: its first parallel op would reset the count
    torch.set_num_threads(int(n))
