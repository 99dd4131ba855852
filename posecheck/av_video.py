"""Video files through PyAV (FFmpeg's libraries): exact timestamps and rotation in, H.264 MP4 out.

Reading: each frame comes with its own presentation time in seconds from the first frame (so a
variable-frame-rate phone video keeps its real timing), turned upright when the file carries a
rotation flag (a portrait recording stored sideways).

Writing: H.264 in MP4 with the index at the front (`+faststart`) and `yuv420p`, the combination
that browsers, phones and messaging apps all play, and that can be streamed before it is whole.

The camera and all drawing stay with OpenCV; this module only reads and writes files.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from posecheck.errors import UserError

# Time base of the files written: 90 kHz, the MPEG clock. Frame times of 24, 25, 30, 50, 60 and
# 30000/1001 frames/s are whole numbers of it, and any other time is off by at most 6 microseconds.
WRITE_TIME_BASE = Fraction(1, 90_000)

BT601 = 6  # FFmpeg's code for SMPTE 170M (BT.601, 525 lines) colours, matrix and transfer
# Frames whose colours OpenCV's BT.601 limited-range YUV 4:2:0 <-> BGR conversion gets right (FFmpeg's
# codes: matrix unspecified, BT.470BG or SMPTE 170M; range unspecified or limited). OpenCV's SIMD
# conversion costs a fifth of swscale's, which matters on two cores shared with the pose model.
_OPENCV_MATRICES = {2, 5, 6}
_OPENCV_RANGES = {0, 1}

_UPRIGHT = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def upright_rotation(rotation: float) -> int:
    """The file's counter-clockwise display rotation (any sign) as 0, 90, 180 or 270 degrees."""
    return int(round(rotation / 90.0)) % 4 * 90


def rotate_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded picture as the file says it must be shown (`rotation` from upright_rotation)."""
    code = _UPRIGHT.get(rotation)
    return image if code is None else cv2.rotate(image, code)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class VideoFileReader:
    """Decodes the first video stream of a file: upright BGR pictures with their times in seconds.

    `size` (width, height) is the upright size; `fps` the stream's average rate (a variable-rate
    file has no single rate: use each frame's time); `frame_count` is None when the file does not
    say. Raises UserError with one line when the file cannot be opened or has no video.
    """

    def __init__(self, path: Path, threads: int = 2) -> None:
        self.path = Path(path)
        try:
            self._container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(
                f"Cannot decode {self.path} as a video ({_first_line(exc)}). Is it a video file "
                "(e.g. MP4, MOV, AVI)? Try converting it to MP4 (H.264) and run again."
            ) from exc
        if not self._container.streams.video:
            self._container.close()
            raise UserError(
                f"{self.path} has no video stream (is it an audio file?). Pass a video recording."
            )
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._stream.thread_count = threads
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.declared_fps = float(rate) if rate else 0.0  # as the file says, plausible or not
        self.fps = self.declared_fps if 1.0 <= self.declared_fps <= 480.0 else 30.0
        self.frame_count = self._stream.frames or None
        self._frames = self._decode()
        try:
            first = next(self._frames)
        except StopIteration:
            first = None
        except UserError:
            first = None
        if first is None:
            self.close()
            raise UserError(
                f"{self.path} has no video frames that can be decoded. Check that the file plays "
                "in a video player, or convert it to MP4 and try again."
            )
        self._first: tuple[np.ndarray, float, int] | None = first
        height, width = first[0].shape[:2]
        self.size = (width, height)
        self.rotation = first[2]  # degrees counter-clockwise applied to make the pictures upright

    def _decode(self) -> Iterator[tuple[np.ndarray, float, int]]:
        """(upright BGR image, seconds since the first frame, rotation applied) for each frame."""
        start: int | None = None
        time_base = self._stream.time_base
        decoded = 0
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is None:  # no time at all: the caller steps one frame interval on
                    t = float("nan")
                else:
                    start = frame.pts if start is None else start
                    t = float((frame.pts - start) * (frame.time_base or time_base))
                rotation = upright_rotation(frame.rotation)
                image = rotate_upright(_to_bgr(frame), rotation)
                decoded += 1
                yield image, t, rotation
        except av.FFmpegError as exc:
            raise UserError(
                f"{self.path} is damaged after frame {decoded} ({_first_line(exc)}). Check that it "
                "plays in a video player, or convert it to MP4 and try again."
            ) from exc

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        """Every frame from the first: (upright BGR image, seconds). A file is read once."""
        if self._first is None:
            raise RuntimeError("a VideoFileReader can be iterated only once")
        image, t, _ = self._first
        self._first = None
        yield image, t
        for image, t, _ in self._frames:
            yield image, t

    def close(self) -> None:
        try:
            self._frames.close()
        except ValueError:  # still running in a reader thread that was not stopped: leave it be
            return
        self._container.close()

    def __enter__(self) -> VideoFileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """The frame as a BGR picture: OpenCV's fast conversion where it gives the same colours."""
    if (
        frame.format.name == "yuv420p"
        and frame.width % 2 == 0
        and frame.height % 2 == 0
        and int(frame.colorspace) in _OPENCV_MATRICES
        and int(frame.color_range) in _OPENCV_RANGES
    ):
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


def frame_at(path: Path, t: float) -> np.ndarray | None:
    """The upright BGR picture shown at `t` seconds (the last frame starting at or before it)."""
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError):
        return None
    try:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        target = start + int(t / stream.time_base) if t > 0 else start
        container.seek(target, stream=stream, backward=True, any_frame=False)
        shown = None
        for frame in container.decode(stream):
            if shown is not None and frame.pts is not None and frame.pts > target:
                break
            shown = frame
            if frame.pts is not None and frame.pts >= target:
                break
        if shown is None:
            return None
        return rotate_upright(shown.to_ndarray(format="bgr24"), upright_rotation(shown.rotation))
    except av.FFmpegError:
        return None
    finally:
        container.close()


def frames_in(path: Path) -> int:
    """How many pictures the file's video stream says it holds (0 if it cannot be opened: a
    truncated MP4 has no index)."""
    try:
        with av.open(str(path), mode="r") as container:
            return int(container.streams.video[0].frames) if container.streams.video else 0
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return 0


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """yuv420p needs an even width and height: odd ones get one more pixel (a copied edge)."""
    width, height = size
    return width + width % 2, height + height % 2


class H264Writer:
    """Writes BGR pictures as H.264 (`yuv420p`) in an MP4 whose index is at the front.

    `write(image, t)` places the picture at `t` seconds (the source's own time, so a variable-rate
    input keeps its timing); without `t`, pictures follow each other at `fps`.
    """

    def __init__(
        self, path: Path, fps: float, size: tuple[int, int], crf: int = 23, preset: str = "veryfast"
    ) -> None:
        """An odd width or height is padded by one pixel (a copy of the edge): yuv420p needs even ones."""
        self.path = Path(path)
        self.size = tuple(size)
        self._even = even_size(self.size)
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._frame_ticks = float(1 / (rate * WRITE_TIME_BASE))
        try:
            self.path.open("wb").close()  # FFmpeg opens the file only at the first picture: fail now
            self._container = av.open(str(self.path), mode="w", format="mp4",
                                      options={"movflags": "+faststart"})  # fmt: skip
        except (av.FFmpegError, OSError) as exc:
            raise UserError(
                f"Cannot write the video {self.path} ({_first_line(exc)}): check that the "
                "output folder exists and is writable, or choose another with --out."
            ) from exc
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self._even
        stream.pix_fmt = "yuv420p"
        # Say which colours the numbers mean: the BGR -> YUV conversion is BT.601 ("SMPTE 170M"), and
        # an untagged HD video is shown as BT.709 by browsers, reds turning orange.
        context = stream.codec_context
        context.colorspace = context.color_primaries = context.color_trc = BT601
        context.color_range = 1  # limited ("MPEG") range, what every player expects
        stream.time_base = WRITE_TIME_BASE
        stream.codec_context.time_base = WRITE_TIME_BASE
        # One encoder thread up to 720p: it keeps up with the pose model and leaves the other core to
        # it (on 2 cores x264's own threads only compete with the model); more for bigger pictures.
        threads = "1" if self._even[0] * self._even[1] <= 1280 * 720 else "0"
        stream.options = {"crf": str(crf), "preset": preset, "threads": threads}
        self._stream = stream
        self._count = 0
        self._last_pts = -1
        self._closed = False

    def write(self, image: np.ndarray, t: float | None = None) -> None:
        height, width = image.shape[:2]
        if (width, height) != self.size:
            raise ValueError(f"picture of {width}x{height} written to a {self.size[0]}x{self.size[1]} video")
        if self._even != self.size:
            image = cv2.copyMakeBorder(
                image, 0, self._even[1] - height, 0, self._even[0] - width, cv2.BORDER_REPLICATE
            )
        pts = round(self._count * self._frame_ticks) if t is None else round(t / WRITE_TIME_BASE)
        pts = max(pts, self._last_pts + 1)
        # BT.601 limited range, as the stream is tagged; OpenCV's conversion is 5-10x swscale's speed
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = pts
        frame.time_base = WRITE_TIME_BASE
        self._container.mux(self._stream.encode(frame))
        self._last_pts = pts
        self._count += 1

    @property
    def frames_written(self) -> int:
        return self._count

    def release(self) -> None:
        """Flush the encoder and write the index (moved to the front of the file)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()

    close = release

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
