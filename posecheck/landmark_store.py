"""Landmarks of a run of any length in bounded memory.

An analysis needs all its frames' landmarks only to save them (`--save-landmarks`); otherwise a
thin, evenly spread sample is enough (e.g. to tell whether the video looks turned). So the
recorder keeps at most `sample_size` frames in memory, and, when asked to keep everything,
spools each frame to files on disk beside the outputs instead of growing lists in memory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from posecheck.landmarks import N_LANDMARKS, LandmarkSequence

# field -> (values per frame, dtype on disk)
_FIELDS = {
    "xy": (N_LANDMARKS * 2, np.float32),
    "z": (N_LANDMARKS, np.float32),
    "visibility": (N_LANDMARKS, np.float32),
    "world": (N_LANDMARKS * 3, np.float32),
    "t": (1, np.float64),
}
_SHAPES = {
    "xy": (N_LANDMARKS, 2),
    "z": (N_LANDMARKS,),
    "visibility": (N_LANDMARKS,),
    "world": (N_LANDMARKS, 3),
}


class LandmarkRecorder:
    """Receives one-frame LandmarkSequences; `sample()` gives an evenly spread subset, `save()` all."""

    def __init__(self, image_size: tuple[int, int], spool_dir: Path | None = None, sample_size: int = 800):
        self.image_size = image_size
        self.frames = 0
        self.any_detected = False
        self._sample_size = sample_size
        self._step = 1
        self._kept: list[LandmarkSequence] = []
        self._spool: dict[str, tuple[str, object]] = {}
        if spool_dir is not None:
            for name in _FIELDS:
                fd, path = tempfile.mkstemp(dir=spool_dir, prefix=f".landmarks-{name}.", suffix=".spool")
                self._spool[name] = (path, os.fdopen(fd, "wb"))

    def add(self, pose: LandmarkSequence) -> None:
        self.any_detected = self.any_detected or bool(pose.detected[0])
        if self.frames % self._step == 0:
            self._kept.append(pose)
            if len(self._kept) > self._sample_size:
                self._kept = self._kept[::2]
                self._step *= 2
        for name, (_, handle) in self._spool.items():
            handle.write(np.ascontiguousarray(getattr(pose, name), dtype=_FIELDS[name][1]).tobytes())
        self.frames += 1

    def sample(self) -> LandmarkSequence:
        """Every `step`-th frame (at most `sample_size` of them), evenly spread over the run."""
        return LandmarkSequence.stack(self._kept, self.image_size)

    def save(self, path: Path, **metadata: str) -> None:
        """Save every frame as `.npz` (needs `spool_dir`): read back from the spool files."""
        if not self._spool:
            raise RuntimeError("LandmarkRecorder.save needs a spool_dir")
        arrays = {}
        for name, (spool_path, handle) in self._spool.items():
            handle.flush()
            flat = np.fromfile(spool_path, dtype=_FIELDS[name][1])
            arrays[name] = flat.reshape((self.frames, *_SHAPES.get(name, ())))
        LandmarkSequence(image_size=self.image_size, **arrays).save(path, **metadata)

    def close(self) -> None:
        """Remove the spool files."""
        for spool_path, handle in self._spool.values():
            handle.close()
            Path(spool_path).unlink(missing_ok=True)
        self._spool.clear()
