"""A full disk: one line naming the folder and the space needed, the JSON report if it fits,
and never a half-written file under a final name.

The disk is a real, tiny tmpfs mounted in a private user and mount namespace (`unshare`), so
the writes fail in the kernel with ENOSPC exactly as on a full disk. Where no such namespace can
be made, the end-to-end tests are skipped (with that reason) and the unit tests below still run.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from posecheck import report as report_module
from posecheck.disk_space import is_disk_full
from posecheck.errors import BackgroundFailure
from posecheck.report import write_json_atomic, write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_tmpfs = pytest.mark.skipif(
    not _can_mount_tmpfs(), reason="cannot mount a tiny tmpfs here (no unprivileged user namespaces)"
)


def run_on_tiny_disk(tmp_path: Path, size: str, args: list[str], fill: bool = False):
    """Run `posecheck ARGS --out DISK` with DISK a tmpfs of `size`; returns the result and a
    copy of everything left on the disk (hidden files included)."""
    disk, copy = tmp_path / "disk", tmp_path / "left-on-disk"
    disk.mkdir()
    copy.mkdir()
    command = shlex.join([sys.executable, "-m", "posecheck.cli", *args, "--out", str(disk)])
    filler = f"dd if=/dev/zero of={disk}/filler bs=1k count=100000 2>/dev/null; " if fill else ""
    script = (
        f"mount -t tmpfs -o size={size} tmpfs {disk} && {filler}{command}; rc=$?; "
        f"rm -f {disk}/filler; cp -a {disk}/. {copy}/; exit $rc"
    )
    env = {**os.environ, "POSECHECK_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    return result, disk, sorted(p.name for p in copy.iterdir()), copy


@pytest.mark.e2e
@needs_tmpfs
def test_a_full_disk_ends_in_one_line_with_the_json_report(tmp_path):
    # the H.264 video needs ~450 KB, the JSON report ~60 KB
    result, disk, left, copy = run_on_tiny_disk(tmp_path, "700k", ["analyze", str(DEMO)])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "The disk is full: about" in result.stderr and str(disk) in result.stderr
    assert "MB is needed" in result.stderr and "is free" in result.stderr
    assert left == ["bridge_side_demo.report.json"]  # no video, no partial or temporary file
    report = json.loads((copy / "bridge_side_demo.report.json").read_text())
    assert report["complete"] is False and report["stopped_by"] == "error"
    assert 0 < report["input"]["frames"] < 1005


@pytest.mark.e2e
@needs_tmpfs
def test_a_disk_with_no_room_at_all_says_so_and_leaves_nothing_half_written(tmp_path):
    result, disk, left, _ = run_on_tiny_disk(tmp_path, "64k", ["analyze", str(DEMO)], fill=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"The disk is full: more space is needed in {disk}, 0 bytes is free" in result.stderr
    assert left == []


@pytest.mark.e2e
@needs_tmpfs
def test_a_full_disk_without_a_video_still_tries_the_json_report(tmp_path):
    args = ["analyze", str(DEMO), "--no-video"]
    result, disk, left, _ = run_on_tiny_disk(tmp_path, "64k", args, fill=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "The disk is full" in result.stderr and "Not even the JSON report" in result.stderr
    assert left == []


# --- the atomic writers, with the OS write failing (simulated: ENOSPC raised by os.fsync) ------


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "write", [lambda p: write_json_atomic({"a": 1}, p), lambda p: write_text_atomic(p, "x")]
)
def test_atomic_writes_leave_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, write):
    target = tmp_path / "r.report.json"
    target.write_text("the previous, whole file")
    monkeypatch.setattr(report_module.os, "fsync", _disk_full)
    with pytest.raises(OSError) as caught:
        write(target)
    assert is_disk_full(caught.value)
    assert target.read_text() == "the previous, whole file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.report.json"]


def test_a_full_disk_is_recognised_however_it_is_wrapped():
    inner = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(BackgroundFailure("encoding the video", inner))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(BackgroundFailure("drawing the overlay", ZeroDivisionError()))


# --- the history database on a full or read-only disk: said as it is, never "damaged" -----------


def _history_on_tiny_disk(tmp_path: Path, then: str) -> subprocess.CompletedProcess:
    """Store one session on a tmpfs data folder, make the disk full or read-only (`then`), then
    import a second report: returns that import's result."""
    from test_non_sessions import perfect_report

    from posecheck.spec import get_spec

    data = tmp_path / "data"
    data.mkdir()
    report = tmp_path / "second.report.json"
    report.write_text(json.dumps(perfect_report(get_spec("pelvic_tilt"), day=1)))
    (tmp_path / "first.report.json").write_text(json.dumps(perfect_report(get_spec("pelvic_tilt"))))
    cli = shlex.join([sys.executable, "-m", "posecheck.cli", "history", "--import"])
    spoil = {
        "full": f"dd if=/dev/zero of={data}/filler bs=1k count=100000 2>/dev/null",
        "read-only": f"mount -o remount,ro {data}",
    }[then]
    script = (
        f"mount -t tmpfs -o size=256k tmpfs {data} && {cli} {tmp_path}/first.report.json >/dev/null && "
        f"{spoil}; {cli} {report}"
    )
    env = {**os.environ, "POSECHECK_DATA_DIR": str(data)}
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip


@needs_tmpfs
@pytest.mark.parametrize(("then", "said"), [("full", "is full"), ("read-only", "is read-only")])
def test_a_history_on_a_full_or_read_only_disk_says_so(tmp_path, then, said):
    result = _history_on_tiny_disk(tmp_path, then)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and "damaged" not in result.stderr and "Traceback" not in result.stderr
