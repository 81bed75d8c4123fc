"""How `evalkit run` starts its workers (evalkit.run.preload) and the forkserver's warm-up
(evalkit.run.warm)."""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys
import time

import pytest

from evalkit.run import preload, render

REHEARSAL = "evalkit.run.rehearse"  # runs a made-up council's notebooks when imported


def test_workers_are_forked_on_linux_and_spawned_elsewhere(monkeypatch) -> None:
    assert preload.worker_context().get_start_method() == (
        "forkserver" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setattr(preload, "FORKSERVER", False)
    assert preload.worker_context().get_start_method() == "spawn"


def test_every_preloaded_module_imports() -> None:
    # the forkserver skips a module that fails to import without a word: check them here (the
    # rehearsal, which runs notebooks in the process importing it, in a process of its own)
    for name in preload.PRELOAD + preload.NATIONAL:
        if name != REHEARSAL:
            importlib.import_module(name)
    done = subprocess.run([sys.executable, "-c", REHEARSED], capture_output=True, text=True,
                          check=True)
    assert done.stderr == ""  # it rehearsed (each notebook succeeded) without a word
    assert done.stdout.split() == ["True"] * 5 + ["C"]


REHEARSED = f"""
import sys, threading
import pyarrow
from threadpoolctl import threadpool_info
from evalkit.report import text
def limits():
    return pyarrow.cpu_count(), {{i["num_threads"] for i in threadpool_info()}}
main, before, threads = sys.modules["__main__"], limits(), threading.active_count()
import {REHEARSAL}
from evalkit.run import inprocess
from evalkit.run.execute import CLEAR
print(text._size.cache_info().currsize > 100)  # it drew the charts
print(limits() == before, threading.active_count() == threads)  # nothing left for the forks
print(sys.modules["__main__"] is main)  # put back: a fork's start reads it
inprocess.prepare(CLEAR, {{}})  # a notebook's names are __main__'s again, as in a kernel
outputs, ok, _ = inprocess.shell().run("import pickle\\nclass C:\\n    pass\\n"
                                       "print(type(pickle.loads(pickle.dumps(C()))).__name__)")
print(ok, outputs[0].text)
"""


BROKEN_REHEARSAL = f"""
import evalkit.synth.generator as generator
def broken(*args, **kwargs):
    raise OSError("disk full\\nsecond line")
generator.synthesise = broken
import {REHEARSAL}
"""


def test_a_failed_rehearsal_is_reported_in_one_line_not_raised() -> None:
    done = subprocess.run([sys.executable, "-c", BROKEN_REHEARSAL], capture_output=True,
                          text=True, check=True)
    assert done.stderr.splitlines() == [
        "evalkit run: rehearsal failed (OSError: disk full); reports are still made, each a "
        "little more slowly"]


def test_a_failed_warm_up_is_reported_not_raised(monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise OSError("no templates")

    monkeypatch.setattr(render, "export_html", broken)
    monkeypatch.delitem(sys.modules, "evalkit.run.warm", raising=False)
    importlib.import_module("evalkit.run.warm")
    gc.unfreeze()  # the import froze this test process's objects, as it does the forkserver's
    assert "page warm-up skipped (OSError: no templates)" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver is Linux-only")
def test_forkserver_starts_in_the_background_and_workers_have_the_libraries() -> None:
    t0 = time.perf_counter()
    preload.start_forkserver()
    assert time.perf_counter() - t0 < 0.5  # the caller goes on while the forkserver imports
    with preload.worker_context().Pool(1) as pool:
        loaded = pool.apply(_loaded, (preload.PRELOAD,))
    assert loaded == preload.PRELOAD


def _loaded(names: list[str]) -> list[str]:
    return [n for n in names if n in sys.modules]


NATIONAL_WORKER = """
import sys
from evalkit.run import preload
preload.start_forkserver(national=True)
preload.start_forkserver()  # the first call decided
def loaded(names):
    return [n for n in names if n in sys.modules]
if __name__ == "__main__":
    with preload.worker_context().Pool(1) as pool:
        print(pool.apply(loaded, (preload.PRELOAD + preload.NATIONAL,)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver is Linux-only")
def test_a_national_runs_workers_have_the_analyses_imported(tmp_path) -> None:
    # in a new process: the first start in a process decides what the forkserver imports
    script = tmp_path / "national_worker.py"
    script.write_text(NATIONAL_WORKER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.strip() == str(preload.PRELOAD + preload.NATIONAL)


def test_every_council_is_asked_for_in_either_spelling() -> None:
    assert preload.national_run(["run", "DATA", "--la", "all-councils"])
    assert preload.national_run(["run", "DATA", "--la=all-councils"])
    assert not preload.national_run(["run", "DATA", "--la", "E06000016", "all"])
