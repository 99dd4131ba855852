"""Honest about the input: broken timing, files cut short, damaged landmark files; and the
code-read fixes (program --config reaches the HTML report, each exercise's own countdown)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecheck import session_record
from posecheck.live import LiveSession
from posecheck.model_store import resolve_model
from posecheck.overlay import CountdownAnnotator
from posecheck.progression import ProgramConfig
from posecheck.source import Frame, FrameSource, VideoFileSource
from posecheck.spec import get_spec

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"


def run_cli(*args, tmp_path):
    env = {**os.environ, "POSECHECK_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "posecheck.cli", *args], capture_output=True, text=True, timeout=300,
        cwd=ROOT, env=env,
    )  # fmt: skip


def write_clip(path: Path, fps: float, frames: int, fourcc: str = "mp4v", from_demo: bool = False) -> Path:
    capture = cv2.VideoCapture(str(DEMO)) if from_demo else None
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (320, 240))
    for i in range(frames):
        image = cv2.resize(capture.read()[1], (320, 240)) if capture else np.full((240, 320, 3), i, np.uint8)
        writer.write(image)
    writer.release()
    return path


def test_an_implausible_header_frame_rate_is_not_believed(tmp_path):
    clip = write_clip(tmp_path / "slow.mp4", fps=0.1, frames=30)  # 30 frames 'spanning' 290 s
    source = VideoFileSource(clip)
    times = [frame.t for frame in source]
    source.close()
    assert times[-1] == pytest.approx(29 / 30, abs=1e-6)  # seconds: the frame counter at 30 fps
    assert len(source.warnings) == 1 and "implausible frame rate (0.1 fps)" in source.warnings[0]


def test_a_whole_file_has_no_warning(tmp_path):
    source = VideoFileSource(write_clip(tmp_path / "ok.mp4", fps=30, frames=30))
    times = [frame.t for frame in source]
    source.close()
    assert times[-1] == pytest.approx(29 / 30, abs=0.002) and source.warnings == []
    assert source.stopped_early is False


@pytest.fixture
def cut_short(tmp_path) -> Path:
    """An AVI (MJPEG) of 120 frames of the demo clip, cut off in the middle as a broken copy is."""
    whole = write_clip(tmp_path / "whole.avi", fps=30, frames=120, fourcc="MJPG", from_demo=True)
    data = whole.read_bytes()
    clip = tmp_path / "cut.avi"
    clip.write_bytes(data[: len(data) // 2 + 777])
    return clip


def test_a_file_cut_short_is_marked_so(cut_short):
    source = VideoFileSource(cut_short)
    frames = sum(1 for _ in source)
    source.close()
    assert source.frame_count == 120 and frames < 100
    assert source.stopped_early and "cut short" in source.warnings[0]


@pytest.mark.e2e
def test_analysing_a_file_cut_short_says_it_ended_early_without_decoder_noise(cut_short, tmp_path):
    result = run_cli(
        "analyze", str(cut_short), "--out", str(tmp_path / "out"), "--no-video", tmp_path=tmp_path
    )
    report = json.loads((tmp_path / "out" / "cut.report.json").read_text())
    assert report["complete"] is False and report["source_stopped_early"] is True
    assert any("cut short" in w for w in report["warnings"])
    assert "cut short" in result.stdout
    assert "@ 0x" not in result.stderr  # FFmpeg's '[mjpeg @ 0x...] overread' lines stay off the terminal


@pytest.mark.parametrize("keep", [2000, 4000])
def test_a_truncated_landmark_file_is_one_line(tmp_path, keep):
    from posecheck.landmarks import N_LANDMARKS, LandmarkSequence

    n = 50
    seq = LandmarkSequence(
        xy=np.random.default_rng(0).random((n, N_LANDMARKS, 2)), z=np.zeros((n, N_LANDMARKS)),
        visibility=np.ones((n, N_LANDMARKS)), world=np.zeros((n, N_LANDMARKS, 3)),
        t=np.arange(n) / 30.0, image_size=(640, 480),
    )  # fmt: skip
    whole = tmp_path / "whole.npz"
    seq.save(whole)
    cut = tmp_path / "cut.landmarks.npz"
    cut.write_bytes(whole.read_bytes()[:keep])
    result = run_cli("analyze", "--landmarks", str(cut), "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert "Cannot read landmark file" in result.stderr and "damaged or cut short" in result.stderr


# --- code-read fixes -----------------------------------------------------------------------


def test_the_program_config_reaches_the_html_report(tmp_path, monkeypatch):
    seen = {}

    def fake_render(report, spec, video, sessions, mastery_quality, **_options):
        seen["mastery_quality"] = mastery_quality
        return "<html></html>"

    monkeypatch.setattr(session_record, "render_html", fake_render)
    spec = get_spec("pelvic_tilt")
    (tmp_path / "r.report.json").write_text("{}")
    files = {"report": tmp_path / "r.report.json"}
    session_record.record_and_render(spec, {}, files, "program", False, ProgramConfig(mastery_quality=55))
    assert seen["mastery_quality"] == 55


class StillCamera(FrameSource):
    fps, size, frame_count, name = 30.0, (64, 48), None, "still"

    def __iter__(self):
        yield Frame(np.zeros((48, 64, 3), np.uint8), 0.0, 0)

    def close(self) -> None:
        pass


def test_each_exercise_of_a_program_session_counts_down_its_own_start_hold(tmp_path):
    first, second = get_spec("pelvic_tilt"), get_spec("segmental_bridge")
    second = dataclasses.replace(second, start=dataclasses.replace(second.start, hold_s=4.5))
    session = LiveSession([first, second], StillCamera(), resolve_model(), tmp_path, headless=True)
    holds = []
    for index in range(2):
        session._exercise_index = index
        session._new_set()
        holds.append(next(a.hold_s for a in session.annotators if isinstance(a, CountdownAnnotator)))
    assert holds == [first.start.hold_s, 4.5]


class JumpingReader:
    """Stands in for the PyAV reader: 60 frames at 30 fps whose timestamps jump 1000 s at frame 30."""

    def __iter__(self):
        for index in range(60):
            yield np.zeros((8, 8, 3), np.uint8), index / 30.0 + (1000.0 if index >= 30 else 0.0)

    def close(self) -> None:
        pass


def test_timestamps_that_jump_by_seconds_are_replaced_and_said(tmp_path):
    source = VideoFileSource(write_clip(tmp_path / "ok.mp4", fps=30, frames=5))
    source.close()
    source._reader, source.frame_count = JumpingReader(), None
    times = [frame.t for frame in source]
    assert len(times) == 60 and times[-1] == pytest.approx(59 / 30, abs=1e-6)  # seconds, not 1000+
    assert np.allclose(np.diff(times), 1 / 30)  # seconds: the spacing after the jump is kept
    assert source.warnings == [
        "The video's timestamps jumped by more than 2 s between two frames 1 time(s); each jump was "
        "replaced by one frame interval."
    ]
