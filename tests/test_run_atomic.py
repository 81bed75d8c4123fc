"""`evalkit run` publishes atomically (issue 15): SIGTERM at any point leaves REPORT_DIR exactly as
it was or holding the new run complete and gated; no data cache or process outlives a stopped
run; two runs never write one REPORT_DIR at once.

The end-to-end tests run `evalkit run` as a separate process on fixture notebooks. The second
notebook waits for a file the test creates, so the test knows for certain that the run is in
the middle of its notebooks (no sleeps that a slow machine could outrun). The run's processes,
kernels included, carry a marker in their environment; psutil finds every one still running.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from bs4 import BeautifulSoup
from helpers.reports import make_data, write_notebook

from evalkit.run import pool, reportdir, stop
from evalkit.run.execute import Task
from evalkit.run.index import index_page
from evalkit.run.plan import RunError

MARKER = "EVALKIT_TEST_RUN"
GO = "EVALKIT_TEST_GO"
COUNCIL = "E06000016"  # the only council of the fixture data
#: Seconds allowed for a run to reach a point, end after SIGTERM, or for its processes to go.
TIMEOUT = 120
# the second notebook goes on only once the test has created the file $EVALKIT_TEST_GO
WAIT_FOR_GO = """import os, time
while not os.path.exists(os.environ["EVALKIT_TEST_GO"]):
    time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture data folder and notebooks (01_first, 02_held: held until the go file)."""
    data = make_data(tmp_path_factory.mktemp("data"))
    notebooks = tmp_path_factory.mktemp("notebooks")
    write_notebook(notebooks, "01_first")
    write_notebook(notebooks, "02_held", WAIT_FOR_GO)
    return data, notebooks


@dataclass
class Run:
    """An `evalkit run` process and what identifies what it leaves."""

    proc: subprocess.Popen
    marker: str
    log: Path

    def stderr(self) -> str:
        return self.log.read_text()


@pytest.fixture
def start(inputs: tuple[Path, Path], tmp_path: Path) -> Iterator[Callable[..., Run]]:
    """Starts `evalkit run DATA --out OUT` processes; their private temporary folder (TMPDIR) is
    a short folder in the system's, seen as tmp_path/tmp (a link): multiprocessing's forkserver
    socket lives there, and a Unix socket path may not exceed 107 bytes, which pytest's deep
    tmp_path can. At the end, kills whatever a failed test left running."""
    data, notebooks = inputs
    runs: list[Run] = []
    short = Path(tempfile.mkdtemp(prefix="ek-"))
    (tmp_path / "tmp").symlink_to(short)

    def run(out: Path, go: Path, *extra: str) -> Run:
        marker = uuid.uuid4().hex
        log = tmp_path / f"run-{marker}.log"
        env = {**os.environ, MARKER: marker, GO: str(go), "TMPDIR": str(short)}
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "evalkit.cli", "run", str(data), "--out", str(out),
                 "--notebook-dir", str(notebooks), *extra],
                env=env, stdout=subprocess.DEVNULL, stderr=err)
        runs.append(Run(proc, marker, log))
        return runs[-1]

    yield run
    for r in runs:
        for p in processes(r.marker):
            p.kill()
    shutil.rmtree(short, ignore_errors=True)


def processes(marker: str) -> list[psutil.Process]:
    """The running (not zombie) processes whose environment carries `marker`."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get(MARKER) == marker and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:  # ended meanwhile, or not ours to read
            continue
    return found


def until(condition: Callable[[], object], what: str) -> None:
    """Wait until `condition()` is true (polling), at most TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def tree(out: Path) -> dict[str, str]:
    """Every file of REPORT_DIR but the lock: path -> SHA-256, or '-> target' for a link."""
    found = {}
    for folder, dirs, files in os.walk(out):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(out).as_posix()
            if path.is_symlink():
                found[rel] = f"-> {os.readlink(path)}"
            elif path.is_file() and name != reportdir.LOCK:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def check_published(out: Path) -> str:
    """Check REPORT_DIR holds one complete, gated publication; returns its run id."""
    links = {p.name: os.readlink(p) for p in out.iterdir() if p.is_symlink()}
    (run_id,) = {target.split("/")[1] for target in links.values()}
    assert sorted(os.listdir(out / "runs")) == [run_id]  # earlier runs removed
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging, no lock
    for la, target in links.items():
        assert target == f"runs/{run_id}/{la}"
        man = json.loads((out / la / "manifest.json").read_text())
        assert man["run"]["id"] == run_id
        for nb in man["notebooks"]:
            assert "privacy" in nb  # the gate saw it
            assert nb["status"] != "succeeded" or (out / la / nb["outputs"]["html"]).is_file()
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    hrefs = [a["href"] for a in index.find_all("a") if not a["href"].startswith("#")]
    assert hrefs and all(h.startswith(f"runs/{run_id}/") and (out / h).is_file()
                         for h in hrefs)
    assert f"run {run_id}" in index.get_text(" ")
    return run_id


def check_nothing_left(run: Run, out: Path, tmp: Path) -> None:
    """Once the run has ended: no staging folder, no cache of validated tables, no worker or
    kernel; only multiprocessing's forkserver and resource tracker, which end by themselves
    when the runner has gone, may still be running, and soon are not."""
    assert not list(out.glob(".staging-*"))
    # the cache of person-level tables, kernels' connection files (multiprocessing's own
    # pymp-* folder of a runner killed with SIGKILL may stay: it holds only a socket)
    assert not [p for p in tmp.rglob("*") if p.name.startswith("evalkit-run-")
                or p.suffix in (".parquet", ".json")]
    for p in processes(run.marker):
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            command = p.cmdline()
            if not command:  # mid-exit: its memory (and command line) already released
                continue
            # workers and kernels lead their own sessions; the forkserver does not
            assert "from multiprocessing." in " ".join(command), command
            assert os.getsid(p.pid) != p.pid, command
    until(lambda: not processes(run.marker), "the stopped run's processes to end")


def has_open(run: Run, path: Path) -> bool:
    """Whether the run's main process has `path` open."""
    try:
        return str(path) in [f.path for f in psutil.Process(run.proc.pid).open_files()]
    except psutil.Error:  # it ended
        return False


def staged(out: Path, name: str) -> list[Path]:
    """A notebook's page in the staging folder of the run being built."""
    return list(out.glob(f".staging-*/{COUNCIL}/{name}/{name}.html"))


def kernel_running(marker: str) -> bool:
    """Whether one of the run's processes is a kernel."""
    for p in processes(marker):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                return True
        except psutil.Error:  # ended meanwhile
            continue
    return False


def in_notebooks(out: Path, go: Path, run: Run) -> None:
    """Wait until the run is mid-notebooks: a page rendered (not yet gated), a kernel running."""
    until(lambda: staged(out, "01_first") and kernel_running(run.marker), "a page and a kernel")


# where the run is when it is sent SIGTERM: what to wait for (out, go file, run) beforehand
POINTS: dict[str, Callable[[Path, Path, Run], object]] = {
    "at start": lambda out, go, run: None,
    "holding the lock, loading the data": lambda out, go, run: until(
        lambda: (out / reportdir.LOCK).exists(), "the lock"),
    "mid-notebooks": in_notebooks,
    "around publishing: every notebook finished": lambda out, go, run: (go.touch(), until(
        lambda: staged(out, "02_held") or run.proc.poll() is not None, "the last page")),
}


def test_sigterm_leaves_the_previous_publication_or_the_new_one_complete(
        start, tmp_path: Path) -> None:
    out, go, tmp = tmp_path / "reports", tmp_path / "go", tmp_path / "tmp"
    go.touch()
    first = start(out, go)
    assert first.proc.wait(TIMEOUT) == 0, first.stderr()
    before, first_id = tree(out), check_published(out)
    go.unlink()
    for point, wait_for in POINTS.items():  # the last may publish: nothing runs after it
        if point.startswith("around publishing"):
            killed_mid_notebooks(start, out, go, before)  # what it leaves, this run removes
        run = start(out, go)
        wait_for(out, go, run)
        run.proc.send_signal(signal.SIGTERM)
        code = run.proc.wait(TIMEOUT)
        check_nothing_left(run, out, tmp)
        if tree(out) == before:
            assert code != 0, (point, run.stderr())
            assert point == "at start" or "nothing was published" in run.stderr(), point
        else:  # SIGTERM came once every notebook had finished: the new run is published whole
            assert point.startswith("around publishing"), (point, run.stderr())
            assert check_published(out) != first_id


def killed_mid_notebooks(start: Callable[..., Run], out: Path, go: Path,
                         before: dict[str, str]) -> None:
    """SIGKILL, which cannot be handled, mid-notebooks: nothing is published, the workers and
    kernels end as the runner has gone; its staging folder (and cache) remain."""
    run = start(out, go)
    in_notebooks(out, go, run)
    run.proc.kill()
    run.proc.wait(TIMEOUT)
    until(lambda: not processes(run.marker), "the killed run's processes to end")
    left = tree(out)
    assert {k: v for k, v in left.items() if not k.startswith(reportdir.STAGING)} == before
    assert staged(out, "01_first")


def test_a_second_run_into_the_folder_refuses_and_one_with_wait_waits(start,
                                                                        tmp_path: Path) -> None:
    out, go = tmp_path / "reports", tmp_path / "go"
    first = start(out, go)
    until(lambda: kernel_running(first.marker), "the first run's notebooks")
    (staging,) = out.glob(".staging-*")
    second = start(out, go)
    assert second.proc.wait(TIMEOUT) == 2
    assert f"another evalkit run (process {first.proc.pid}) is writing to {out}" in \
           second.stderr() and "--wait" in second.stderr()
    third = start(out, go, "--wait", "--notebooks", "01")
    until(lambda: has_open(third, out / reportdir.LOCK), "the third run to wait for the lock")
    assert third.proc.poll() is None and list(out.glob(".staging-*")) == [staging]
    go.touch()
    assert first.proc.wait(TIMEOUT) == 0, first.stderr()
    assert third.proc.wait(TIMEOUT) == 0, third.stderr()
    run_id = check_published(out)
    assert run_id != staging.name.removeprefix(reportdir.STAGING)  # the waiting run's
    man = json.loads((out / COUNCIL / "manifest.json").read_text())
    assert [nb["notebook"] for nb in man["notebooks"]] == ["01_first"]
    for run in (first, second, third):
        check_nothing_left(run, out, tmp_path / "tmp")


# ------------------------------------------------------------------ the parts, in this process
def stage(out: Path, run_id: str, page: str) -> None:
    """A staged run of one council holding one page."""
    folder = reportdir.staging_dir(out, run_id) / COUNCIL
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"run": {"id": run_id}}))
    (folder / "page.html").write_text(page)


def test_sigterm_during_publishing_waits_until_it_is_complete(tmp_path: Path,
                                                              monkeypatch) -> None:
    out = tmp_path / "reports"
    stage(out, "old", "last quarter")
    reportdir.publish(out, "old", [COUNCIL], "old index")
    stage(out, "new", "this quarter")
    link = reportdir._link

    def interrupted(*args: object) -> None:  # SIGTERM arrives half-way through publishing
        os.kill(os.getpid(), signal.SIGTERM)
        link(*args)

    monkeypatch.setattr(reportdir, "_link", interrupted)
    with pytest.raises(stop.Stopped) as stopped, stop.on_signals(), stop.held():
        reportdir.publish(out, "new", [COUNCIL], "new index")
    assert stopped.value.exit_code == 143
    assert (out / "index.html").read_text() == "new index"
    assert (out / COUNCIL / "page.html").read_text() == "this quarter"
    assert os.listdir(out / "runs") == ["new"] and not list(out.glob(".*"))


def test_sigterm_outside_held_sections_stops_at_once() -> None:
    with pytest.raises(stop.Stopped) as stopped, stop.on_signals():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(TIMEOUT)  # interrupted
    assert stopped.value.exit_code == 130


def test_lock_refuses_while_held_and_is_freed_when_its_holder_dies(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from evalkit.run import reportdir\n"
        "with reportdir.locked(Path(sys.argv[1]), False):\n"
        "    print('locked', flush=True); time.sleep(600)"), str(out)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    busy = f"another evalkit run (process {holder.pid}) is writing to {out}"
    with pytest.raises(RunError, match=re.escape(busy)), reportdir.locked(out, wait=False):
        pass
    got = threading.Event()

    def wait_for_lock() -> None:
        with reportdir.locked(out, wait=True):
            got.set()

    waiter = threading.Thread(target=wait_for_lock)
    waiter.start()
    assert not got.wait(0.5)  # still held
    holder.kill()  # a crash: the lock file stays, but the OS released the lock
    holder.wait()
    waiter.join(TIMEOUT)
    assert got.is_set() and not list(out.iterdir())  # the lock file goes with its lock


def test_a_folder_not_written_by_evalkit_is_refused_and_stale_staging_removed(
        tmp_path: Path) -> None:
    out = tmp_path / "reports"
    (out / COUNCIL).mkdir(parents=True)
    (out / COUNCIL / "notes.txt").write_text("someone's notes")
    with pytest.raises(RunError, match="not written by evalkit run"):
        reportdir.check_councils(out, [COUNCIL])
    stage(out, "killed", "half done")  # what a run killed with SIGKILL leaves
    (out / f".{COUNCIL}.link").symlink_to("runs/killed")
    reportdir.clear_stale(out)
    assert sorted(p.name for p in out.iterdir()) == [COUNCIL]


def test_a_worker_that_ends_without_a_result_fails_its_notebook_and_leaves_nothing(
        tmp_path: Path) -> None:
    out_dir = tmp_path / "staging" / COUNCIL / "01_gone"
    out_dir.mkdir(parents=True)
    (out_dir / "01_gone.html").write_text("a page the gate never saw")
    task = Task(COUNCIL, tmp_path / "01_gone.ipynb", out_dir, "01_gone", [])  # no notebook
    ((done, entry),) = list(pool.run_tasks([task], jobs=1))
    assert done == task and entry["status"] == "failed"
    assert entry["error"].startswith("the worker process ended without a result")
    assert entry["outputs"] == dict.fromkeys(["notebook", "html", "results", "key_findings"])
    assert not out_dir.exists()


def test_index_shows_the_run_of_each_council(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    for la, run_id in (("E06000016", "20250101-020000-aaaaaa"), ("all", "20250401-020000-bbbbbb")):
        folder = reportdir.staging_dir(out, run_id) / la
        folder.mkdir(parents=True)
        man = {"status": "succeeded", "run": {"id": run_id, "started_at": "2025-01-01T02:00"},
               "notebooks": [{"notebook": "01_x", "status": "succeeded",
                              "outputs": {"html": "01_x/01_x.html"}}]}
        (folder / "manifest.json").write_text(json.dumps(man))
        page = index_page(reportdir.listed_after(out, run_id, {la: man}))
        reportdir.publish(out, run_id, [la], page)
    rows = BeautifulSoup((out / "index.html").read_text(), "html.parser").tbody.find_all("tr")
    assert [(r.th.get_text(), r.a["href"]) for r in rows] == [
        ("All councils", "runs/20250401-020000-bbbbbb/all/01_x/01_x.html"),
        ("Leicester (E06000016)", "runs/20250101-020000-aaaaaa/E06000016/01_x/01_x.html")]
    assert "run 20250101-020000-aaaaaa" in rows[1].get_text(" ")
    assert sorted(os.listdir(out / "runs")) == ["20250101-020000-aaaaaa", "20250401-020000-bbbbbb"]


def test_libraries_with_compiled_parts_are_imported_before_signals_become_stopped(
        tmp_path: Path) -> None:
    """A SIGTERM that arrived while DuckDB's bindings initialised aborted the run ("Critical
    nanobind error", exit -6, its cache left behind): `evalkit run` imports such libraries
    before it turns signals into Stopped. Checked in a fresh process, where nothing else has
    imported them."""
    probe = f"""
import sys
from contextlib import contextmanager
from evalkit.run import runner, stop
from evalkit.cli import build_parser

@contextmanager
def record():
    missing = [n for n in (*runner.NATIVE_LIBRARIES, "pandera.pandas")
               if n not in sys.modules]
    print("missing:", missing)
    yield

stop.on_signals = record
runner.main(build_parser().parse_args(["run", {str(tmp_path / "none")!r}, "--out",
                                       {str(tmp_path / "out")!r}]))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert "missing: []" in done.stdout, done.stdout + done.stderr



@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_a_run_stopped_mid_notebook_in_the_worker_leaves_nothing_running(
        start, tmp_path: Path, stop: str) -> None:
    # --jobs 1 with one council: a national run's way, the notebooks run in the worker itself
    out, go, tmp = tmp_path / "reports", tmp_path / "go", tmp_path / "tmp"
    run = start(out, go, "--jobs", "1")
    until(lambda: staged(out, "01_first"), "the first page")  # 02_held runs, waiting for go
    assert not kernel_running(run.marker)
    if stop == "SIGTERM":
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(TIMEOUT) == 128 + signal.SIGTERM
        assert "nothing was published" in run.stderr()
        check_nothing_left(run, out, tmp)
    else:  # the worker sees its runner gone and ends
        run.proc.kill()
        run.proc.wait(TIMEOUT)
        until(lambda: not processes(run.marker), "the killed run's processes to end")
    published = [p for p in out.iterdir() if not p.name.startswith(".")] if out.exists() else []
    assert not published
