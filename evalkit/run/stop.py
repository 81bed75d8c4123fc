"""How `evalkit run` stops when it receives SIGTERM or SIGINT (Ctrl-C).

While `on_signals()` is active, the first SIGTERM or SIGINT raises `Stopped` in the main thread,
wherever it is (waiting for notebooks, loading the data), so the run's `finally` blocks stop the
workers and remove what the run wrote. Inside `held()` (publishing, cleaning up) the signal waits:
such a section always finishes, and `Stopped` is raised when it ends. Later signals are noted but
do not interrupt the cleanup the first one started.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """SIGTERM or SIGINT asked the run to stop. A BaseException, as KeyboardInterrupt is, so
    code that handles errors (`except Exception`, e.g. the loader reading a file) lets it
    through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it (143, 130)."""
        return 128 + self.signum


class _State:
    """The signal received (if any), whether Stopped was raised for it, and how many held
    sections are open."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No signal yet, no held section open."""
        self.signum: int | None = None
        self.raised = False
        self.holds = 0


_state = _State()


def check() -> None:
    """Raise Stopped if a signal arrived and Stopped was not raised for it yet."""
    if _state.signum is not None and not _state.raised:
        _state.raised = True
        raise Stopped(_state.signum)


def _handle(signum: int, frame: FrameType | None) -> None:
    """Signal handler: note the signal; raise Stopped unless a held section is open."""
    if _state.signum is None:
        _state.signum = signum
    if not _state.holds:
        check()


@contextmanager
def on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into Stopped (see the module docstring) until the block ends;
    the previous handlers are restored then."""
    _state.reset()
    previous = {sig: signal.signal(sig, _handle) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def held() -> Iterator[None]:
    """A section a signal does not interrupt; a signal that arrived meanwhile raises Stopped
    when the section ends without an error."""
    _state.holds += 1
    try:
        yield
    finally:
        _state.holds -= 1
    if not _state.holds:
        check()


@contextmanager
def cleanups() -> Iterator[ExitStack]:
    """An ExitStack whose callbacks all run, in a held section, however the block ends."""
    stack = ExitStack()
    try:
        yield stack
    finally:
        with held():
            stack.close()
