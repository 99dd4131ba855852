"""Frame sources on real files decoded by OpenCV, and the camera path failing cleanly."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from posecheck.errors import UserError
from posecheck.source import CameraSource, VideoFileSource, open_source

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "bridge_side_demo.mp4"


def _write_clip(path: Path, fps: float, n: int, size=(160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
    writer.release()
    return path


def test_timestamps_come_from_the_file(tmp_path):
    clip = _write_clip(tmp_path / "clip25.mp4", fps=25, n=30)
    with VideoFileSource(clip) as source:
        frames = list(source)
    assert source.fps == pytest.approx(25)
    assert source.size == (160, 120)
    assert len(frames) == 30
    times = np.array([f.t for f in frames])
    assert np.all(np.diff(times) > 0)
    assert times == pytest.approx(np.arange(30) / 25, abs=1e-3)  # seconds


def test_sample_clip_decodes_whole():
    with VideoFileSource(SAMPLE) as source:
        count = sum(1 for _ in source)
    assert count == source.frame_count == 1005


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "not found"), (b"", "empty"), (b"this is not a video", "Cannot decode")],
)
def test_bad_files_give_clear_errors(tmp_path, content, expected):
    path = tmp_path / "input.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=expected):
        VideoFileSource(path)


def test_folder_is_not_a_video(tmp_path):
    with pytest.raises(UserError, match="folder"):
        VideoFileSource(tmp_path)


def test_camera_that_cannot_be_opened_says_what_to_try():
    with pytest.raises(UserError, match="Cannot open camera 97.*--camera"):
        CameraSource(97)
    with pytest.raises(UserError, match="Cannot open camera"):
        open_source("98")


def test_open_source_picks_a_file_for_paths():
    source = open_source(str(SAMPLE))
    try:
        assert isinstance(source, VideoFileSource)
    finally:
        source.close()
