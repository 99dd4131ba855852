"""Video files through PyAV: real files written and read back, inspected as a player would see them."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from posecheck.av_video import H264Writer, VideoFileReader, frame_at
from posecheck.errors import UserError
from posecheck.source import VideoFileSource
from posecheck.video_io import BackgroundVideoWriter

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (e.g. ftyp, moov, mdat)."""
    boxes, data = [], path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def stream_facts(path: Path) -> dict:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [frame.pts * frame.time_base for frame in container.decode(stream)]
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "rate": stream.average_rate,
            "times": [float(t - pts[0]) for t in pts],
        }


def numbered_picture(i: int, size=(160, 120)) -> np.ndarray:
    """A picture whose grey level says its frame number (steps of 20 survive compression)."""
    return np.full((size[1], size[0], 3), (i * 20) % 240 + 10, np.uint8)


def test_annotated_video_format_plays_everywhere(tmp_path):
    path = tmp_path / "out.mp4"
    with H264Writer(path, 30, (320, 240)) as writer:
        for i in range(45):
            writer.write(numbered_picture(i, (320, 240)))
    facts = stream_facts(path)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["size"] == (320, 240) and facts["rate"] == 30
    assert len(facts["times"]) == 45
    assert facts["times"] == pytest.approx(np.arange(45) / 30, abs=1e-4)  # seconds
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: the index comes first


def test_ntsc_rate_is_kept_exactly(tmp_path):
    path = tmp_path / "ntsc.mp4"
    with H264Writer(path, 30000 / 1001, (160, 120)) as writer:
        for i in range(10):
            writer.write(numbered_picture(i))
    assert stream_facts(path)["rate"] == Fraction(30000, 1001)


def test_variable_frame_rate_keeps_each_frames_time(tmp_path):
    times = [0.0, 0.033, 0.070, 0.100, 0.200, 0.210, 0.300, 0.345, 0.5]
    path = tmp_path / "vfr.mp4"
    with H264Writer(path, 20, (160, 120)) as writer:
        for i, t in enumerate(times):
            writer.write(numbered_picture(i), t)
    with VideoFileSource(path) as source:
        frames = list(source)
    assert [f.t for f in frames] == pytest.approx(times, abs=1e-4)  # seconds, not index / fps
    levels = [int(f.image.mean()) for f in frames]
    assert levels == pytest.approx([(i * 20) % 240 + 10 for i in range(len(times))], abs=6)  # steps of 20


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_rotation_flag_is_applied_so_the_picture_is_upright(tmp_path, rotation):
    upright = np.zeros((160, 120, 3), np.uint8)  # a portrait picture, 120 wide and 160 high
    upright[:40, :30] = (0, 0, 255)  # red in the top-left corner ("the head")
    upright[-40:, -30:] = (255, 0, 0)  # blue in the bottom-right corner
    # Stored as a phone stores it: the sensor's picture plus a flag saying how to turn it.
    stored = {-90: cv2.ROTATE_90_COUNTERCLOCKWISE, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180}
    sensor = cv2.rotate(upright, stored[rotation])
    path = tmp_path / f"phone{rotation}.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = sensor.shape[1], sensor.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.set_display_rotation(rotation)
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(sensor, format="bgr24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with VideoFileSource(path) as source:
        image = next(iter(source)).image
    assert source.size == (120, 160)
    assert np.abs(image.astype(int) - upright.astype(int)).mean() < 4  # the upright picture, not turned


def test_odd_size_is_padded_by_one_pixel(tmp_path):
    path = tmp_path / "odd.mp4"
    with H264Writer(path, 25, (161, 121)) as writer:
        writer.write(numbered_picture(3, (161, 121)))
    assert stream_facts(path)["size"] == (162, 122)


def test_key_frame_at_a_time_is_that_frame(tmp_path):
    path = tmp_path / "numbered.mp4"
    with H264Writer(path, 10, (160, 120)) as writer:
        for i in range(12):
            writer.write(numbered_picture(i))
    for i in (0, 4, 11):
        image = frame_at(path, i / 10 + 0.01)
        assert image is not None and image.mean() == pytest.approx((i * 20) % 240 + 10, abs=6)


def test_background_writer_writes_h264_at_the_given_times(tmp_path):
    path = tmp_path / "bg.mp4"
    writer = BackgroundVideoWriter(path, 30, (160, 120))
    for i, t in enumerate([0.0, 0.05, 0.2]):
        writer.write(numbered_picture(i), t)
    writer.close()
    facts = stream_facts(path)
    assert facts["codec"] == "h264" and facts["times"] == pytest.approx([0.0, 0.05, 0.2], abs=1e-4)


def test_unwritable_output_is_one_clear_line(tmp_path):
    with pytest.raises(UserError, match="Cannot write the video .*--out"):
        H264Writer(tmp_path / "no such folder" / "x.mp4", 30, (160, 120))


def test_audio_only_file_says_it_has_no_video(tmp_path):
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(UserError, match="no video stream"):
        VideoFileReader(path)


def test_a_file_pyav_cannot_open_is_one_line_through_the_cli(tmp_path):
    path = tmp_path / "holiday.mov"
    path.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(range(256)) * 8)  # a broken QuickTime header
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "analyze", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "Cannot decode" in result.stderr and "holiday.mov" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3  # one wrapped line


@pytest.mark.e2e
def test_portrait_phone_video_is_analysed_upright(tmp_path):
    """The demo's first rep stored sideways with a -90 degree flag, at a variable frame rate."""
    phone = tmp_path / "phone_bridge.mp4"
    kept_times = []
    with VideoFileSource(DEMO) as source, av.open(str(phone), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = source.size[1], source.size[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.set_display_rotation(-90)
        for frame in source:
            if frame.index >= 420:  # 14 s: the first rep ends at about 11 s
                break
            if frame.index % 5 == 4:  # a phone dropping frames: irregular spacing
                continue
            sideways = av.VideoFrame.from_ndarray(
                cv2.rotate(frame.image, cv2.ROTATE_90_COUNTERCLOCKWISE), format="bgr24"
            )
            sideways.pts = round(frame.t * 1000)
            sideways.time_base = Fraction(1, 1000)
            kept_times.append(frame.t)
            container.mux(stream.encode(sideways))
        container.mux(stream.encode(None))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "analyze", str(phone), "--out", str(out), "--no-history"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "phone_bridge.report.json").read_text())
    assert (report["input"]["width"], report["input"]["height"]) == (640, 480)  # upright: landscape
    assert report["summary"]["reps"] == 1 and report["summary"]["good_reps"] == 1
    assert report["side"] == "right"
    annotated = stream_facts(out / "phone_bridge.annotated.mp4")
    assert annotated["size"] == (640, 480) and annotated["codec"] == "h264"
    assert annotated["times"] == pytest.approx(kept_times, abs=2e-3)  # the phone's own times kept
