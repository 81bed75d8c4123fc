"""The worker processes of `evalkit run`, `--jobs` with tasks left at a time, each forked from
the forkserver (`evalkit.run.preload`), each running `evalkit.run.execute.work`; stopped, with
their kernels, whenever the run ends before they have. A worker that has answered for all its
tasks makes room for the next at once, and is stopped if it has not ended GRACE seconds later
(a thread a notebook started and left running would keep its process alive).

A worker runs one notebook in a kernel, or, when there are at least as many councils as jobs (a
national run), one council's notebooks one after another in the worker itself, cleared between
notebooks (`batches`, `evalkit.run.execute.InProcess`): the cores are as busy either way, and no
kernel is started, and the libraries imported, three times for each council (about 4 s of a
core a kernel), nor every output sent from a kernel to the worker. A council never shares a
process with another: nothing one council's notebooks leave in it (a callback, a thread, a
setting) reaches another's report, and a worker that dies fails one council only.

Plain `multiprocessing` processes rather than a pool executor: the runner holds each worker, so
it can stop it (SIGTERM, then SIGKILL if it has not ended within GRACE seconds) and reap it.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Iterator, Sequence
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

#: Each running worker under the end of the pipe it answers on, with the tasks it has not
#: answered for yet (it answers in their order).
Running = dict[Connection, tuple[BaseProcess, deque[Task]]]
#: Since when (`time.monotonic`) each running worker has had no task left to answer for.
Ending = dict[Connection, float]


def national(tasks: Sequence[Task], jobs: int) -> bool:
    """Whether there are at least `jobs` councils: then a worker runs a whole council's
    notebooks (`batches`) in its own process (`evalkit.run.execute.InProcess`)."""
    return len({task.la for task in tasks}) >= jobs


def batches(tasks: Sequence[Task], jobs: int) -> list[list[Task]]:
    """The tasks a worker each: when there are at least `jobs` councils, a council's; else one
    task each (so a council's notebooks run side by side)."""
    if not national(tasks, jobs):
        return [[task] for task in tasks]
    by_council: dict[str, list[Task]] = {}
    for task in tasks:
        by_council.setdefault(task.la, []).append(task)
    return list(by_council.values())


def run_tasks(tasks: Sequence[Task], jobs: int) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Execute the tasks in worker processes (`batches`), `jobs` with tasks left at a time;
    yields (task, manifest entry) in completion order. However iteration ends (an exception,
    `Stopped`, the generator closed), the workers still running are stopped and reaped before
    it returns."""
    context = worker_context()
    wait_until_ready()  # before the held sections below, each of which then takes milliseconds
    waiting = deque(batches(tasks, jobs))
    in_process = national(tasks, jobs)
    running: Running = {}
    ending: Ending = {}
    try:
        while waiting or running:
            _fill(context, waiting, running, jobs, in_process)
            # the worker leaves `running` once it has ended: until then `stop` may end it
            answers = [answer for reader in wait(list(running), GRACE if ending else None)
                       for answer in _answers(reader, running)]
            _end_stuck(running, ending)
            # a worker that has answered for all its tasks is ending: the next starts before
            # the caller takes the answers (the runner gates a council meanwhile)
            _fill(context, waiting, running, jobs, in_process)
            yield from answers
    finally:
        with held():
            stop([worker for worker, _ in running.values()])


def _end_stuck(running: Running, ending: Ending) -> None:
    """Note when each worker was first seen with no task left (`ending`), and stop and reap
    one still running GRACE seconds later: all its answers are in, so nothing is lost."""
    now = time.monotonic()
    for reader in [r for r in ending if r not in running]:
        del ending[reader]
    for reader, (worker, left) in list(running.items()):
        if left:
            continue
        if now - ending.setdefault(reader, now) >= GRACE:
            with held():
                stop([worker])
                reader.close()
                del running[reader], ending[reader]


def _fill(context: BaseContext, waiting: deque[list[Task]], running: Running, jobs: int,
          in_process: bool) -> None:
    """Start workers for the waiting tasks until `jobs` have tasks left to answer for."""
    while waiting and sum(1 for _, left in running.values() if left) < jobs:
        with held():  # no worker started but not yet in `running`
            _start(context, waiting.popleft(), running, in_process)


def _start(context: BaseContext, tasks: list[Task], running: Running, in_process: bool) -> None:
    """Start a worker for `tasks` (in its own process, `in_process`), entered in `running`."""
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=execute.work, args=(tasks, writer, in_process), daemon=True,
                             name=f"evalkit {tasks[0].la} {tasks[0].stem}")
    worker.start()
    writer.close()  # the worker holds its own copy: `reader` sees the end when the worker ends
    running[reader] = (worker, deque(tasks))


def _answers(reader: Connection, running: Running) -> Iterator[tuple[Task, dict[str, Any]]]:
    """The next manifest entry the worker sent; or, once it has ended, a failure for each task
    it ended without answering for, and then nothing that task wrote is kept (the privacy
    gate has not seen it)."""
    worker, left = running[reader]
    try:
        entry = reader.recv()
    except EOFError:
        entry = None
    if entry is not None:
        yield left.popleft(), entry
        return
    reader.close()
    worker.join()
    del running[reader]
    for task in left:
        shutil.rmtree(task.out_dir, ignore_errors=True)
        yield task, execute.lost(task, worker.exitcode)


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
