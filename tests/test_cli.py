"""End to end through the real `posecheck` command: real model, real clips, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
DEMO = SAMPLES / "bridge_side_demo.mp4"
SHARED_MODELS = ROOT.parent / "shared" / "models"
COMMAND = [sys.executable, "-m", "posecheck.cli"]


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT
    )


def load_report(out: Path, stem: str) -> dict:
    return json.loads((out / f"{stem}.report.json").read_text())


DEMO_DATA = {}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    DEMO_DATA["POSECHECK_DATA_DIR"] = str(tmp_path_factory.mktemp("demo-history"))
    result = run_cli("demo", "--out", str(out), env=DEMO_DATA)
    return result, out


@pytest.mark.e2e
def test_demo_counts_the_labelled_reps(demo_run):
    result, out = demo_run
    assert result.returncode == 0, result.stderr
    labels = json.loads((SAMPLES / "bridge_side_demo.json").read_text())
    report = load_report(out, "bridge_side_demo")
    summary = report["summary"]
    assert summary["reps"] == labels["rep_count"] == 3
    assert summary["good_reps"] == labels["clean_rep_count"] == 2
    faulty = [rep for rep in report["reps"] if not rep["good"]]
    assert [f["rule"] for f in faulty[0]["faults"]] == ["hips_not_high"]
    assert faulty[0]["index"] == 2
    for rep, label in zip(report["reps"], labels["reps"], strict=True):
        true_hold = (label["top_end_frame"] - label["top_start_frame"]) / labels["fps"]
        assert rep["hold_s"] == pytest.approx(true_hold, abs=1.0)  # seconds of hold
        mid = (label["start_frame"] + label["end_frame"]) / 2 / labels["fps"]
        assert rep["start_s"] < mid < rep["end_s"]
    assert report["schema_version"] == 1
    assert report["exercise"]["id"] == "segmental_bridge"
    assert report["model"]["variant"] == "full"
    assert report["side"] == "right"  # the clip's camera sees the subject's right side
    assert summary["frames_not_visible"] == 0
    assert "Segmental bridge" in result.stdout and "3/10" in result.stdout


@pytest.mark.e2e
def test_demo_writes_a_playable_annotated_video(demo_run):
    _, out = demo_run
    video = out / "bridge_side_demo.annotated.mp4"
    source, annotated = cv2.VideoCapture(str(DEMO)), cv2.VideoCapture(str(video))
    try:
        for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FPS):
            assert annotated.get(prop) == pytest.approx(source.get(prop))
        assert annotated.get(cv2.CAP_PROP_FRAME_COUNT) == source.get(cv2.CAP_PROP_FRAME_COUNT)
        annotated.set(cv2.CAP_PROP_POS_FRAMES, 800)  # the faulty third rep's hold
        source.set(cv2.CAP_PROP_POS_FRAMES, 800)
        ok_a, frame_a = annotated.read()
        ok_s, frame_s = source.read()
        assert ok_a and ok_s
        bottom = frame_a[-40:, :, :].reshape(-1, 3).mean(axis=0)
        assert bottom[2] > 150 and bottom[0] < 120  # a red fault banner (BGR)
        assert abs(frame_a.astype(int) - frame_s.astype(int)).mean() > 5  # overlay drawn
    finally:
        source.release()
        annotated.release()


@pytest.mark.e2e
def test_demo_writes_the_html_report_and_stores_the_session(demo_run):
    result, out = demo_run
    page = (out / "bridge_side_demo.report.html").read_text()
    assert page.startswith("<!doctype html>") and "Segmental bridge" in page
    assert page.count("data:image/png;base64,") >= 2  # metric plot and quality trend
    assert "data:image/jpeg;base64," in page  # key frame of the faulty rep
    assert "Lift your hips higher" in page and page.count("<tr data-seek=") == 3  # a row per rep
    assert "src='bridge_side_demo.annotated.mp4'" in page  # the video beside the page, linked by name
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "Saved in your history as session 1" in result.stdout
    listed = run_cli("history", env=DEMO_DATA)
    assert listed.returncode == 0 and "segmental_bridge" in listed.stdout
    again = run_cli("report", "1", "--out", str(out / "again.html"), env=DEMO_DATA)
    assert again.returncode == 0 and "data:image/jpeg;base64," in (out / "again.html").read_text()


@pytest.mark.e2e
def test_saved_landmarks_rerun_without_the_model(tmp_path):
    clip = SAMPLES / "bridge_3q_dev.mp4"
    first = run_cli(
        "analyze", str(clip), "-e", "segmental_bridge", "--out", str(tmp_path / "a"), "--save-landmarks"
    )
    assert first.returncode == 0, first.stderr
    landmarks = tmp_path / "a" / "bridge_3q_dev.landmarks.npz"
    assert landmarks.is_file()
    again = run_cli(
        "analyze",
        "-e",
        "segmental_bridge",
        "--landmarks",
        str(landmarks),
        "--out",
        str(tmp_path / "b"),
        env={"POSECHECK_MODEL": "/nonexistent/model.task"},  # proves no model is loaded
    )
    assert again.returncode == 0, again.stderr
    a = load_report(tmp_path / "a", "bridge_3q_dev")
    b = load_report(tmp_path / "b", "bridge_3q_dev")
    labels = json.loads((SAMPLES / "bridge_3q_dev.json").read_text())
    assert a["summary"]["reps"] == b["summary"]["reps"] == labels["rep_count"]
    assert a["reps"] == b["reps"]
    assert [r["good"] for r in a["reps"]] == [r["clean"] for r in labels["reps"]]
    assert [f["rule"] for f in a["reps"][1]["faults"]] == ["hips_sag"]


@pytest.mark.e2e
def test_lite_variant_from_the_model_folder(tmp_path):
    if not (SHARED_MODELS / "pose_landmarker_lite.task").is_file():
        pytest.skip(f"no lite model in {SHARED_MODELS}: the lite variant cannot be tested offline")
    env = {"POSECHECK_MODEL_DIRS": str(SHARED_MODELS), "POSECHECK_CACHE_DIR": str(tmp_path / "cache")}
    shown = run_cli("model", "--model-variant", "lite", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "lite" in shown.stdout and "rebuilt" in shown.stdout
    result = run_cli("demo", "--out", str(tmp_path), "--model-variant", "lite", env=env)
    assert result.returncode == 0, result.stderr
    report = load_report(tmp_path, "bridge_side_demo")
    assert report["model"]["variant"] == "lite"
    assert report["summary"]["reps"] == 3


@pytest.mark.e2e
def test_ctrl_c_still_writes_the_report(tmp_path):
    process = subprocess.Popen(
        [*COMMAND, "analyze", str(DEMO), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    video = tmp_path / ".bridge_side_demo.annotated.partial.mp4"  # renamed once complete
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not video.exists() or video.stat().st_size < 200_000):
        time.sleep(0.2)  # wait until a few seconds of video have been analysed
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    report = load_report(tmp_path, "bridge_side_demo")
    assert report["interrupted"] is True and report["complete"] is False
    assert 0 < report["input"]["frames"] < 1005
    assert "Interrupted" in stderr


def _corrupt_bundle(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("pose_detector.tflite", b"garbage")
        bundle.writestr("pose_landmarks_detector.tflite", b"garbage")
    return path


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda d: ["analyze", str(d / "missing.mp4")], "Video not found"),
        (lambda d: ["analyze", str(_text(d / "notes.mp4"))], "Cannot decode"),
        (lambda d: ["analyze", str(_text(d / "empty.mp4", ""))], "empty"),
        (lambda d: ["analyze", str(DEMO), "-e", "no_such_exercise"], "Unknown exercise 'no_such_exercise'"),
        (lambda d: ["analyze", str(DEMO), "--out", str(_text(d / "a_file"))], "is a file, not a folder"),
        (lambda d: ["analyze", str(DEMO), "--model", str(d / "none.task")], "does not exist"),
        (
            lambda d: ["analyze", str(DEMO), "--model", str(_text(d / "bad.task"))],
            "not a PoseLandmarker model",
        ),
        (
            lambda d: ["analyze", str(DEMO), "--model", str(_corrupt_bundle(d / "c.task"))],
            "Cannot load the pose model",
        ),
        (lambda d: ["analyze", "--landmarks", str(_text(d / "x.npz"))], "Cannot read landmark file"),
        (lambda d: ["exercises", "nope"], "Unknown exercise"),
        (lambda d: ["analyze", "--bogus"], "No such option"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, make_args, expected):
    result = run_cli(*make_args(tmp_path))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3  # one wrapped line


def _text(path: Path, content: str = "not a video") -> Path:
    path.write_text(content)
    return path


@pytest.mark.e2e
def test_video_without_a_person(tmp_path):
    clip = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    import numpy as np

    for i in range(30):
        writer.write(np.full((240, 320, 3), 60 + i, np.uint8))
    writer.release()
    result = run_cli("analyze", str(clip), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "No person was detected" in result.stderr
    report = load_report(tmp_path / "out", "empty_room")
    assert report["summary"]["reps"] == 0 and report["summary"]["frames_not_visible"] == 30


@pytest.mark.parametrize("command", ["analyze", "demo", "exercises", "model"])
def test_every_command_has_help_with_an_example(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("posecheck ")
