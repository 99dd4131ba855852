"""Silence chatter that native libraries (MediaPipe, FFmpeg) print straight to stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Redirect the process's stderr file descriptor to /dev/null for the duration.

    Set POSECHECK_VERBOSE_NATIVE=1 to see the native messages when debugging.
    """
    if os.environ.get("POSECHECK_VERBOSE_NATIVE"):
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
