"""The notebooks of a national `evalkit run`, executed in the worker process itself: a papermill
engine (papermill's documented extension point) that runs each code cell in IPython's own shell
and records its outputs as a kernel would send them.

A national run executes hundreds of notebooks; in a kernel each one's outputs travel as messages
between two processes, and each new kernel imports the libraries again. Executing them in the
worker, which papermill and the page renderer already run in, took 0.82 of the CPU time for the
same five councils (docs/national.md), with every output, results.json, key_findings.md and
download identical. papermill still parameterises the notebook, records its metadata, fails it
on an error output (`PapermillExecutionError`) and writes it; only the execution differs.

`prepare` readies the shell for the next notebook with the same clearing a kept kernel runs
(`evalkit.run.execute.CLEAR`) and the thread limits the run gives kernels through their
environment (OpenBLAS and Arrow were loaded before it, in the forkserver, so the environment
alone would not limit them). Output written by compiled code straight to the process's file
descriptors is not collected here (a kernel's would be): it reaches the worker's stderr.
"""

from __future__ import annotations

import functools
import io
import sys
import traceback
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from nbformat import NotebookNode
from nbformat.v4 import new_output
from papermill.engines import Engine, papermill_engines
from traitlets import Type
from traitlets.config import Config

#: The name this module's engine is registered under (`papermill.execute_notebook(engine_name=)`).
ENGINE = "evalkit-in-process"
#: The environment variables of a run's thread limits (`evalkit.run.plan.ONE_THREAD`), the first
#: of which is read here.
THREADS_ENV = "OMP_NUM_THREADS"


class CellOutputs:
    """The outputs of the cell being run, in the order they came, as nbformat outputs; text
    written to stdout or stderr in a row is one stream output, as `clear_output(wait=True)`
    clears only when the next output comes."""

    def __init__(self) -> None:
        self.items: list[NotebookNode] = []
        self.clear_pending = False

    def add(self, output: NotebookNode) -> None:
        if self.clear_pending:
            self.items.clear()
            self.clear_pending = False
        self.items.append(output)

    def write(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.items[-1] if self.items and not self.clear_pending else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            self.add(new_output("stream", name=name, text=text))

    def clear(self, wait: bool) -> None:
        if wait:
            self.clear_pending = True
        else:
            self.items.clear()


class Stream(io.TextIOBase):
    """sys.stdout or sys.stderr while a cell runs: what is written goes to its outputs."""

    encoding = "utf-8"

    def __init__(self, name: str, outputs: CellOutputs) -> None:
        self.name_, self.outputs = name, outputs

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.outputs.write(self.name_, text)
        return len(text)


class Publisher(DisplayPublisher):
    """`display()` and `clear_output()`: display_data outputs of the running cell."""

    def publish(self, data: Mapping[str, Any], metadata: Mapping[str, Any] | None = None,
                source: Any = None, *, transient: Mapping[str, Any] | None = None,
                update: bool = False, **kwargs: Any) -> None:
        cell = self.shell.cell_outputs
        display_id = (transient or {}).get("display_id")
        if update and display_id is not None:  # an update replaces that display's outputs
            for out in self.shell.displays.get(display_id, []):
                out.data, out.metadata = dict(data), dict(metadata or {})
            return
        out = new_output("display_data", data=dict(data), metadata=dict(metadata or {}))
        cell.add(out)
        if display_id is not None:
            self.shell.displays.setdefault(display_id, []).append(out)

    def clear_output(self, wait: bool = False) -> None:
        self.shell.cell_outputs.clear(wait)


class Hook(DisplayHook):
    """A cell's value: an execute_result output, as a kernel sends it (no "Out[n]:" printed)."""

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: Mapping[str, Any],
                          md_dict: Mapping[str, Any] | None = None) -> None:
        self.shell.cell_outputs.add(new_output(  # its execution count: the cell's (`Shell.run`)
            "execute_result", data=dict(format_dict), metadata=dict(md_dict or {})))


class Shell(InteractiveShell):
    """IPython's shell with each cell's outputs collected (`run`) instead of printed."""

    display_pub_class = Type(Publisher)
    displayhook_class = Type(Hook)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell_outputs = CellOutputs()
        self.displays: dict[str, list[NotebookNode]] = {}

    def showtraceback(self, exc_tuple: tuple[type[BaseException], BaseException, Any] | None = None,
                      filename: str | None = None, tb_offset: int | None = None,
                      exception_only: bool = False, running_compiled_code: bool = False) -> None:
        """The error as the cell's error output (ename, evalue, traceback), as a kernel sends
        it."""
        etype, value, tb = exc_tuple or sys.exc_info()
        lines = (traceback.format_exception_only(etype, value) if exception_only
                 else traceback.format_exception(etype, value, tb))
        self.cell_outputs.add(new_output("error", ename=etype.__name__ if etype else "Error",
                                         evalue=str(value), traceback=lines))

    def enable_gui(self, gui: str | None = None) -> None:
        """No GUI event loop: figures are drawn inline (`shell`) or not at all."""
        if gui is not None:
            raise ValueError(f"a report cannot show a {gui} window; draw charts inline")

    def showsyntaxerror(self, filename: str | None = None,
                        running_compiled_code: bool = False) -> None:
        self.showtraceback(exception_only=True)

    def run(self, source: str, store_history: bool = True) -> tuple[list[NotebookNode], bool,
                                                                     int | None]:
        """Run one cell: its outputs, whether it succeeded and its execution count."""
        self.cell_outputs = CellOutputs()
        with (redirect_stdout(Stream("stdout", self.cell_outputs)),
              redirect_stderr(Stream("stderr", self.cell_outputs))):
            result = self.run_cell(source, store_history=store_history)
        outputs = self.cell_outputs.items
        for out in outputs:
            if out.output_type == "execute_result":
                out.execution_count = result.execution_count
        if not result.success and not any(o.output_type == "error" for o in outputs):
            error = result.error_before_exec or result.error_in_exec
            self.cell_outputs.add(new_output("error", ename=type(error).__name__,
                                             evalue=str(error), traceback=[]))
        return outputs, bool(result.success), result.execution_count


@functools.cache
def shell() -> Shell:
    """This process's shell (one per process, as IPython's shell is a singleton), with
    matplotlib's inline backend as in a kernel (a pyplot figure left open is displayed at the
    end of its cell), a kernel's cell file names and no history written to disk."""
    from ipykernel.compiler import XCachingCompiler

    config = Config({"HistoryManager": {"enabled": False}})
    # ipykernel's compiler, as a kernel's shell has: the same file names for cells in
    # tracebacks and errors (e.g. "invalid syntax (1278102326.py, line 1)")
    made = Shell.instance(config=config, compiler_class=XCachingCompiler)
    made.enable_matplotlib("inline")
    return made


def prepare(clear: str, environ: Mapping[str, str]) -> None:
    """Ready the shell for the next notebook: run `clear` in it (`evalkit.run.execute.CLEAR`,
    filled in), forget the last notebook's displays, and limit the numerical libraries' threads
    as `environ` limits a kernel's; RuntimeError if `clear` failed."""
    sh = shell()
    sh.displays.clear()
    outputs, ok, _ = sh.run(clear, store_history=False)
    if not ok:
        error = next((o for o in outputs if o.output_type == "error"), None)
        raise RuntimeError("the shell could not be cleared for the next notebook: "
                           f"{error.ename if error else 'unknown error'}")
    if THREADS_ENV in environ:
        limit_threads(int(environ[THREADS_ENV]))


def limit_threads(threads: int) -> None:
    """At most `threads` threads in OpenBLAS, OpenMP and MKL (threadpoolctl) and in Arrow's
    CPU pool."""
    import pyarrow
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    pyarrow.set_cpu_count(threads)


class InProcessEngine(Engine):
    """papermill's engine for this process's shell: each code cell with source is run in order
    (empty ones are skipped, as nbclient skips them) until one fails; `on_notebook_start` (an
    nbclient hook `evalkit.run.execute` passes) is called before the first."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> None:
        sh = shell()
        if (started := kwargs.get("on_notebook_start")) is not None:
            started(notebook=nb_man.nb)
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            nb_man.cell_start(cell, index)
            try:
                cell.outputs, ok, cell.execution_count = sh.run(cell.source)
                if not ok:
                    nb_man.cell_exception(cell, index)
                    break
            finally:
                nb_man.cell_complete(cell, index)


papermill_engines.register(ENGINE, InProcessEngine)
