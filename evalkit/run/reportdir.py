"""REPORT_DIR as `evalkit run` writes it: one run at a time, each built aside and published in
one step once the privacy gate has seen it.

    REPORT_DIR/index.html                  every council's reports; replaced last (the commit)
    REPORT_DIR/<la_code>                   link to runs/<run id>/<la_code>: the council's current
                                           reports at an address that does not change
    REPORT_DIR/runs/<run id>/<la_code>/    a published run's outputs, never changed afterwards
    REPORT_DIR/.staging-<run id>/          the run being built (hidden; removed if it stops)
    REPORT_DIR/.evalkit.lock               exists while a run holds REPORT_DIR
    $TMPDIR/evalkit-run-<key>-*/           the run's private cache of the validated tables
                                           (never in REPORT_DIR; <key> names REPORT_DIR)

The index links each council's pages in its run's folder, and `publish` moves the gated staging
folder to `runs/` and switches each council's link (`os.replace`, atomic) before it replaces the
index the same way: until that last step, the previous index and every page it links are whole;
after it, only this run's gated pages are linked. The previous run's folder is removed only then.
Everything published is readable by everyone (files 644, folders 755) whatever the umask of the
process that wrote it: `publish` sets the modes of the whole staged run once (`make_public`), so
no step that writes a file has to. Only the lock and the staging folder stay as the umask makes
them while the run is under way, and neither outlives it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from evalkit.report.record import PUBLISHED_MODE
from evalkit.run.plan import RunError

INDEX = "index.html"
LOCK = ".evalkit.lock"
STAGING = ".staging-"
RUNS = "runs"
MANIFEST = "manifest.json"
#: A published folder: listable by everyone, as its files are readable (PUBLISHED_MODE, 644).
PUBLISHED_DIR_MODE = 0o755


def new_run_id(started: str) -> str:
    """A run's name: its UTC start (ISO 8601) as digits and 6 random hex digits, so run folders
    sort by time and two runs never share one ("20250401-020000-3fa2c1")."""
    return f"{dt.datetime.fromisoformat(started):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def staging_dir(out: Path, run_id: str) -> Path:
    """Where a run builds its outputs, REPORT_DIR/.staging-<run id>/<la_code>/..."""
    return out / f"{STAGING}{run_id}"


def run_folder(run_id: str, la: str) -> str:
    """A council's folder in a published run, relative to REPORT_DIR."""
    return f"{RUNS}/{run_id}/{la}"


@contextmanager
def locked(out: Path, wait: bool) -> Iterator[None]:
    """Hold REPORT_DIR's lock (`fcntl.flock` on REPORT_DIR/.evalkit.lock, creating REPORT_DIR
    if needed) for the block; RunError at once if another run holds it, unless `wait`.

    The OS releases the lock when its process ends, however it ends, so a crashed run cannot
    leave REPORT_DIR locked. A REPORT_DIR this run creates is made readable by everyone, as
    what it publishes there is. On release the lock file is removed (while still held: a run
    waiting for it then locks a new file), and REPORT_DIR too if this run created it and left
    it empty.
    """
    created = not out.exists()
    fd = None
    try:
        fd = _acquire(out / LOCK, wait)
        if created:
            out.chmod(PUBLISHED_DIR_MODE)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        if fd is not None:
            (out / LOCK).unlink(missing_ok=True)
            os.close(fd)
        if created:
            with suppress(OSError):
                out.rmdir()  # only if empty: nothing was published


def _acquire(path: Path, wait: bool) -> int:
    """A descriptor of `path` holding its exclusive lock."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise RunError(f"another evalkit run{f' (process {holder})' if holder else ''} is "
                           f"writing to {path.parent}; wait until it has finished, or add --wait "
                           "to start when it has") from None
        except BaseException:  # stopped while waiting
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd
        os.close(fd)  # the run we waited for removed that file: lock the one there now


def _same_file(fd: int, path: Path) -> bool:
    """Whether `fd` is the file at `path` now."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def check_councils(out: Path, las: list[str]) -> None:
    """RunError if REPORT_DIR/<la_code> of a council to run is something evalkit run did not
    write (a file, or a folder holding files but no manifest.json): it is never replaced."""
    for la in las:
        path = out / la
        if path.is_symlink() or not path.exists():
            continue
        if path.is_dir() and ((path / MANIFEST).is_file() or not any(path.iterdir())):
            continue  # a folder an earlier evalkit wrote (or an empty one)
        raise RunError(f"{path} exists and was not written by evalkit run (no {MANIFEST}); "
                       "choose another --out or remove it")


def new_cache(out: Path) -> Path:
    """A new private folder (mode 0700) outside REPORT_DIR for the run's cache of the validated
    tables, named after REPORT_DIR so that the next run into it can remove one a killed run
    left (`clear_stale`)."""
    return Path(tempfile.mkdtemp(prefix=_cache_prefix(out)))


def _cache_prefix(out: Path) -> str:
    return f"evalkit-run-{hashlib.sha256(str(out).encode()).hexdigest()[:12]}-"


def clear_stale(out: Path) -> None:
    """Remove what a run into REPORT_DIR killed without warning (SIGKILL, power cut) left
    half-done: staging folders, temporary links or index files, its cache of the validated
    tables. Only with the lock held: no other run into REPORT_DIR is using them."""
    for path in out.glob(".*"):
        if path.name.startswith(STAGING) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.name.endswith((".link", f".{INDEX}")):
            path.unlink()
    for cache in Path(tempfile.gettempdir()).glob(f"{_cache_prefix(out)}*"):
        shutil.rmtree(cache)


def published(out: Path) -> dict[str, str]:
    """The councils REPORT_DIR publishes now: code -> its folder relative to REPORT_DIR (the run
    folder its link points to, or the folder itself for a folder an earlier evalkit wrote)."""
    if not out.is_dir():
        return {}
    found = {}
    for path in sorted(out.iterdir()):
        if path.name.startswith(".") or path.name == RUNS or not (path / MANIFEST).is_file():
            continue
        found[path.name] = Path(os.readlink(path)).as_posix() if path.is_symlink() else path.name
    return found


def listed_after(out: Path, run_id: str, manifests: Mapping[str, Mapping[str, Any]]
                 ) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Every council the index lists once run `run_id` with these `manifests` (council code ->
    manifest) is published: code -> (its folder relative to REPORT_DIR, its manifest); the
    run's councils, and the others as REPORT_DIR publishes them now."""
    listed: dict[str, tuple[str, Mapping[str, Any]]] = {
        la: (folder, json.loads((out / folder / MANIFEST).read_text()))
        for la, folder in published(out).items() if la not in manifests}
    return listed | {la: (run_folder(run_id, la), man) for la, man in manifests.items()}


def publish(out: Path, run_id: str, las: list[str], index: str,
            pages: Sequence[Path] = ()) -> None:
    """Publish the staged run: make it readable by everyone (`make_public`), move it to
    runs/<run id>/, point each council's link at its folder there, move `pages` (gated files
    for REPORT_DIR itself, such as the England page, staged with the run) into REPORT_DIR,
    replace the index with `index` (the commit), then remove run folders no council links any
    more. Call it in a held section (`evalkit.run.stop.held`) so a signal cannot stop it
    half-way."""
    staged = staging_dir(out, run_id)
    for page in pages:  # `shutil.move`: they may be on another file system (the cache's)
        shutil.move(page, staged / page.name)
    pending = out / f".{run_id}.{INDEX}"
    pending.write_text(index, encoding="utf-8")
    make_public(staged)
    make_public(pending)
    runs = out / RUNS
    if not runs.is_dir():  # a runs/ folder someone else made keeps its own mode
        runs.mkdir()
        runs.chmod(PUBLISHED_DIR_MODE)
    os.rename(staged, runs / run_id)
    for la in las:
        _link(out / la, run_folder(run_id, la), runs / f"{run_id}.replaced")
    for page in pages:
        os.replace(runs / run_id / page.name, out / page.name)
    os.replace(pending, out / INDEX)
    prune(out)


def make_public(top: Path) -> None:
    """Make `top` and everything under it readable by everyone (files PUBLISHED_MODE, folders
    PUBLISHED_DIR_MODE), whatever umask they were written under: one rule for every published
    file, whichever step wrote it. Links are left alone and never followed."""
    if top.is_symlink():
        return
    if not top.is_dir():
        top.chmod(PUBLISHED_MODE)
        return
    for folder, _, files in os.walk(top):  # does not descend into links to folders
        os.chmod(folder, PUBLISHED_DIR_MODE)
        for name in files:
            if not os.path.islink(path := os.path.join(folder, name)):
                os.chmod(path, PUBLISHED_MODE)


def _link(link: Path, target: str, aside: Path) -> None:
    """Point `link` at `target` in one step; a folder in its place (written by an earlier
    evalkit) is first moved to `aside`, which `prune` removes."""
    if link.exists() and not link.is_symlink():
        aside.mkdir(exist_ok=True)
        os.rename(link, aside / link.name)
    new = link.with_name(f".{link.name}.link")
    new.unlink(missing_ok=True)
    os.symlink(target, new)
    os.replace(new, link)


def prune(out: Path) -> None:
    """Remove the folders in runs/ that no council's link points into."""
    linked = {_linked_run(p) for p in out.iterdir()}
    for run in (out / RUNS).iterdir():
        if run.name in linked:
            continue
        if run.is_dir() and not run.is_symlink():
            shutil.rmtree(run)
        else:
            run.unlink()


def _linked_run(path: Path) -> str | None:
    """The run a council's link points into (runs/<run id>/<la_code>), else None."""
    if not path.is_symlink():
        return None
    parts = Path(os.readlink(path)).parts
    return parts[1] if len(parts) == 3 and parts[0] == RUNS else None
