"""Start notebook kernels by forking an already-warm Python instead of starting a new one.

A fresh ipykernel spends about 1 s starting and 3-4 s of CPU importing pandas, scipy,
statsmodels and matplotlib before the notebook's first cell does any work; with three notebooks
a council, that was most of the time `evalkit run` spent. `ForkedKernelManager` is a
jupyter_client kernel manager that forks the current process (a worker of `evalkit run`, itself
a fork of the forkserver that imported those modules once: `evalkit.run.preload`) and starts
the kernel application in the child with the connection file the manager wrote. Everything else
(ports, messages, interrupt, shutdown, a kernel that dies) is jupyter_client's own handling, which
sees the child through a `Popen`-like handle.

It forks only when the child would be the kernel the kernelspec describes: on Linux (fork without
exec is unsafe on macOS and absent on Windows), for `<this venv's python> -m ipykernel_launcher`
with no interpreter options beyond ipykernel's own `-Xfrozen_modules=off`, no `PYTHON*` variables
of its own, and this process running without `-O` or similar. Any other kernelspec (another
Python or venv, another language) is launched the usual way. In the child, what a new kernel
would set up on its own is redone: its own session, environment, working folder, random state,
matplotlib's inline backend and exit handlers.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

#: Interpreter option ipykernel's own kernelspec adds (for its debugger); harmless to drop.
DEBUGGER_OPTION = "-Xfrozen_modules=off"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def this_python(path: str) -> bool:
    """Whether `path` runs this interpreter in this environment: a file in the same folder as
    `sys.executable` (a venv's `python` and `python3`) that is the same binary. A link to the
    same binary from another folder is another venv, with other packages."""
    here, there = (Path(os.path.normpath(os.path.abspath(p))) for p in (sys.executable, path))
    try:
        return there.parent == here.parent and there.resolve() == here.resolve()
    except OSError:
        return False


def kernel_args(argv: list[str]) -> list[str] | None:
    """The ipykernel arguments of a kernelspec command `PYTHON [-Xfrozen_modules=off] -m
    ipykernel_launcher ARGS` where PYTHON is `this_python`; None for any other command."""
    try:
        start = argv.index("ipykernel_launcher")
    except ValueError:
        return None
    if (not this_python(argv[0]) or argv[start - 1] != "-m"
            or set(argv[1:start - 1]) - {DEBUGGER_OPTION}):
        return None
    return argv[start + 1:]


def forkable(argv: list[str], env: Mapping[str, str] | None) -> list[str] | None:
    """`kernel_args(argv)` when a fork of this process would be that kernel (see module doc),
    else None."""
    plain = (sys.platform.startswith("linux") and sys.flags.optimize == 0
             and not (sys.flags.isolated or sys.flags.dev_mode or sys.flags.ignore_environment)
             and set(sys._xoptions) <= {"frozen_modules"})
    own = {k: v for k, v in (env or {}).items() if k.startswith("PYTHON")
           and os.environ.get(k) != v}
    return kernel_args(argv) if plain and not own else None


class ForkedProcess:
    """The parts of `subprocess.Popen` that jupyter_client's LocalProvisioner uses, for a child
    this process forked (so it is reaped here with `waitpid`)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"kernel process {self.pid} still running after {timeout} s")
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkedKernelManager(AsyncKernelManager):
    """AsyncKernelManager whose ipykernel kernels are forks of this process (see module doc)."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        args = forkable(kernel_cmd, kw.get("env"))
        if args is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner = self.provisioner
        assert provisioner is not None
        # as jupyter_client's launcher does: the kernel watches this process and exits with it
        env = {**(kw.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}
        cwd = kw.get("cwd")
        sys.stdout.flush()  # nothing buffered here may be written twice
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _kernel_child(args, env, cwd)  # never returns
        provisioner.process = ForkedProcess(pid)  # type: ignore[attr-defined]
        provisioner.pid = pid  # type: ignore[attr-defined]
        provisioner.pgid = pid  # type: ignore[attr-defined]  # the child's own session
        provisioner.cwd = cwd or os.getcwd()  # type: ignore[attr-defined]
        self._reconcile_connection_info(provisioner.connection_info)  # type: ignore[attr-defined]


def _kernel_child(args: list[str], env: dict[str, str], cwd: str | None) -> None:
    """In the forked child: become the kernel a new `python -m ipykernel_launcher ARGS` would
    be, then exit through the kernel's own exit handlers only (not the parent's)."""
    code = 1
    try:
        _own_exit_handlers()
        os.setsid()  # a session of its own, as jupyter_client starts kernels
        os.environ.clear()
        os.environ.update(env)
        if cwd:
            os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # the parent forked from inside its event loop; the kernel runs its own
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(asyncio.new_event_loop())
        _fresh_random_state()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # ipykernel read JPY_PARENT_PID when it was imported, long before this fork
        app.initialize([*args, f"--IPKernelApp.parent_handle={env['JPY_PARENT_PID']}"])
        _inline_matplotlib()
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # report, then leave: never fall back into the parent's code
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _own_exit_handlers() -> None:
    """Drop the parent's exit handlers (its clean-up is not the kernel's) but keep those every
    new Python has once these modules are imported: logging's flush, multiprocessing's child
    clean-up and weakref.finalize's (temporary folders a notebook leaves open)."""
    atexit._clear()
    if "logging" in sys.modules:
        atexit.register(sys.modules["logging"].shutdown)
    if "multiprocessing.util" in sys.modules:
        atexit.register(sys.modules["multiprocessing.util"]._exit_function)
    import weakref

    weakref.finalize._registered_with_atexit = False  # re-registers with the first finalizer


def _fresh_random_state() -> None:
    """Reseed numpy's global generator from the OS, as a new process would be (Python's
    `random` reseeds itself after a fork)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _inline_matplotlib() -> None:
    """Give pyplot the backend a new kernel would have: ipykernel sets MPLBACKEND to the inline
    backend, but matplotlib read MPLBACKEND when it was imported, before this fork."""
    backend = os.environ.get("MPLBACKEND") or INLINE_BACKEND
    if "matplotlib" in sys.modules:
        # first the setting (the inline backend hooks itself into IPython, to show figures
        # after each cell, only when it finds itself named there), then pyplot
        sys.modules["matplotlib"].rcParams["backend"] = backend
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.switch_backend(backend)
