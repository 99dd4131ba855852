"""Nothing lost: a failing thread, SIGTERM or SIGHUP stop a run and still leave its report.

Unit tests drive the background threads with sources and renderers that fail; end-to-end tests
run the real `posecheck` command in a subprocess and send it real signals.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecheck.errors import BackgroundFailure, RunStopped
from posecheck.live import LiveSession
from posecheck.model_store import resolve_model
from posecheck.source import Frame, FrameSource
from posecheck.spec import get_spec
from posecheck.video_io import BackgroundVideoWriter, PrefetchingReader

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
COMMAND = [sys.executable, "-m", "posecheck.cli"]
NEVER_HANGS_S = 60  # a guard against a hang, not a speed requirement


def finishes(work) -> object:
    """Run `work` in a thread; fail (instead of hanging the suite) if it never returns."""
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(NEVER_HANGS_S)
    assert not thread.is_alive(), "blocked: a dead background thread was waited for"
    if "error" in result:
        raise result["error"]
    return result.get("value")


class FailingSource(FrameSource):
    """A few grey frames, then the decoder raises (as a corrupt file or a dying camera can)."""

    def __init__(self, good_frames: int = 3) -> None:
        self.fps, self.size, self.frame_count, self.name = 30.0, (64, 48), None, "failing source"
        self.good_frames = good_frames

    def __iter__(self):
        for i in range(self.good_frames):
            yield Frame(np.full((48, 64, 3), 100, np.uint8), i / 30.0, i)
        raise RuntimeError("decoder exploded")

    def close(self) -> None:
        pass


def _boom_after(n: int):
    calls = {"n": 0}

    def render(image):
        calls["n"] += 1
        if calls["n"] > n:
            raise ZeroDivisionError("gauge range has zero width")
        return image

    return render


# --- the threads -------------------------------------------------------------------------------


def test_a_failing_renderer_reaches_the_writer_and_leaves_no_video(tmp_path):
    path = tmp_path / "clip.annotated.mp4"
    writer = BackgroundVideoWriter(path, 30.0, (64, 48), render=_boom_after(2), depth=2)
    frame = np.zeros((48, 64, 3), np.uint8)

    def write_many():
        for _ in range(50):  # far more than the queue holds: this used to block forever
            writer.write(frame)

    with pytest.raises(BackgroundFailure, match="drawing the overlay failed.*ZeroDivisionError"):
        finishes(write_many)
    finishes(writer.close)
    assert not path.exists() and not writer.partial_path.exists()
    assert writer.failed_task == "drawing the overlay"


def test_a_finished_video_appears_only_under_its_final_name_and_plays(tmp_path):
    path = tmp_path / "clip.annotated.mp4"
    writer = BackgroundVideoWriter(path, 30.0, (64, 48))
    for i in range(20):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    assert not path.exists()  # still being written: only the partial file exists
    writer.close()
    writer.raise_if_failed()
    capture = cv2.VideoCapture(str(path))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    capture.release()
    assert not writer.partial_path.exists()


def test_a_decoder_failure_reaches_the_reader():
    reader = PrefetchingReader(FailingSource(good_frames=3), depth=2)
    seen = []
    with pytest.raises(BackgroundFailure, match="decoding the video failed.*decoder exploded"):
        finishes(lambda: [seen.append(f.index) for f in reader])
    reader.close()
    assert seen == [0, 1, 2]


def test_a_capture_failure_ends_a_live_session_with_its_report(tmp_path):
    spec = get_spec("segmental_bridge")
    session = LiveSession([spec], FailingSource(good_frames=5), resolve_model(), tmp_path, headless=True)
    outcome = finishes(session.run)
    assert outcome.ended_by == "error"
    report = json.loads((tmp_path / "segmental_bridge.report.json").read_text())
    assert report["complete"] is False and report["stopped_by"] == "error"
    assert "capturing frames failed" in report["error"] and 1 <= report["input"]["frames"] <= 5
    with pytest.raises(RunStopped, match="capturing frames failed.*segmental_bridge.report.json"):
        session.raise_if_failed()


# --- through the command line ------------------------------------------------------------------

# The real CLI with the overlay's gauge made to fail after a few frames, as a spec whose gauge
# range has zero width did (the video-writer thread died and the run hung for ever).
FAILING_OVERLAY = """
import sys
from posecheck import overlay
real = overlay.GaugeAnnotator.annotate
calls = [0]
def annotate(self, image, view):
    calls[0] += 1
    if calls[0] > 12:
        raise ZeroDivisionError("float division by zero")
    return real(self, image, view)
overlay.GaugeAnnotator.annotate = annotate
from posecheck.cli import main
sys.argv = ["posecheck", *sys.argv[1:]]
main()
"""


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "POSECHECK_DATA_DIR": str(tmp_path / "data")}


def _history_rows(env) -> list[tuple]:
    db = Path(env["POSECHECK_DATA_DIR"]) / "history.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, complete FROM sessions").fetchall()


@pytest.mark.e2e
def test_an_overlay_that_raises_stops_the_run_with_its_report(tmp_path, env):
    result = subprocess.run(
        [sys.executable, "-c", FAILING_OVERLAY, "analyze", str(DEMO), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "drawing the overlay failed" in result.stderr and "--debug" in result.stderr
    report = json.loads((tmp_path / "out" / "bridge_side_demo.report.json").read_text())
    assert report["complete"] is False and report["stopped_by"] == "error"
    assert 12 <= report["input"]["frames"] < 1005
    leftovers = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert leftovers == ["bridge_side_demo.report.json"]  # no broken or partial video


def _wait_for_progress(partial: Path, process: subprocess.Popen, min_bytes: int = 150_000) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if partial.exists() and partial.stat().st_size >= min_bytes:
            return
        time.sleep(0.2)
    pytest.fail(f"the run never got going: {partial} did not grow")


def _frames_in(video: Path) -> int:
    capture = cv2.VideoCapture(str(video))
    ok, _ = capture.read()
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return count if ok else 0


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_analyze_like_ctrl_c(tmp_path, env, signum):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*COMMAND, "analyze", str(DEMO), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    _wait_for_progress(out / ".bridge_side_demo.annotated.partial.mp4", process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert f"Stopped by {signal.Signals(signum).name}" in stderr
    report = json.loads((out / "bridge_side_demo.report.json").read_text())
    assert report["interrupted"] is True and report["stopped_by"] == signal.Signals(signum).name
    assert 0 < report["input"]["frames"] < 1005
    assert (out / "bridge_side_demo.report.html").is_file()
    assert _frames_in(out / "bridge_side_demo.annotated.mp4") == report["input"]["frames"]
    assert _history_rows(env) == [(1, 0)]  # stored, marked incomplete


@pytest.mark.e2e
def test_sigterm_stops_a_headless_live_session_with_report_recording_and_history(tmp_path, env):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*COMMAND, "live", "--camera", str(DEMO), "--headless", "--record", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    _wait_for_progress(out / ".session.recording.partial.mp4", process, min_bytes=100_000)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr and "Stopped by SIGTERM" in stderr
    report = json.loads((out / "segmental_bridge.report.json").read_text())
    assert report["stopped_by"] == "SIGTERM" and report["live"]["ended_by"] == "interrupted"
    assert _frames_in(out / "session.recording.mp4") > 0
    assert (out / "segmental_bridge.report.html").is_file()
    db = Path(env["POSECHECK_DATA_DIR"]) / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        artifacts = json.loads(conn.execute("SELECT artifacts_json FROM sessions").fetchone()[0])
    assert artifacts["recording"].endswith("session.recording.mp4")  # the recording reaches history


@pytest.mark.e2e
def test_closing_the_terminal_ends_analyze_like_sighup(tmp_path, env):
    """A real pseudo-terminal as the run's controlling terminal, closed mid-run: the kernel sends
    SIGHUP and every later write to the terminal fails (EIO); nothing may be lost to that."""
    out = tmp_path / "out"
    master, slave = os.openpty()
    slave_name = os.ttyname(slave)
    os.close(slave)

    def own_terminal():  # a new session whose first terminal opened becomes its controlling one
        os.setsid()
        fd = os.open(slave_name, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(fd, target)

    process = subprocess.Popen(
        [*COMMAND, "analyze", str(DEMO), "--out", str(out)], preexec_fn=own_terminal, env=env, cwd=ROOT
    )
    partial = out / ".bridge_side_demo.annotated.partial.mp4"
    deadline = time.monotonic() + 120
    os.set_blocking(master, False)
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size > 150_000):
        with contextlib.suppress(OSError):  # BlockingIOError when nothing new was written
            os.read(master, 65536)  # a terminal shows what it is sent
        time.sleep(0.1)
    os.close(master)  # the terminal window is closed
    assert process.wait(timeout=120) == 129
    report = json.loads((out / "bridge_side_demo.report.json").read_text())
    assert report["stopped_by"] == "SIGHUP" and 0 < report["input"]["frames"] < 1005
    assert (out / "bridge_side_demo.report.html").is_file()
    assert _frames_in(out / "bridge_side_demo.annotated.mp4") == report["input"]["frames"]
    assert _history_rows(env) == [(1, 0)]
