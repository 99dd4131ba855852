"""Full disks: recognise the error, measure the free space and say it in one line."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from posecheck.errors import RunStopped

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_disk_full(exc: BaseException | None) -> bool:
    """True for an OSError meaning no space (disk full, quota, file size limit), however wrapped."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        exc = getattr(exc, "error", None) or exc.__cause__
    return False


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class DiskFull(RunStopped):
    """The output folder ran out of space; the message names it and the space needed."""


def disk_full_error(folder: Path, needed: int | None, report_note: str) -> DiskFull:
    """One line: which folder, how much space is needed and free, what was still written."""
    free = free_bytes(folder)
    need = f"about {human_size(needed)} is needed" if needed else "more space is needed"
    has = f", {human_size(free)} is free" if free is not None else ""
    return DiskFull(
        f"The disk is full: {need} in {folder}{has}. {report_note} "
        "Free some space or choose another folder with --out, then run again."
    )
