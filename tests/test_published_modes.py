"""Everything `evalkit run` publishes is readable by everyone (files 644, folders 755) whatever
the process umask: `evalkit.run.reportdir.publish` sets the modes of the whole staged run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.reports import make_data, write_notebook

from evalkit.run import reportdir

PRIVATE_UMASK = 0o077  # without the fix, every file would be 600 and every folder 700


def modes(top: Path) -> dict[str, int]:
    """Path under `top` (relative, links left out) -> its permission bits."""
    return {p.relative_to(top).as_posix(): stat.S_IMODE(p.lstat().st_mode)
            for p in top.rglob("*") if not p.is_symlink()}


def wrong_modes(top: Path) -> dict[str, str]:
    """Files under `top` whose mode is not 644, folders whose mode is not 755 (as octal)."""
    return {name: oct(mode) for name, mode in modes(top).items()
            if mode != (0o755 if (top / name).is_dir() else 0o644)}


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_a_run_under_a_private_umask_publishes_everything_readable(tmp_path: Path) -> None:
    data, notebooks, out = make_data(tmp_path / "data"), tmp_path / "nb", tmp_path / "out"
    write_notebook(notebooks, "01_first")
    done = subprocess.run([sys.executable, "-m", "evalkit.cli", "run", str(data), "--out",
                           str(out), "--notebook-dir", str(notebooks)],
                          umask=PRIVATE_UMASK, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o755  # the run made it
    names = modes(out)
    assert {"index.html", "01_first.html", "01_first-tables.xlsx", "01_first-table-01.csv",
            "manifest.json", "summary.html", "key_findings.md", "results.json"} <= {
        Path(n).name for n in names}
    assert not [n for n in names if Path(n).name.startswith(".")]  # no lock, staging left
    assert wrong_modes(out) == {}


def test_publish_makes_staged_files_and_pages_readable_and_follows_no_link(
        tmp_path: Path) -> None:
    out, cache, private = tmp_path / "out", tmp_path / "cache", tmp_path / "private.txt"
    with umask(PRIVATE_UMASK):
        council = reportdir.staging_dir(out, "r1") / "E06000016"
        (council / "01_first" / "downloads").mkdir(parents=True)
        (council / "01_first" / "downloads" / "t.csv").write_text("a\n")
        private.write_text("not published")
        (council / "elsewhere").symlink_to(private)
        cache.mkdir()
        (cache / "england.html").write_text("<p>England</p>")
        reportdir.publish(out, "r1", ["E06000016"], "<p>index</p>", [cache / "england.html"])
    assert (out / "england.html").read_text() == "<p>England</p>"
    assert wrong_modes(out) == {}
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
