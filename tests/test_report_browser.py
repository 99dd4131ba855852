"""The HTML report in real headless Chromium: the annotated video loads, plays and seeks to the right frame.

The session here is the demo clip's labelled keypoints (no pose model needed) drawn by the real
pipeline on a video whose every frame shows its own number as three grey bars, so a screenshot of
the player says exactly which frame the browser shows.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from browser import element_picture, file_url, page_errors, start_chromium, wait_until

from posecheck.analysis import analyze
from posecheck.av_video import H264Writer
from posecheck.landmarks import LandmarkSequence
from posecheck.session_record import record_and_render
from posecheck.spec import get_spec

ROOT = Path(__file__).resolve().parents[1]
KEYPOINTS = ROOT / "sample_videos" / "bridge_side_demo.npz"
FPS = 30
SIZE = (640, 480)
# Where the frame number is drawn: three bars at the left, clear of the overlay's boxes and banner.
BARS_X = (10, 90)
BARS_Y = ((170, 215), (225, 270), (280, 325))
LEVEL0, STEP = 8, 15  # grey level of digit d (base 16): 8 + 15 d; steps of 15 survive compression


def numbered_frame(index: int) -> np.ndarray:
    image = np.full((SIZE[1], SIZE[0], 3), 96, np.uint8)
    for k, (top, bottom) in enumerate(BARS_Y):
        digit = (index // 16**k) % 16
        image[top:bottom, BARS_X[0] : BARS_X[1]] = LEVEL0 + STEP * digit
    return image


def frame_number(picture: np.ndarray) -> int:
    """Read the number back from a screenshot of the player (any size, same aspect ratio)."""
    scale = picture.shape[1] / SIZE[0]
    x = int((BARS_X[0] + BARS_X[1]) / 2 * scale)
    number = 0
    for k, (top, bottom) in enumerate(BARS_Y):
        y = int((top + bottom) / 2 * scale)
        level = float(np.median(picture[y - 3 : y + 4, x - 3 : x + 4]))
        number += round((level - LEVEL0) / STEP) * 16**k
    return number


def shown_frame(t: float) -> int:
    """The frame a player shows after seeking to t (seconds) plus the report's small step past it."""
    return math.floor((t + 0.002) * FPS + 1e-6)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A real session folder: the annotated H.264 video, the JSON and the HTML report."""
    work = tmp_path_factory.mktemp("numbered")
    keypoints = np.load(KEYPOINTS)
    frames = len(keypoints["kp2d"])
    video = work / "numbered.mp4"
    with H264Writer(video, FPS, SIZE) as writer:
        for i in range(frames):
            writer.write(numbered_frame(i))
    visible = keypoints["visible"].astype(float)
    landmarks = LandmarkSequence(
        xy=keypoints["kp2d"].astype(float),
        z=np.zeros(visible.shape),
        visibility=visible,
        world=keypoints["kp3d_world"].astype(float),
        t=np.arange(frames) / FPS,
        image_size=SIZE,
    )
    landmarks.save(work / "numbered.landmarks.npz")
    spec = get_spec("segmental_bridge")
    out = work / "session"
    outputs = analyze(
        spec, out, video=video, landmarks_file=work / "numbered.landmarks.npz", show_progress=False
    )
    recorded = record_and_render(spec, outputs.report, outputs.files, "analyze", use_history=False)
    return outputs.report, recorded.html


@pytest.fixture(scope="module")
def browser():
    driver = start_chromium()
    yield driver
    driver.quit()


def _open(browser, page: Path):
    """Load the page and wait for its video: returns the duration (seconds) or 'error CODE'."""
    page_errors(browser)  # forget what earlier pages logged
    browser.get(file_url(page))
    return wait_until(
        browser,
        "var v = document.getElementById('session-video');"
        "return v && (v.error ? 'error ' + v.error.code : (v.readyState >= 2 && v.duration));",
    )


def _picture_after_click(browser, element) -> np.ndarray:
    browser.execute_script(
        "window.__seeked = false; document.getElementById('session-video')"
        ".addEventListener('seeked', function () { window.__seeked = true; }, {once: true});"
    )
    element.click()
    wait_until(browser, "return window.__seeked;")
    browser.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));")
    return element_picture(browser.find_element("id", "session-video"))


def test_the_video_loads_and_plays_in_the_report(session, browser):
    report, page = session
    duration = _open(browser, page)
    assert duration == pytest.approx(report["input"]["frames"] / FPS, abs=0.05)  # seconds
    src = browser.find_element("id", "session-video").get_attribute("src")
    assert src.endswith("/session/numbered.annotated.mp4")  # a relative link, resolved beside the page
    browser.execute_script("var v = document.getElementById('session-video'); v.muted = true; v.play();")
    wait_until(browser, "return document.getElementById('session-video').currentTime > 0.5;", timeout=10)
    browser.execute_script("document.getElementById('session-video').pause();")
    assert page_errors(browser) == []


def test_a_rep_row_seeks_the_video_to_the_reps_first_frame(session, browser):
    report, page = session
    _open(browser, page)
    rows = browser.find_elements("css selector", "tr[data-seek]")
    assert len(rows) == len(report["reps"]) == 3
    for row, rep in zip(rows, report["reps"], strict=True):
        picture = _picture_after_click(browser, row)
        now = browser.execute_script("return document.getElementById('session-video').currentTime;")
        assert now == pytest.approx(rep["start_s"], abs=0.005)  # seconds
        assert frame_number(picture) == shown_frame(rep["start_s"])
        assert "current" in row.get_attribute("class")  # the row of the rep being shown is marked


def test_a_fault_key_frame_seeks_to_its_moment(session, browser):
    _, page = session
    _open(browser, page)
    figures = browser.find_elements("css selector", "figure[data-seek]")
    assert figures, "the faulty third rep should have a key frame"
    when = float(figures[0].get_attribute("data-seek"))
    picture = _picture_after_click(browser, figures[0])
    assert frame_number(picture) == shown_frame(when)


def test_the_plot_shows_where_the_video_is(session, browser):
    report, page = session
    _open(browser, page)
    plot = browser.find_element("css selector", ".timeplot")
    _picture_after_click(browser, browser.find_elements("css selector", "tr[data-seek]")[1])
    box = browser.execute_script(
        "var p = document.querySelector('.timeplot'), c = p.querySelector('.cursor');"
        "var a = p.getBoundingClientRect(), b = c.getBoundingClientRect();"
        "return [a.left, a.width, b.left + b.width / 2, getComputedStyle(c).display];"
    )
    plot_left, plot_width, cursor_x, display = box
    assert display == "block"
    d = {k: float(plot.get_attribute(f"data-{k}")) for k in ("t0", "t1", "left", "right")}
    t = report["reps"][1]["start_s"] + 0.002
    expected = d["left"] + (t - d["t0"]) / (d["t1"] - d["t0"]) * (d["right"] - d["left"])
    assert (cursor_x - plot_left) / plot_width == pytest.approx(expected, abs=0.003)  # of the plot's width


def test_the_folder_can_be_moved(session, browser, tmp_path):
    _, page = session
    moved = tmp_path / "sent to the physio"
    shutil.move(page.parent, moved)
    try:
        duration = _open(browser, moved / page.name)
        assert duration == pytest.approx(33.5, abs=0.05)  # found beside the page, not where it was
    finally:
        shutil.move(moved, page.parent)


def test_without_the_video_the_report_is_still_readable(session, browser, tmp_path):
    report, _ = session
    spec = get_spec("segmental_bridge")
    files = {"report": tmp_path / "novideo.report.json"}
    files["report"].write_text("{}")
    page = record_and_render(spec, report, files, "analyze", use_history=False).html
    page_errors(browser)
    browser.get(file_url(page))
    wait_until(browser, "return document.readyState === 'complete';")
    assert browser.find_elements("id", "session-video") == []
    text = browser.find_element("tag name", "body").text
    assert "No annotated video was kept" in text
    assert len(browser.find_elements("css selector", "tr[data-seek]")) == 3  # the reps table is there
    assert browser.execute_script("return document.querySelector('img.plot').naturalWidth;") > 500
    assert page_errors(browser) == []


def test_hd_colours_look_the_same_in_the_browser(tmp_path, browser):
    """An untagged HD video is shown with other colours (BT.709): ours says BT.601."""
    size = (1280, 720)
    colours = [(50, 50, 230), (80, 200, 60), (200, 120, 40)]  # the overlay's red, green and blue (BGR)
    image = np.zeros((size[1], size[0], 3), np.uint8)
    for k, colour in enumerate(colours):
        image[:, k * size[0] // 3 : (k + 1) * size[0] // 3] = colour
    with H264Writer(tmp_path / "hd.mp4", 10, size) as writer:
        for _ in range(5):
            writer.write(image)
    page = tmp_path / "hd.html"
    page.write_text("<video id='session-video' muted src='hd.mp4' style='width:640px'></video>")
    _open(browser, page)
    picture = element_picture(browser.find_element("id", "session-video"))
    height, width = picture.shape[:2]
    for k, colour in enumerate(colours):
        shown = picture[height // 2, int((k + 0.5) * width / 3)].astype(int)
        assert np.abs(shown - np.array(colour)).max() <= 6, (colour, shown)


@pytest.mark.e2e
def test_posecheck_demo_report_plays_its_h264_video_and_seeks_from_the_reps_table(browser, tmp_path):
    """The issue's 'done when': `posecheck demo` (real model) and its report in Chromium."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "demo", "--out", str(out), "--no-history"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    with av.open(str(out / "bridge_side_demo.annotated.mp4")) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    report = json.loads((out / "bridge_side_demo.report.json").read_text())
    duration = _open(browser, out / "bridge_side_demo.report.html")
    assert duration == pytest.approx(1005 / 30, abs=0.05)  # seconds
    browser.execute_script("var v = document.getElementById('session-video'); v.muted = true; v.play();")
    wait_until(browser, "return document.getElementById('session-video').currentTime > 0.5;", timeout=10)
    browser.execute_script("document.getElementById('session-video').pause();")
    third = browser.find_elements("css selector", "tr[data-seek]")[2]
    _picture_after_click(browser, third)
    now = browser.execute_script("return document.getElementById('session-video').currentTime;")
    assert now == pytest.approx(report["reps"][2]["start_s"], abs=0.005)  # seconds
    assert page_errors(browser) == []
