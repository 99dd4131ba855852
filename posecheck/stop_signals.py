"""SIGTERM and SIGHUP end a run the way Ctrl-C does, so the report of what was analysed is written.

A closed terminal (SIGHUP), `timeout`, a logout or a service manager's stop (SIGTERM) raise
`Stopped` (a KeyboardInterrupt) in the main thread, which every run already handles by
writing its report, video and history entry. While that is being written (`finishing()`), and
after the first signal, further signals are noted and ignored; a third Ctrl-C quits at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import sys
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when a stop signal arrives; `signal_name` says which."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


_received: list[int] = []
_finishing = 0


def install() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP in the main thread (call once, from the CLI)."""
    _received.clear()
    for signum in HANDLED:
        signal.signal(signum, _handle)


def _handle(signum: int, frame: object) -> None:
    _received.append(signum)
    if signum == signal.SIGHUP:
        _detach_from_terminal()
    if _finishing or len(_received) > 1:
        if signum == signal.SIGINT and _received.count(signal.SIGINT) >= 3:
            os._exit(130)  # the person insists: quit without finishing
        return
    raise Stopped(signal.Signals(signum).name)


class HangupSafeStream:
    """A text stream for progress output that survives the terminal being closed.

    A write that fails with EIO (the terminal is gone; SIGHUP may not be handled yet) is dropped
    and the terminal detached, so the run ends as a hangup instead of failing on its progress bar.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            terminal_lost()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            terminal_lost()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def terminal_lost() -> None:
    """Writing to the terminal failed with EIO: it was closed (a hangup, even if SIGHUP has not
    been handled yet). Note it as SIGHUP and stop writing to it."""
    if signal.SIGHUP not in _received:
        _received.append(signal.SIGHUP)
    _detach_from_terminal()


def _detach_from_terminal() -> None:
    """The terminal is gone: send output that would go to it to /dev/null instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
            # a hung-up terminal may no longer say it is one (isatty fails): any character device
            # (not a pipe or a file, which still work) is replaced
            if not stat.S_ISCHR(os.fstat(fd).st_mode):
                continue
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            continue


@contextlib.contextmanager
def finishing() -> Iterator[None]:
    """Hold off stop signals while the report is written (they are noted, see `received`)."""
    global _finishing
    _finishing += 1
    try:
        yield
    finally:
        _finishing -= 1


def received() -> str | None:
    """The name of the first stop signal received (e.g. 'SIGTERM'), or None."""
    return signal.Signals(_received[0]).name if _received else None


def exit_code(default: int = 130) -> int:
    """128 + the first signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), as shells report it."""
    return 128 + int(_received[0]) if _received else default


def interrupt_name() -> str:
    """What interrupted a run, for its report: the first signal received, else 'SIGINT'."""
    return received() or "SIGINT"
