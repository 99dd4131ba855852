"""The one currency for pose data: a sequence of MediaPipe's 33 body landmarks over time.

Only `posecheck.pose` knows MediaPipe's own types; everything downstream takes a
`LandmarkSequence` (numpy arrays), which can be saved to and loaded from `.npz`.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posecheck.errors import UserError

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}
N_LANDMARKS = len(LANDMARK_NAMES)

# Bones drawn by the skeleton overlay (pairs of landmark indices).
SKELETON_EDGES: tuple[tuple[int, int], ...] = tuple(
    (LANDMARK_INDEX[a], LANDMARK_INDEX[b])
    for a, b in [
        ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
        ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
        ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"),
        ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"),
        ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_heel"),
        ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
        ("left_ear", "left_eye"), ("right_ear", "right_eye"), ("left_eye", "nose"),
        ("right_eye", "nose"),
    ]
)  # fmt: skip

NPZ_FORMAT_VERSION = 1


@dataclass
class LandmarkSequence:
    """Pose landmarks of one person over T frames.

    Attributes:
        xy: (T, 33, 2) image coordinates in pixels; NaN where no person was detected.
        z: (T, 33) MediaPipe's relative depth (same scale as x in normalised units; smaller = nearer).
        visibility: (T, 33) MediaPipe's visibility score in [0, 1]; 0 where nothing was detected.
        world: (T, 33, 3) metric 3D coordinates in metres, origin between the hips; NaN if absent.
        t: (T,) timestamps in seconds, from the frame source.
        image_size: (width, height) of the frames in pixels.
    """

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    world: np.ndarray
    t: np.ndarray
    image_size: tuple[int, int]

    def __post_init__(self) -> None:
        n = len(self.t)
        expected = {
            "xy": (n, N_LANDMARKS, 2),
            "z": (n, N_LANDMARKS),
            "visibility": (n, N_LANDMARKS),
            "world": (n, N_LANDMARKS, 3),
        }
        for name, shape in expected.items():
            actual = getattr(self, name).shape
            if actual != shape:
                raise ValueError(f"LandmarkSequence.{name} has shape {actual}, expected {shape}")

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, index: slice | np.ndarray) -> LandmarkSequence:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return LandmarkSequence(
            xy=self.xy[index],
            z=self.z[index],
            visibility=self.visibility[index],
            world=self.world[index],
            t=self.t[index],
            image_size=self.image_size,
        )

    @property
    def detected(self) -> np.ndarray:
        """(T,) True where a person was detected in the frame."""
        return ~np.isnan(self.xy[:, 0, 0])

    @classmethod
    def stack(cls, frames: list[LandmarkSequence], image_size: tuple[int, int]) -> LandmarkSequence:
        """Concatenate sequences (e.g. one per frame) into one."""
        if not frames:
            return cls(
                xy=np.zeros((0, N_LANDMARKS, 2)),
                z=np.zeros((0, N_LANDMARKS)),
                visibility=np.zeros((0, N_LANDMARKS)),
                world=np.zeros((0, N_LANDMARKS, 3)),
                t=np.zeros(0),
                image_size=image_size,
            )
        return cls(
            xy=np.concatenate([f.xy for f in frames]),
            z=np.concatenate([f.z for f in frames]),
            visibility=np.concatenate([f.visibility for f in frames]),
            world=np.concatenate([f.world for f in frames]),
            t=np.concatenate([f.t for f in frames]),
            image_size=image_size,
        )

    @classmethod
    def missing(cls, t: float, image_size: tuple[int, int]) -> LandmarkSequence:
        """One frame in which no person was detected."""
        return cls(
            xy=np.full((1, N_LANDMARKS, 2), np.nan),
            z=np.full((1, N_LANDMARKS), np.nan),
            visibility=np.zeros((1, N_LANDMARKS)),
            world=np.full((1, N_LANDMARKS, 3), np.nan),
            t=np.array([t], dtype=float),
            image_size=image_size,
        )

    def save(self, path: Path, **metadata: str) -> None:
        """Save to `.npz` (with optional string metadata, e.g. the model used)."""
        np.savez_compressed(
            path,
            format_version=np.array(NPZ_FORMAT_VERSION),
            xy=self.xy.astype(np.float32),
            z=self.z.astype(np.float32),
            visibility=self.visibility.astype(np.float32),
            world=self.world.astype(np.float32),
            t=self.t.astype(np.float64),
            image_size=np.array(self.image_size, dtype=np.int64),
            landmark_names=np.array(LANDMARK_NAMES),
            **{f"meta_{k}": np.array(v) for k, v in metadata.items()},
        )

    @classmethod
    def load(cls, path: Path) -> LandmarkSequence:
        """Load a sequence saved by `save` (e.g. `posecheck analyze --save-landmarks`)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"Landmark file not found: {path}. Make one with --save-landmarks.")
        try:
            with np.load(path, allow_pickle=False) as data:
                if "format_version" not in data.files or "xy" not in data.files:
                    raise UserError(
                        f"{path} is not a posecheck landmark file (no 'xy'/'format_version'). "
                        "Make one with `posecheck analyze VIDEO --save-landmarks`."
                    )
                return cls(
                    xy=data["xy"].astype(float),
                    z=data["z"].astype(float),
                    visibility=data["visibility"].astype(float),
                    world=data["world"].astype(float),
                    t=data["t"].astype(float),
                    image_size=tuple(int(v) for v in data["image_size"]),
                )
        except UserError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise UserError(
                f"Cannot read landmark file {path} ({exc}): it is damaged or cut short. "
                "Make it again with `posecheck analyze VIDEO --save-landmarks`."
            ) from exc
