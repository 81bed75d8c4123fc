"""The worker processes of `evalkit run`: one per notebook, `--jobs` at a time, each forked from
the forkserver (`evalkit.run.preload`), each running `evalkit.run.execute.work`; stopped, with
their kernels, whenever the run ends before they have.

Plain `multiprocessing` processes rather than a pool executor: the runner holds each worker, so
it can stop it (SIGTERM, then SIGKILL if it has not ended within GRACE seconds) and reap it.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from evalkit.run import execute
from evalkit.run.execute import Task
from evalkit.run.preload import wait_until_ready, worker_context
from evalkit.run.stop import held

#: Seconds a worker has, after SIGTERM, to kill its kernels and end before it is killed.
GRACE = 10.0

Running = dict[Connection, tuple[BaseProcess, Task]]


def run_tasks(tasks: Iterable[Task], jobs: int) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Execute each task in its own worker process, `jobs` at a time; yields (task, manifest
    entry) in completion order. However iteration ends (an exception, `Stopped`, the generator
    closed), the workers still running are stopped and reaped before it returns."""
    context = worker_context()
    wait_until_ready()  # before the held sections below, each of which then takes milliseconds
    waiting = deque(tasks)
    running: Running = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                with held():  # no worker started but not yet in `running`
                    _start(context, waiting.popleft(), running)
            for reader in wait(list(running)):
                # the worker leaves `running` once it has ended: until then `stop` may end it
                entry = _result(reader, *running[reader])
                yield running.pop(reader)[1], entry
    finally:
        with held():
            stop([worker for worker, _ in running.values()])


def _start(context: BaseContext, task: Task, running: Running) -> None:
    """Start a worker for `task`, entered in `running` under the end of the pipe it answers on."""
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=execute.work, args=(task, writer), daemon=True,
                             name=f"evalkit {task.la} {task.stem}")
    worker.start()
    writer.close()  # the worker holds its own copy: `reader` sees the end when the worker ends
    running[reader] = (worker, task)


def _result(reader: Connection, worker: BaseProcess, task: Task) -> dict[str, Any]:
    """The worker's manifest entry, once it has sent it and ended; a failure if it ended
    without one, and then nothing it wrote is kept (the privacy gate has not seen it)."""
    try:
        entry = reader.recv()
    except EOFError:
        entry = None
    reader.close()
    worker.join()
    if entry is None:
        shutil.rmtree(task.out_dir, ignore_errors=True)
        return execute.lost(task, worker.exitcode)
    return entry


def stop(workers: list[BaseProcess]) -> None:
    """Stop workers: SIGTERM (each kills its kernels and ends), SIGKILL for any still running
    GRACE seconds later; each is reaped."""
    for worker in workers:
        worker.terminate()
    deadline = time.monotonic() + GRACE
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()
