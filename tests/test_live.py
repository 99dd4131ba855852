"""The live trainer's real loop, driven by a video file (or a scripted source) instead of a camera."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posecheck import live
from posecheck.live import LatestFrameGrabber, LiveSession
from posecheck.model_store import resolve_model
from posecheck.source import FrameSource, VideoFileSource
from posecheck.spec import get_spec, load_specs
from posecheck.speech import Speaker

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
COMMAND = [sys.executable, "-m", "posecheck.cli"]


class ScriptedCamera(FrameSource):
    """The demo clip's first frames, then the camera 'disappears' (ends early) or hangs."""

    def __init__(self, frames: int, then: str = "unplug") -> None:
        self._video = VideoFileSource(DEMO)
        self.fps, self.size, self.frame_count = self._video.fps, self._video.size, None
        self.name = "scripted camera"
        self.frames, self.then = frames, then

    def __iter__(self):
        for frame in self._video:
            if frame.index >= self.frames:
                break
            yield frame
        if self.then == "hang":
            time.sleep(3600)
        self.stopped_early = True

    def close(self) -> None:
        self._video.close()


@pytest.fixture(scope="module")
def model():
    return resolve_model()


@pytest.mark.e2e
def test_headless_session_on_a_clip_played_as_camera(tmp_path):
    result = subprocess.run(
        [*COMMAND, "live", "--camera", str(DEMO), "--headless", "--record", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "segmental_bridge.report.json").read_text())
    assert report["summary"]["reps"] == 3
    assert report["summary"]["good_reps"] == 2
    assert report["live"]["ended_by"] == "source_ended"
    assert report["complete"] is True
    assert (tmp_path / "session.recording.mp4").stat().st_size > 100_000
    assert "latency" in result.stdout


def test_camera_that_cannot_be_opened(tmp_path):
    result = subprocess.run(
        [*COMMAND, "live", "--camera", "97", "--headless", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "Cannot open camera 97" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("then", ["unplug", "hang"])
def test_camera_stopping_mid_session_still_writes_the_report(tmp_path, model, monkeypatch, then):
    monkeypatch.setattr(live, "STALL_TIMEOUT_S", 1.0)
    camera = ScriptedCamera(frames=400, then=then)  # 13 s: the first rep, then the camera is gone
    session = LiveSession([get_spec("segmental_bridge")], camera, model, tmp_path, headless=True)
    outcome = session.run()
    assert outcome.ended_by == "camera_stopped"
    report = json.loads((tmp_path / "segmental_bridge.report.json").read_text())
    assert report["source_stopped_early"] is True and report["complete"] is False
    assert report["summary"]["reps"] == 1
    # a live loop keeps only the newest frame: on a loaded machine it drops some (276 of 400 seen)
    assert 200 <= report["input"]["frames"] <= 400


@pytest.mark.e2e
def test_ctrl_c_ends_the_session_with_a_report(tmp_path):
    process = subprocess.Popen(
        [*COMMAND, "live", "--camera", str(DEMO), "--headless", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(8)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    report = json.loads((tmp_path / "segmental_bridge.report.json").read_text())
    assert report["live"]["ended_by"] == "interrupted" and report["interrupted"] is True
    assert 0 < report["input"]["frames"] < 1005


def test_grabber_hands_over_only_the_newest_frame():
    source = VideoFileSource(DEMO)
    grabber = LatestFrameGrabber(source, realtime=True)
    try:
        first = grabber.next(timeout=5)
        time.sleep(0.5)  # a slow consumer: about 15 frames arrive meanwhile
        second = grabber.next(timeout=5)
        assert first is not None and second is not None
        assert second.frame.index - first.frame.index >= 10  # older frames were dropped, not queued
        assert second.frame.t == pytest.approx(second.frame.index / source.fps, abs=1e-3)
    finally:
        grabber.close()
        source.close()


def test_keys_restart_switch_side_and_move_on(tmp_path, model):
    specs = list(load_specs().values())
    session = LiveSession(specs, ScriptedCamera(frames=1), model, tmp_path, headless=True)
    first = session._new_set()
    current, action = session._handle_key(ord("r"), first)
    assert action is None and current is not first and current.spec is first.spec
    current, _ = session._handle_key(ord("s"), current)
    assert session.side in ("left", "right") and current.checker.fixed_side == session.side
    if len(specs) > 1:
        current, _ = session._handle_key(ord("n"), current)
        assert current.spec is specs[1]
    assert session._handle_key(ord("p"), current)[1] is None and session.paused
    assert session._handle_key(ord("q"), current)[1] == "quit"
    assert session._handle_key(27, current)[1] == "quit"  # Esc
    session.source.close()


def test_speech_off_is_silent_and_unavailable_speech_says_why():
    silent = Speaker.create(enabled=False)
    silent.say("one")
    assert silent.available is False and silent.problem is None
    speaker = Speaker.create(enabled=True)
    try:
        import pyttsx3  # noqa: F401
    except ImportError:
        assert speaker.available is False
        assert "posecheck[speech]" in speaker.problem
    finally:
        speaker.close()
