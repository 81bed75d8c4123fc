"""Kernels forked from a worker instead of started as new processes: the imports paid once.

A notebook's kernel, started by jupyter_client as a new process, imports ipykernel, pandas,
statsmodels, matplotlib and evalkit's analyses before the first cell does anything: about
3.5 s of a core, once a council in a national run (153 times). Here the forkserver the
workers are forked from imports them once (`IMPORTS`, in `evalkit.run.warm`); each
worker, first thing and while it has no other thread, forks a **seed** (`plant`), a copy of
that process waiting on a pipe. When the worker's first kernel is started, jupyter_client's
provisioner (`SeedProvisioner`, jupyter_client's documented `LocalProvisioner` subclassed as
its documentation intends) hands the seed the kernel's command line, folder and environment,
and the seed becomes that kernel (`grow`): the same ipykernel, connection file and options,
without starting Python or importing again. The seed leads its own session (as a kernel
jupyter_client starts does), so it is signalled, interrupted and killed the same way; it is the
worker's child, so the worker reaps it. A kernel whose command is not this Python's
ipykernel, or a second kernel of the same worker (the first died or failed to start), is
started as a new process, as jupyter_client does. A seed never used ends when its worker does
(the pipe closes); each seed serves one worker, so one council, as each kernel did before.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

from evalkit.run.preload import FORKSERVER

#: What a kernel of the notebooks imports, besides ipykernel: imported by the forkserver
#: (`evalkit.run.preload`) so seeds start with them. Only a saving: a notebook importing more
#: still can.
IMPORTS = ("evalkit.paths", "evalkit.analyses.uptake", "evalkit.analyses.pa_market",
           "evalkit.analyses.outcomes", "evalkit.analyses.comparators", "evalkit.report.style")
#: The provisioner's name, as pyproject.toml's entry point in GROUP registers it.
NAME = "evalkit-seed"
GROUP = "jupyter_client.kernel_provisioners"
#: The kernels' matplotlib backend, as ipykernel sets it when none is set: matplotlib reads it
#: when imported, so it is set before the forkserver imports IMPORTS.
INLINE = "module://matplotlib_inline.backend_inline"
#: The kernel's command line after this Python (`_kernel_args`): the kernelspec's interpreter
#: options that a fork can leave out (frozen modules only matter to the debugger).
IGNORED_OPTIONS = ("-Xfrozen_modules=off",)

#: This worker's unused seed: (its pid, the pipe's end it is told on), or None.
_seed: tuple[int, int] | None = None


def use_seeds() -> bool:
    """Fork this worker's seed and have jupyter_client start kernels with SeedProvisioner;
    False (nothing done) where workers are not forked from the forkserver (they would hold
    nothing to share: `preload.FORKSERVER`) or the provisioner is not installed (its entry
    point is in the package's metadata)."""
    if not FORKSERVER or not entry_points(group=GROUP, name=NAME):
        return False
    plant()
    KernelProvisionerFactory.instance().default_provisioner_name = NAME
    return True


def plant() -> None:
    """Fork this worker's seed (call while the worker has no other thread)."""
    global _seed
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the seed: nothing of the worker's is used from here on
        os.close(write)
        _wait(read)
    os.close(read)
    _seed = (pid, write)


def uproot() -> None:
    """End this worker's seed if it was never used (the worker ends): it sees its pipe close
    and ends; reaped here."""
    global _seed
    if _seed is not None:
        pid, write = _seed
        _seed = None
        os.close(write)
        os.waitpid(pid, 0)


def _wait(read: int) -> None:
    """The seed's body: lead a session, keep only standard input, output and error, wait for
    the kernel to become (`grow`), and end (never returns)."""
    code = 1
    try:
        os.setsid()
        os.closerange(3, read)
        os.closerange(read + 1, os.sysconf("SC_OPEN_MAX"))
        with os.fdopen(read, "rb") as pipe:
            message = pipe.read()
        if message:
            code = grow(json.loads(message))
        else:
            code = 0  # the worker ended without needing it
    except BaseException as err:
        print(f"evalkit run: a forked kernel failed ({type(err).__name__}: {err})",
              file=sys.stderr)
    finally:
        os._exit(code)


def grow(launch: dict[str, Any]) -> int:
    """Become the kernel `launch` describes (arguments, folder, environment); returns its exit
    code once it ends. Its parent (the worker) is named on its command line: ipykernel reads
    JPY_PARENT_PID when imported, which a fork would not repeat."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(launch["env"])
    os.chdir(launch["cwd"])
    with open(os.devnull, "rb") as null:
        os.dup2(null.fileno(), 0)  # as jupyter_client gives a kernel: no input
    from ipykernel.kernelapp import IPKernelApp

    try:
        IPKernelApp.launch_instance(
            argv=[*launch["args"], f"--IPKernelApp.parent_handle={os.getppid()}"])
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else 0
    return 0


def _kernel_args(cmd: list[str]) -> list[str] | None:
    """ipykernel's arguments when `cmd` runs this Python's ipykernel launcher; else None."""
    if not cmd or Path(cmd[0]).resolve() != Path(sys.executable).resolve():
        return None
    rest = [a for a in cmd[1:] if a not in IGNORED_OPTIONS]
    if rest[:2] != ["-m", "ipykernel_launcher"]:
        return None
    return rest[2:]


class Forked:
    """The seed become a kernel, as much of `subprocess.Popen` as LocalProvisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class SeedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, starting the kernel from this worker's seed when
    there is one and the kernel is this Python's ipykernel (see the module docstring)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        global _seed
        args = _kernel_args(cmd)
        if _seed is None or args is None:
            return await super().launch_kernel(cmd, **kwargs)
        (pid, write), _seed = _seed, None
        launch = {"args": args, "cwd": str(kwargs.get("cwd") or Path.cwd()),
                  "env": dict(kwargs.get("env") or os.environ)}
        with os.fdopen(write, "wb") as pipe:
            pipe.write(json.dumps(launch).encode())
        self.process = Forked(pid)
        self.pid = self.pgid = pid  # the seed leads its own session from the start
        self.cwd = launch["cwd"]
        return self.connection_info
