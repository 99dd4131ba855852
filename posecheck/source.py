"""Frame sources: a video file or a camera, both yielding frames with their timestamps.

A source is an iterator of `Frame`s. A file's timestamps are its own presentation times
(decoded by PyAV, so a variable-frame-rate video keeps its real timing, and a rotation flag is
applied), not a frame counter, and are made strictly increasing as MediaPipe's VIDEO mode
requires. Timing that cannot be right (a header frame rate of 0 or thousands, timestamps
jumping by seconds between frames) is replaced by the frame counter, and a file that ends
before the frames its header announces, or breaks part-way, is marked `stopped_early`; both
are said in `warnings`. Cameras are read with OpenCV; FFmpeg's own messages are kept off the
terminal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posecheck.av_video import VideoFileReader
from posecheck.errors import UserError
from posecheck.quiet import quiet_native_stderr

if not os.environ.get("POSECHECK_VERBOSE_NATIVE"):
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET: read before the first capture

PLAUSIBLE_FPS = (1.0, 480.0)
MAX_FRAME_GAP_S = 2.0  # a longer jump between consecutive frames is a broken timestamp, not time
CUT_SHORT_SHARE = 0.9  # fewer decoded frames than this share of the header's count: cut short

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


@dataclass(frozen=True)
class Frame:
    """One decoded frame: `image` is BGR uint8 (H, W, 3); `t` is seconds since the start."""

    image: np.ndarray
    t: float
    index: int


class FrameSource:
    """Common interface of video files and cameras."""

    fps: float
    size: tuple[int, int]
    frame_count: int | None
    name: str
    stopped_early: bool = False  # set when a camera stops delivering frames or a file is cut short
    warnings: tuple[str, ...] | list[str] = ()  # what to know about the input (timing, truncation)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoFileSource(FrameSource):
    """Frames of a video file decoded by PyAV (see av_video.py), upright, at their own times."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        self.name = str(path)
        if not path.exists():
            raise UserError(f"Video not found: {path}. Check the path and try again.")
        if path.is_dir():
            raise UserError(f"{path} is a folder, not a video file. Pass the path of a video.")
        if path.stat().st_size == 0:
            raise UserError(f"{path} is empty (0 bytes). Record or copy the video again.")
        self._reader = VideoFileReader(path)
        self.size = self._reader.size
        self.frame_count = self._reader.frame_count
        self.rotation = self._reader.rotation
        self.warnings = []
        fps = self._reader.declared_fps
        plausible = PLAUSIBLE_FPS[0] <= fps <= PLAUSIBLE_FPS[1]
        self.fps = fps if plausible else 30.0
        self._counter_times = not plausible  # the container's times follow the same broken header
        if not plausible:
            self.warnings.append(
                f"The video's header gives an implausible frame rate ({fps:g} fps): its timestamps "
                "were ignored and 30 fps assumed, so times and hold lengths may be off. Re-encode the "
                "video (e.g. export it again from the phone) for exact timing."
            )

    def __iter__(self) -> Iterator[Frame]:
        frame_interval = 1.0 / self.fps
        last_t = -np.inf
        index = 0
        jumps, offset = 0, 0.0
        frames = iter(self._reader)
        while True:
            try:
                image, t = next(frames)
            except StopIteration:
                break
            except UserError as exc:  # damaged part-way: keep what was read, say where it broke
                self.stopped_early = True
                self.warnings.append(f"{exc} The report covers the {index} frames before it.")
                break
            if self._counter_times:
                t = index * frame_interval
            else:
                t -= offset
                if np.isfinite(last_t) and t - last_t > max(MAX_FRAME_GAP_S, 10 * frame_interval):
                    jumps += 1  # a broken timestamp: the frame comes one interval after the last,
                    offset += t - last_t - frame_interval  # and the later ones keep their spacing
                    t = last_t + frame_interval
            if not np.isfinite(t) or t <= last_t:
                # Some containers report no or repeated times: step one frame interval on.
                t = last_t + frame_interval if np.isfinite(last_t) else 0.0
            yield Frame(image=image, t=t, index=index)
            last_t = t
            index += 1
        if jumps:
            self.warnings.append(
                f"The video's timestamps jumped by more than {MAX_FRAME_GAP_S:g} s between two frames "
                f"{jumps} time(s); each jump was replaced by one frame interval."
            )
        if not self.stopped_early and self.frame_count and index < CUT_SHORT_SHARE * self.frame_count:
            self.stopped_early = True
            self.warnings.append(
                f"The video ended after {index} of the {self.frame_count} frames its header announces: "
                "the file looks cut short (truncated), so the report covers only the part that could "
                "be read."
            )

    def close(self) -> None:
        self._reader.close()


class CameraSource(FrameSource):
    """Frames from a camera (device index) or a stream URL, timestamped on arrival."""

    def __init__(self, device: int | str) -> None:
        self.name = f"camera {device}"
        with quiet_native_stderr():
            self._capture = cv2.VideoCapture(device)
            ok, first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok or first is None:
            self._capture.release()
            raise UserError(
                f"Cannot open camera {device!r}. Check that it is plugged in and not used by "
                "another program, try another index (--camera 0, 1, ...), or pass a video file."
            )
        self._first = first
        height, width = first.shape[:2]
        self.size = (width, height)
        self.warnings = []
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0
        self.frame_count = None
        self._start = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        image = self._first
        last_t = -1.0
        while True:
            t = max(time.monotonic() - self._start, last_t + 1e-3)
            yield Frame(image=image, t=t, index=index)
            last_t = t
            index += 1
            ok, image = self._capture.read()
            if not ok or image is None:
                self.stopped_early = True
                return

    def close(self) -> None:
        self._capture.release()


def open_source(spec: str | Path) -> FrameSource:
    """Open a video file, or a camera when `spec` is a device index ("0") or a stream URL."""
    text = str(spec)
    if text.isdigit():
        return CameraSource(int(text))
    if "://" in text:
        return CameraSource(text)
    return VideoFileSource(Path(text))
