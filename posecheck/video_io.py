"""Background threads that decode ahead and encode behind, so the pose model is never kept waiting.

PyAV (FFmpeg) releases the GIL while it decodes and encodes, so on two cores these overlap
with the model's inference.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posecheck.av_video import H264Writer
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
            item = self._queue.get()
            if item is _END:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


class BackgroundVideoWriter:
    """Writes an H.264 MP4 (see av_video.H264Writer) in a background thread; same size and rate as the input.

    `render`, if given, turns each written item into the image to encode (e.g. draws the
    overlay), so that work also runs beside the pose model instead of before it.
    """

    def __init__(
        self,
        path: Path,
        fps: float,
        size: tuple[int, int],
        render: Callable[[Any], np.ndarray] | None = None,
        depth: int = 8,
    ) -> None:
        self.path = path
        self._render = render
        self._writer = H264Writer(path, fps, size)
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                break
            item, t = item
            self._writer.write(self._render(item) if self._render is not None else item, t)
        self._writer.release()

    def write(self, item: Any, t: float | None = None) -> None:
        """Queue one picture (or item to render) shown at `t` seconds (default: the next frame time)."""
        self._queue.put((item, t))

    def close(self) -> None:
        self._queue.put(_END)
        self._thread.join()
