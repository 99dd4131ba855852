"""Pose estimation: MediaPipe Tasks PoseLandmarker in VIDEO mode, one person.

The only module that imports mediapipe. Each frame's result becomes a one-frame
`LandmarkSequence` (numpy arrays).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from posecheck.errors import UserError
from posecheck.landmarks import N_LANDMARKS, LandmarkSequence
from posecheck.quiet import quiet_native_stderr

# MediaPipe/TFLite print start-up chatter on stderr; keep the terminal readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class _LazyDrawingHelpers(importlib.abc.MetaPathFinder):
    """Loads mediapipe's drawing helpers only when used: they import matplotlib.pyplot (0.5-0.7 s of
    start-up), and posecheck draws with OpenCV, so normally they are never run."""

    NAMES = frozenset({
        "mediapipe.tasks.python.vision.drawing_utils", "mediapipe.tasks.python.vision.drawing_styles"
    })  # fmt: skip

    def find_spec(self, name, path, target=None):
        if name not in self.NAMES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def import_mediapipe():
    """`mediapipe.tasks.python.vision`, imported without running its drawing helpers."""
    if "mediapipe.tasks.python.vision" not in sys.modules:
        finder = _LazyDrawingHelpers()
        sys.meta_path.insert(0, finder)
        try:
            import mediapipe.tasks.python.vision  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
    from mediapipe.tasks.python import vision

    return vision


def create_landmarker(
    model_path: Path,
    mode: str,
    num_poses: int,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
):
    """A PoseLandmarker in `mode` ("VIDEO" or "IMAGE"); one clear line if the model will not load."""
    vision = import_mediapipe()
    from mediapipe.tasks.python import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=getattr(vision.RunningMode, mode),
        num_poses=num_poses,
        min_pose_detection_confidence=min_detection_confidence,
        min_pose_presence_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
    )
    try:
        with quiet_native_stderr():
            return vision.PoseLandmarker.create_from_options(options)
    except (RuntimeError, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Cannot load the pose model {model_path} ({first_line}). The file may be "
            "corrupt or not a PoseLandmarker bundle: pass a pose_landmarker_*.task file "
            "with --model, or run `posecheck model` to see which file is used."
        ) from exc


class PoseEstimator:
    """Wraps a PoseLandmarker in VIDEO running mode.

    Timestamps passed to `estimate` must increase; they are converted to whole
    milliseconds and nudged forward if two frames fall in the same millisecond.
    """

    def __init__(
        self,
        model_path: Path,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        self._landmarker = create_landmarker(
            model_path, "VIDEO", 1, min_detection_confidence, min_tracking_confidence
        )
        self._last_ms = -1
        self._frames_seen = 0

    def estimate(self, image_bgr: np.ndarray, t: float) -> LandmarkSequence:
        """Landmarks of the most prominent person in one BGR frame taken at `t` seconds."""
        import mediapipe as mp

        if self._frames_seen == 0 and os.environ.get("POSECHECK_TIMING"):  # for benchmarks/
            cpu = time.process_time()  # the process's CPU time so far: start-up less the machine's load
            print(f"posecheck-timing first-frame {time.time():.6f} {cpu:.3f}", file=sys.stderr, flush=True)
        height, width = image_bgr.shape[:2]
        timestamp_ms = max(int(round(t * 1000.0)), self._last_ms + 1)
        self._last_ms = timestamp_ms
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self._frames_seen < 2:  # the first inferences log warnings natively
            with quiet_native_stderr():
                result = self._landmarker.detect_for_video(image, timestamp_ms)
        else:
            result = self._landmarker.detect_for_video(image, timestamp_ms)
        self._frames_seen += 1
        if not result.pose_landmarks:
            return LandmarkSequence.missing(t, (width, height))
        return from_mediapipe(result.pose_landmarks[0], result.pose_world_landmarks[0], t, (width, height))

    def close(self) -> None:
        with quiet_native_stderr():
            self._landmarker.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PeopleCounter:
    """Counts the people in one frame (0, 1 or 2 or more) with a second PoseLandmarker in IMAGE mode.

    The tracking estimator above follows one person only; this looks afresh at occasional frames
    (it costs about two ordinary frames), so a second person in the picture can be reported.
    """

    def __init__(self, model_path: Path, min_detection_confidence: float = 0.5) -> None:
        self._landmarker = create_landmarker(model_path, "IMAGE", 2, min_detection_confidence)

    def count(self, image_bgr: np.ndarray) -> int:
        import mediapipe as mp

        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        return len(result.pose_landmarks)

    def close(self) -> None:
        with quiet_native_stderr():
            self._landmarker.close()


def from_mediapipe(
    image_landmarks, world_landmarks, t: float, image_size: tuple[int, int]
) -> LandmarkSequence:
    """Convert one MediaPipe pose (lists of 33 landmarks) into a one-frame sequence."""
    width, height = image_size
    image = np.array([(p.x, p.y, p.z, p.visibility or 0.0) for p in image_landmarks], dtype=float)
    world = np.array([(p.x, p.y, p.z) for p in world_landmarks], dtype=float)
    if image.shape != (N_LANDMARKS, 4):
        raise ValueError(f"expected {N_LANDMARKS} landmarks, got {image.shape[0]}")
    return LandmarkSequence(
        xy=(image[None, :, :2] * np.array([width, height], dtype=float)),
        z=image[None, :, 2],
        visibility=image[None, :, 3],
        world=world[None],
        t=np.array([t], dtype=float),
        image_size=(width, height),
    )
