"""Torch threads per assist task (decision 0127): the policy's numbers, the torch behaviour it relies on
(a thread's count is its own), and what the window's engine and the folder run really use: the count
seen inside a prompt while the next image's embedding runs ahead, and when none runs."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from thread_helpers import in_thread

from desktop.core.refine_threads import AHEAD, PROMPT, SHOWN, ThreadPolicy, set_thread_count, threads_for

WAIT = 30000

# decision 0127 / the brief, written out: (cores, kind, threads of the embeddings running) -> threads
POLICY = [
    (1, SHOWN, 0, 1), (1, AHEAD, 0, 1), (1, PROMPT, 0, 1), (1, PROMPT, 1, 1),
    (2, SHOWN, 0, 2), (2, AHEAD, 0, 1), (2, PROMPT, 0, 2), (2, PROMPT, 1, 1), (2, PROMPT, 2, 1),
    (8, SHOWN, 0, 8), (8, AHEAD, 0, 7), (8, PROMPT, 0, 8), (8, PROMPT, 7, 1), (8, PROMPT, 8, 1),
    (8, PROMPT, 4, 4), (8, PROMPT, 11, 1),
]


@pytest.mark.parametrize("cores, kind, running, want", POLICY)
def test_the_policy_gives_each_task_its_threads(cores, kind, running, want):
    assert threads_for(kind, cores, running) == want


def test_an_ahead_embedding_with_no_core_spare_leaves_prompts_one():
    assert [threads_for(AHEAD, c, ahead_spare=0) for c in (1, 2, 8)] == [1, 2, 8]
    policy = ThreadPolicy(cores=8, ahead_spare=0)
    with policy.task(AHEAD) as n:
        assert n == 8 and in_thread(lambda: policy.threads(PROMPT)) == 1


def test_an_unknown_kind_of_work_is_named():
    with pytest.raises(ValueError, match="unknown kind of work 'decode'"):
        threads_for("decode", 4)



def test_a_prompt_takes_the_cores_a_running_embedding_leaves():
    policy = ThreadPolicy(cores=8)
    assert policy.threads(PROMPT) == 8 and policy.embedding_threads() == 0
    inside, release = threading.Event(), threading.Event()

    def embed(kind):
        with policy.task(kind) as n:
            inside.set()
            release.wait(10)
        return n

    for kind, used, left in ((AHEAD, 7, 1), (SHOWN, 8, 1)):
        inside.clear(), release.clear()
        t = threading.Thread(target=embed, args=(kind,))
        t.start()
        assert inside.wait(10)
        assert policy.embedding_threads() == used
        assert in_thread(lambda: policy.threads(PROMPT)) == left
        release.set()
        t.join()
        assert policy.embedding_threads() == 0 and policy.threads(PROMPT) == 8
    with policy.task(PROMPT) as n:  # a prompt is not counted as an embedding
        assert n == 8 and policy.embedding_threads() == 0


def test_disabled_leaves_torch_alone():
    import torch

    policy = ThreadPolicy(cores=8, enabled=False)
    before = torch.get_num_threads()
    with policy.task(AHEAD) as n:
        assert n is None and torch.get_num_threads() == before and policy.embedding_threads() == 0


def _counts():
    """This thread's OpenMP and MKL thread counts as torch reports them (MKL: when built with it)."""
    import torch

    info = torch.__config__.parallel_info()
    return {k: int(v) for k, v in re.findall(r"(omp_get_max_threads|mkl_get_max_threads)\(\) : (\d+)", info)}


def test_torch_thread_counts_belong_to_the_thread_that_sets_them():
    """What the policy relies on. If a torch upgrade makes set_num_threads process-wide again, this
    fails, and the workers' counts (decision 0127) must be rethought."""
    import torch

    got, ready, go = {}, threading.Event(), threading.Event()

    def b():  # an initialised thread that has run a parallel op with 2 threads
        torch.get_num_threads()
        torch.set_num_threads(2)
        a = torch.randn(256, 256)
        _ = a @ a
        ready.set()
        go.wait(10)
        got["b"] = (torch.get_num_threads(), _counts())

    tb = threading.Thread(target=b)
    tb.start()
    assert ready.wait(10)

    def a():
        set_thread_count(1)
        return torch.get_num_threads(), _counts()

    got["a"] = in_thread(a)
    go.set()
    tb.join()
    assert got["a"][0] == 1 and set(got["a"][1].values()) == {1}
    assert got["b"][0] == 2 and set(got["b"][1].values()) == {2}, got
    assert "omp_get_max_threads" in got["b"][1]


def test_a_thread_initialised_before_setting_keeps_its_count_when_another_sets_later():
    """Why set_thread_count asks torch first: a thread that has not run a parallel op yet takes the
    process default (the last count set anywhere) at its first one, over its own setting."""
    import torch

    results = {}
    for initialise in (False, True):
        set_here, other_done = threading.Event(), threading.Event()

        def worker(initialise=initialise, set_here=set_here, other_done=other_done):
            if initialise:
                set_thread_count(1)
            else:
                torch.set_num_threads(1)
            set_here.set()
            other_done.wait(10)
            results[initialise] = torch.get_num_threads()

        t = threading.Thread(target=worker)
        t.start()
        assert set_here.wait(10)
        in_thread(lambda: set_thread_count(3))
        other_done.set()
        t.join()
    assert results[True] == 1
    assert results[False] == 3  # torch's lazy per-thread start; if this changes, the guard is not needed


def test_a_task_puts_back_torch_default_for_threads_started_later():
    import torch

    default = in_thread(torch.get_num_threads)
    policy = ThreadPolicy(cores=default + 2)
    with policy.task(SHOWN) as n:
        assert n == default + 2 and torch.get_num_threads() == n
    assert torch.get_num_threads() == in_thread(torch.get_num_threads) == policy._default


# -- through the real engine and the folder run, a tiny random SAM ----------------------------------

@pytest.fixture(scope="module")
def sam(tmp_path_factory):
    from models import load_model
    from models.segmentation.tiny import write_tiny_folder

    folder = write_tiny_folder(tmp_path_factory.mktemp("threads") / "sam", "sam", "sam", image_size=64, seed=3,
                               hidden=16)
    return load_model("sam-vit-base", weights=folder, device="cpu")


@pytest.fixture
def default_3():
    """torch's process default at 3 threads (what new threads start with), so that a task that set
    nothing is told apart from one the policy set to 1; put back afterwards."""
    import torch

    before = in_thread(torch.get_num_threads)
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(before)


class Recorder:
    """Wraps a model: the torch threads seen inside each embed / prompt, by image; the embedding of
    the images in `hold` waits until `release` is set (an embedding that runs while we prompt)."""

    def __init__(self, model, rgbs, hold=()):
        import torch

        self.model, self.seen = model, []
        self.names = {id(v): k for k, v in rgbs.items()}
        self.hold = set(hold)
        self.holding, self.release = threading.Event(), threading.Event()
        self._torch = torch

    def __getattr__(self, name):
        return getattr(self.model, name)

    def embed(self, rgb):
        name = self.names.get(id(rgb), "?")
        self.seen.append(("embed", name, self._torch.get_num_threads()))
        if name in self.hold:
            self.holding.set()
            assert self.release.wait(30)
        return self.model.embed(rgb)

    def prompt(self, emb, **kw):
        self.seen.append(("prompt", self._torch.get_num_threads()))
        return self.model.prompt(emb, **kw)


def _images():
    rng = np.random.default_rng(0)
    return {k: rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for k in ("a.png", "b.png")}


@pytest.mark.gui
def test_the_engine_prompt_takes_what_the_ahead_embedding_leaves(qtbot, sam, default_3):
    import torch

    from desktop.ui.editor.assist.engine import AssistEngine

    rgbs = _images()
    model = Recorder(sam, rgbs, hold={"b.png"})
    engine = AssistEngine(read=lambda p: rgbs[p], threads=ThreadPolicy(cores=4))
    engine.model, engine.model_key, engine.model_name = model, "test:sam", "sam-vit-base"
    try:
        engine.show("a.png", "b.png")  # a on screen, b computed ahead (held open until released)
        qtbot.waitUntil(lambda: engine.embedding("a.png") is not None and model.holding.is_set(), timeout=WAIT)
        assert model.seen == [("embed", "a.png", 4), ("embed", "b.png", 3)]

        with qtbot.waitSignal(engine.prompted, timeout=WAIT):
            engine.prompt("a.png", [(30, 30, 1)])
        with qtbot.waitSignal(engine.refined, timeout=WAIT):
            engine.refine("a.png", {1: (10.0, 10.0, 30.0, 30.0), 2: (5.0, 5.0, 20.0, 20.0)})
        assert model.seen[2:] == [("prompt", 1)] * 3  # 4 cores - 3 of the ahead embedding

        model.release.set()
        qtbot.waitUntil(lambda: engine.embedding("b.png") is not None, timeout=WAIT)
        del model.seen[:]
        with qtbot.waitSignal(engine.prompted, timeout=WAIT):
            engine.prompt("a.png", [(20, 40, 1)])
        with qtbot.waitSignal(engine.refined, timeout=WAIT):
            engine.refine("a.png", {1: (10.0, 10.0, 30.0, 30.0)})
        assert model.seen == [("prompt", 4)] * 2  # no embedding runs: every core
        assert in_thread(torch.get_num_threads) == 3  # torch's default is back for new threads
    finally:
        model.release.set()
        assert engine.wait(WAIT)


def test_the_folder_run_leaves_a_core_and_its_prompts_share(sam, default_3):
    from desktop.core.refine import refine_folder
    from desktop.jobs.core import JobContext, run_job

    rgbs = _images()
    model = Recorder(sam, rgbs)
    policy = ThreadPolicy(cores=4)
    work = [("a.png", [(1, (10.0, 10.0, 30.0, 30.0))]), ("b.png", [(2, (5.0, 5.0, 40.0, 40.0))])]
    items = []
    ctx = JobContext(on_progress=lambda p: None, on_publish=items.append)
    assert run_job(refine_folder(model, work, read=rgbs.__getitem__, threads=policy), ctx).error is None
    assert len(items) == 2 and not any(i.error for i in items)
    assert model.seen == [("embed", "a.png", 3), ("prompt", 4), ("embed", "b.png", 3), ("prompt", 4)]

    del model.seen[:]
    inside, release = threading.Event(), threading.Event()

    def window_embedding():  # the window's embedding of the image on screen runs meanwhile
        with policy.task(SHOWN):
            inside.set()
            release.wait(30)

    t = threading.Thread(target=window_embedding)
    t.start()
    assert inside.wait(10)
    try:
        run_job(refine_folder(model, work[:1], read=rgbs.__getitem__, threads=policy), ctx)
    finally:
        release.set()
        t.join()
    assert model.seen == [("embed", "a.png", 3), ("prompt", 1)]


@pytest.mark.gui
def test_an_embedding_that_ends_after_its_engine_is_deleted_is_dropped_quietly(qtbot, sam):
    # the window closed while the next image's embedding ran: its result has nowhere to go
    import shiboken6

    from desktop.ui.editor.assist.engine import AssistEngine

    rgbs = _images()
    model = Recorder(sam, rgbs, hold={"b.png"})
    engine = AssistEngine(read=lambda p: rgbs[p], threads=ThreadPolicy(cores=2))
    engine.model, engine.model_key, engine.model_name = model, "test:sam", "sam-vit-base"
    pool = engine.embed_pool
    pool.setParent(None)  # kept alive (as a window's pool can outlive it) so the task ends after the engine
    engine.show("a.png", "b.png")
    qtbot.waitUntil(lambda: model.holding.is_set(), timeout=WAIT)
    with qtbot.capture_exceptions() as caught:
        shiboken6.delete(engine)
        model.release.set()
        assert pool.waitForDone(WAIT)
        qtbot.wait(50)
    assert caught == []
