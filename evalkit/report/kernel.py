"""Start notebook kernels by forking an already-warm Python instead of starting a new one.

A fresh ipykernel spends about 1 s starting and 3-4 s of CPU importing pandas, scipy,
statsmodels and matplotlib before the notebook's first cell does any work; with three notebooks
a council, that was most of the time `evalkit run` spent. `ForkedKernelManager` is a
jupyter_client kernel manager that, for an ipykernel kernelspec running this same Python, forks
the current process (a worker of `evalkit run`, itself a fork of the forkserver that imported
those modules once: `evalkit.report.preload`) and starts the kernel application in the child
with the connection file the manager wrote. Everything else (ports, messages, interrupt,
shutdown, a kernel that dies) is jupyter_client's own handling, which sees the child through a
`Popen`-like handle. Any other kernelspec (another Python, another language) is launched the
usual way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager


def kernel_args(argv: list[str]) -> list[str] | None:
    """The ipykernel arguments of a kernelspec command that starts ipykernel in this same Python
    (`PYTHON [-X...] -m ipykernel_launcher ARGS`), so that a fork of this process is the same
    kernel with the same packages; None for any other command. (`-X` options such as
    `frozen_modules=off`, which ipykernel adds for its debugger, are dropped.)"""
    try:
        start = argv.index("ipykernel_launcher")
        same = Path(argv[0]).resolve() == Path(sys.executable).resolve()
    except (ValueError, IndexError, OSError):
        return None
    options = argv[1:start - 1]
    if not same or argv[start - 1] != "-m" or not all(o.startswith("-X") for o in options):
        return None
    return argv[start + 1:]


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
        args = kernel_args(kernel_cmd)
        if args is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner = self.provisioner
        assert provisioner is not None
        env = dict(kw.get("env") or os.environ)
        cwd = kw.get("cwd")
        pid = os.fork()
        if pid == 0:
            _kernel_child(args, env, cwd)  # never returns
        try:
            os.setpgid(pid, pid)  # the child does the same: either wins the race, same result
        except OSError:
            pass  # the child already did it (or already exec'd into its own group)
        provisioner.process = ForkedProcess(pid)  # type: ignore[attr-defined]
        provisioner.pid = pid  # type: ignore[attr-defined]
        provisioner.pgid = pid  # type: ignore[attr-defined]
        provisioner.cwd = cwd or os.getcwd()  # type: ignore[attr-defined]
        self._reconcile_connection_info(provisioner.connection_info)  # type: ignore[attr-defined]


def _kernel_child(args: list[str], env: dict[str, str], cwd: str | None) -> None:
    """In the forked child: become the kernel `python -m ipykernel_launcher ARGS` would be, then
    exit without running the parent's clean-up (its atexit handlers and event loop are not ours)."""
    code = 1
    try:
        os.setpgid(0, 0)
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
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # ipykernel reads JPY_PARENT_PID when it is imported (here: long before this fork), so
        # name the parent explicitly: the kernel then exits if its parent dies
        parent = env.get("JPY_PARENT_PID") or str(os.getppid())
        app.initialize([*args, f"--IPKernelApp.parent_handle={parent}"])
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # report, then leave: never fall back into the parent's code
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
