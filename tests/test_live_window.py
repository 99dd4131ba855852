"""The live window for real: `posecheck live` under a virtual X server (Xvfb), a clip as the camera.

Screenshots of the whole screen and key presses sent to the window check what a person across
the room sees: the picture filling the screen, the pause screen, the way back to a window, the
mirror for exercises done facing the camera.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from xserver import SCREEN, XServer, wait_for_screen

from posecheck.av_video import H264Writer, VideoFileReader
from posecheck.engine import Checker
from posecheck.landmarks import LandmarkSequence
from posecheck.live import LiveSession
from posecheck.live_window import display_view, fit, render
from posecheck.model_store import resolve_model
from posecheck.overlay import OverlayView, default_annotators, draw_overlay
from posecheck.spec import get_spec

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
COMMAND = [sys.executable, "-m", "posecheck.cli"]


@pytest.fixture(scope="module")
def xserver():
    server = XServer()
    yield server
    server.close()


def _live(xserver: XServer, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*COMMAND, "live", *args, "--no-history"],
        env={**xserver.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _picture_fills_the_screen_height(shot: np.ndarray) -> bool:
    # the 640x480 clip fitted to 1280x720: 960x720 in the middle, black bars of 160 pixels
    middle = shot[:, 200:1080].reshape(-1, 3)
    bars = np.concatenate([shot[:, :150], shot[:, -150:]], axis=1)
    rows_lit = (shot[:, 200:1080].max(axis=(1, 2)) > 40).mean()
    return middle.mean() > 60 and bars.max() < 10 and rows_lit > 0.99


def _paused(shot: np.ndarray, lit_mean: float) -> bool:
    picture = shot[:, 200:1080]
    centre = shot[250:330, 400:880]
    white_text = (centre.min(axis=2) > 235).sum()
    return picture.mean() < 0.6 * lit_mean and white_text > 300


@pytest.mark.e2e
def test_full_screen_window_pause_key_and_back_to_a_window(xserver, tmp_path):
    process = _live(xserver, "--camera", str(DEMO), "--fullscreen", "--out", str(tmp_path))
    try:
        window = xserver.window_id("posecheck")
        shot = wait_for_screen(xserver, _picture_fills_the_screen_height)
        assert xserver.window_geometry(window) == SCREEN  # the whole screen, no title bar or toolbar
        # The message banner along the bottom spans the fitted picture (960 pixels), not 640.
        banner_row = shot[-8, :, :].astype(int)
        coloured = np.abs(banner_row - banner_row.mean(axis=1, keepdims=True)).sum(axis=1) > 60
        assert 900 <= coloured.sum() <= 970
        lit_mean = float(shot[:, 200:1080].mean())

        xserver.key(window, "p")
        wait_for_screen(xserver, lambda s: _paused(s, lit_mean), timeout=30)

        xserver.key(window, "f")  # back to a window: 90 % of the screen, the picture's shape kept
        expected = fit((640, 480), (int(SCREEN[0] * 0.9), int(SCREEN[1] * 0.9)))
        wait_for_screen(xserver, lambda s: xserver.window_geometry(window) == expected, timeout=30)

        xserver.key(window, "q")
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    report = json.loads((tmp_path / "segmental_bridge.report.json").read_text())
    assert report["live"]["ended_by"] == "quit"


@pytest.mark.e2e
def test_facing_the_camera_is_shown_mirrored_and_recorded_as_is(xserver, tmp_path):
    clip = tmp_path / "room.mp4"
    room = np.full((240, 320, 3), 40, np.uint8)
    room[:, :160] = 230  # bright on the camera's left, dark on its right
    with H264Writer(clip, 30, (320, 240)) as writer:
        for _ in range(150):
            writer.write(room)
    # the piriformis stretch may be done facing the camera (view "either"): mirrored by default
    args = ["--camera", str(clip), "-e", "piriformis_stretch", "--record", "--out", str(tmp_path)]
    process = _live(xserver, *args)
    try:
        xserver.window_id("posecheck")
        width, height = fit((320, 240), (int(SCREEN[0] * 0.9), int(SCREEN[1] * 0.9)))
        left, top = (SCREEN[0] - width) // 2, (SCREEN[1] - height) // 2
        band = slice(top + height // 3, top + height // 2)  # clear of the overlay's boxes and banner

        def mirrored(shot: np.ndarray) -> bool:
            shown_left = shot[band, left + 20 : left + width // 2 - 20].mean()
            shown_right = shot[band, left + width // 2 + 20 : left + width - 20].mean()
            return shown_left < 100 and shown_right > 180

        wait_for_screen(xserver, mirrored)
        _, stderr = process.communicate(timeout=60)  # the clip ends: the session ends
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    with VideoFileReader(tmp_path / "session.recording.mp4") as recording:
        first, _ = next(iter(recording))
    assert first[100:140, 20:140].mean() > 180 and first[100:140, 180:300].mean() < 100  # not mirrored


def test_a_live_window_without_a_screen_is_one_clear_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [*COMMAND, "live", "--camera", str(DEMO), "--out", str(tmp_path), "--no-history"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "No screen to show the live window on" in result.stderr and "--headless" in result.stderr
    assert "Traceback" not in result.stderr


def _one_pose(x: float, y: float, size=(640, 480)) -> LandmarkSequence:
    pose = LandmarkSequence.missing(0.0, size)
    pose.xy[0, :, 0], pose.xy[0, :, 1] = x, y
    return pose


def test_mirror_flips_the_picture_and_skeleton_for_display_only():
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :100] = 255
    spec = get_spec("segmental_bridge")
    state = Checker(spec).process(_one_pose(100.0, 200.0))[0]
    view = OverlayView(_one_pose(100.0, 200.0), state, spec)
    shown = display_view(view, 2.0, 1280, mirror=True)
    assert shown.landmarks.xy[0, 15, 0] == pytest.approx(1279 - 200)  # a wrist at x=100, on the other side
    assert shown.landmarks.xy[0, 15, 1] == pytest.approx(400)
    assert view.landmarks.xy[0, 15, 0] == 100  # what the checker sees is untouched
    picture = render(image, None, [], (1280, 960), mirror=True)
    assert picture.shape == (960, 1280, 3)
    assert picture[:, -190:].min() == 255 and picture[:, :1000].max() == 0
    assert image[:, :100].min() == 255  # the camera's frame is untouched


def test_mirror_is_automatic_for_exercises_done_facing_the_camera(tmp_path):
    session = LiveSession([get_spec("segmental_bridge")], str(DEMO), resolve_model(), tmp_path, headless=True)
    try:
        assert session.mirrored(get_spec("segmental_bridge")) is False  # a side view
        assert session.mirrored(get_spec("piriformis_stretch")) is True  # may face the camera
        session.mirror = "off"
        assert session.mirrored(get_spec("piriformis_stretch")) is False
        session.mirror = "on"
        assert session.mirrored(get_spec("segmental_bridge")) is True
    finally:
        session.source.close()


def test_the_overlay_is_drawn_at_the_window_size_not_stretched():

    from posecheck.engine import Checker

    spec = get_spec("segmental_bridge")
    with VideoFileReader(DEMO) as reader:
        image, _ = next(iter(reader))
    pose = _one_pose(300.0, 250.0)
    pose.visibility[:] = 1.0
    state = Checker(spec).process(pose)[0]
    view = OverlayView(pose, state, spec, advice="Turn side-on to the camera")
    shown = render(image, view, default_annotators(), (1280, 960), mirror=False)
    big_view = display_view(view, 2.0, 1280, False)
    drawn_big = draw_overlay(cv2.resize(image, (1280, 960)), big_view, default_annotators())
    stretched = cv2.resize(draw_overlay(image.copy(), view, default_annotators()), (1280, 960))
    assert np.array_equal(shown, drawn_big)
    # a stretched small overlay has soft edges: the sharp one has more pure white text pixels
    assert (shown.min(axis=2) == 255).sum() > 1.3 * (stretched.min(axis=2) == 255).sum()
