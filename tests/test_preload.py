"""How `evalkit run` starts its workers (evalkit.run.preload) and the forkserver's warm-up
(evalkit.run.warm)."""

from __future__ import annotations

import gc
import importlib
import os
import sys

import pytest

from evalkit.run import preload, render


def test_workers_are_forked_on_linux_and_spawned_elsewhere(monkeypatch) -> None:
    assert preload.worker_context().get_start_method() == (
        "forkserver" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setattr(preload, "FORKSERVER", False)
    assert preload.worker_context().get_start_method() == "spawn"
    preload.start_forkserver()  # nothing to start: must not raise


def test_every_preloaded_module_imports() -> None:
    # the forkserver skips a module that fails to import without a word: check them here
    for name in preload.PRELOAD:
        importlib.import_module(name)


def test_a_failed_warm_up_is_reported_not_raised(monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise OSError("no templates")

    monkeypatch.setattr(render, "export_html", broken)
    monkeypatch.delitem(sys.modules, "evalkit.run.warm", raising=False)
    importlib.import_module("evalkit.run.warm")
    gc.unfreeze()  # the import froze this test process's objects, as it does the forkserver's
    assert "warm-up step warm_up skipped (OSError: no templates)" in capsys.readouterr().err


@pytest.mark.parametrize("own", [None, "0"])
def test_the_debugger_import_keeps_the_users_pydevd_setting(monkeypatch, own) -> None:
    warm = importlib.import_module("evalkit.run.warm")
    gc.unfreeze()
    if own is None:
        monkeypatch.delenv("PYDEVD_DISABLE_FILE_VALIDATION", raising=False)
    else:
        monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", own)
    warm.import_debugger()
    assert os.environ.get("PYDEVD_DISABLE_FILE_VALIDATION") == own
    assert "ipykernel.debugger" in sys.modules


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start-up is Linux-only")
def test_forkserver_workers_have_the_libraries_already() -> None:
    preload.start_forkserver()
    with preload.worker_context().Pool(1) as pool:
        loaded = pool.apply(_loaded, ([*preload.PRELOAD, "ipykernel.debugger"],))
    assert loaded == [*preload.PRELOAD, "ipykernel.debugger"]  # the debugger: by the warm-up


def _loaded(names: list[str]) -> list[str]:
    return [n for n in names if n in sys.modules]
