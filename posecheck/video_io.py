"""Background threads that decode ahead and encode behind, so the pose model is never kept waiting.

PyAV (FFmpeg) releases the GIL while it decodes and encodes, so on two cores these overlap
with the model's inference. Whatever a thread raises reaches the main thread as a
`BackgroundFailure` (on the next read or write, or from `raise_if_failed`), so a run stops
instead of waiting forever on a dead thread; no call here blocks without a way out.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posecheck.av_video import H264Writer, frames_in
from posecheck.disk_space import disk_full_error, free_bytes
from posecheck.errors import BackgroundFailure, UserError
from posecheck.source import Frame, FrameSource

_END = object()


class PrefetchingReader:
    """Iterates a frame source in a background thread, `depth` frames ahead."""

    def __init__(self, source: FrameSource, depth: int = 8) -> None:
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="frame-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self._source:
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer
            self._error = exc
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(_END, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Frame]:
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._thread.is_alive() or not self._queue.empty():
                    continue
                item = _END  # the thread is gone without saying so
            if item is _END:
                if self._error is not None:
                    raise BackgroundFailure("decoding the video", self._error) from self._error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


class BackgroundVideoWriter:
    """Writes an H.264 MP4 (see av_video.H264Writer) in a background thread; same size and rate
    as the input, each picture at its source time.

    `render`, if given, turns each written item into the image to encode (e.g. draws the
    overlay), so that work also runs beside the pose model instead of before it.

    The video is written under a hidden partial name and renamed to `path` by `close()` only
    once it is complete and plays back, so a full disk or a failure never leaves a broken file
    under the final name. The thread stops before the disk is completely full (see
    `DISK_RESERVE_BYTES`) so the small JSON report still fits.
    """

    DISK_RESERVE_BYTES = 512 * 1024
    DISK_CHECK_EVERY = 10  # frames

    def __init__(
        self,
        path: Path,
        fps: float,
        size: tuple[int, int],
        render: Callable[[Any], np.ndarray] | None = None,
        depth: int = 8,
    ) -> None:
        self.path = Path(path)
        self.partial_path = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.error: BaseException | None = None
        self.frames_written = 0
        self.bytes_per_frame = 0.0  # measured as the file grows, to say how much space a video needs
        self._pixels = size[0] * size[1]
        self._task = "encoding the video"
        self._render = render
        free = free_bytes(self.path.parent)
        if free is not None and free < self.DISK_RESERVE_BYTES:  # say so before analysing anything
            raise disk_full_error(self.path.parent, None, "Nothing was analysed.")
        try:
            self._writer = H264Writer(self.partial_path, fps, size)
        except UserError:
            self.partial_path.unlink(missing_ok=True)
            if (free_bytes(self.path.parent) or 0) < self.DISK_RESERVE_BYTES:
                raise disk_full_error(self.path.parent, None, "Nothing was analysed.") from None
            message = f"Cannot write the annotated video {path}: check the --out folder is writable."
            raise UserError(message) from None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    break
                item, t = item
                if self._render is not None:
                    self._task = "drawing the overlay"
                    item = self._render(item)
                self._task = "encoding the video"
                self._writer.write(item, t)
                self.frames_written += 1
                if self.frames_written % self.DISK_CHECK_EVERY == 0:
                    self._check_space()
        except BaseException as exc:  # handed to the main thread by write() / raise_if_failed()
            self.error = exc
        finally:
            try:
                self._writer.release()  # flushes the encoder: may meet the full disk too
            except BaseException as exc:
                if self.error is None:
                    self._task = "finishing the video"
                    self.error = exc

    def _check_space(self) -> None:
        """Stop with ENOSPC while the disk still has room for the report (the encoder would not say)."""
        try:
            measured = os.path.getsize(self.partial_path) / self.frames_written
        except OSError:
            return
        # the encoder buffers its output: early on, assume at least 1 byte per 50 pixels
        self.bytes_per_frame = max(measured, self._pixels / 50)
        free = free_bytes(self.partial_path.parent)
        if free is not None and free < max(self.DISK_RESERVE_BYTES, 30 * self.bytes_per_frame):
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    @property
    def failed_task(self) -> str:
        """What the thread was doing when it failed (e.g. 'drawing the overlay')."""
        return self._task

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise BackgroundFailure(self._task, self.error) from self.error

    def write(self, item: Any, t: float | None = None) -> None:
        """Queue one picture (or item to render) shown at `t` seconds (default: the next frame
        time); raises BackgroundFailure once the thread has failed (never blocks on it)."""
        while True:
            self.raise_if_failed()
            try:
                self._queue.put((item, t), timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Finish the file and move it to its final name; never raises (see `raise_if_failed`).

        A video that failed or does not play back is removed (its partial file too).
        """
        while self._thread.is_alive():
            try:
                self._queue.put(_END, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join()
        if self.error is None and not self._plays_back():
            self._task = "writing the video file"
            self.error = OSError(
                errno.ENOSPC if (free_bytes(self.path.parent) or 0) < self.DISK_RESERVE_BYTES else errno.EIO,
                "the written video does not play back",
                str(self.path),
            )
        if self.error is None:
            os.replace(self.partial_path, self.path)
        else:
            self.partial_path.unlink(missing_ok=True)

    def _plays_back(self) -> bool:
        """The finished file opens and holds every frame written (a truncated MP4 does not)."""
        if self.frames_written == 0:
            return self.partial_path.is_file()
        return frames_in(self.partial_path) >= self.frames_written
