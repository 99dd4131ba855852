"""The metric library: a few generic, vectorised measures over landmark coordinates.

Every metric function takes `(T, D)` point arrays (D = 2 for image pixels, 3 for world
metres) plus a `(T,)` body scale (torso length in the same units) and returns a `(T,)`
float array, NaN where an input is NaN. Exercise specs name these functions in their
`[metrics]` table; `METRIC_FUNCTIONS` says which points each one takes.

Conventions: "up" is against gravity, i.e. -y in both MediaPipe's image and world
coordinates (the camera is assumed roughly level). Lengths are divided by the torso length
(mid-shoulder to mid-hip) so thresholds hold for any body size and camera distance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from posecheck.landmarks import LANDMARK_INDEX

SIDES = ("left", "right")
SIDED_PARTS = (
    "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index",
    "ear", "eye", "eye_inner", "eye_outer", "pinky", "index", "thumb", "mouth",
)  # fmt: skip
UP = -1.0  # sign of the y axis pointing up, in image and MediaPipe world coordinates


# --- naming points --------------------------------------------------------------------------


def point_indices(name: str, side: str) -> tuple[int, ...]:
    """Landmark indices averaged to make the named point, for the given side ("left"/"right").

    Names: a MediaPipe landmark ("left_knee", "nose"); a sided part ("knee" = the side in
    use, "opposite_knee" = the other side); or "mid_<part>" (midpoint of left and right).
    """
    other = "right" if side == "left" else "left"
    if name in LANDMARK_INDEX:
        return (LANDMARK_INDEX[name],)
    if name in SIDED_PARTS:
        return (LANDMARK_INDEX[f"{side}_{name}"],)
    if name.startswith("opposite_") and name[9:] in SIDED_PARTS:
        return (LANDMARK_INDEX[f"{other}_{name[9:]}"],)
    if name.startswith("mid_") and name[4:] in SIDED_PARTS:
        return (LANDMARK_INDEX[f"left_{name[4:]}"], LANDMARK_INDEX[f"right_{name[4:]}"])
    raise KeyError(name)


def body_part(name: str) -> str:
    """The body part of a point name: "opposite_wrist" -> "wrist", "mid_hip" -> "hip"."""
    for prefix in ("left_", "right_", "opposite_", "mid_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


PART_WORDS = {
    **dict.fromkeys(("ankle", "heel", "foot_index"), "feet"),
    **dict.fromkeys(("wrist", "pinky", "index", "thumb"), "hands"),
    **dict.fromkeys(("nose", "ear", "eye", "eye_inner", "eye_outer", "mouth"), "head"),
    "knee": "knees",
    "hip": "hips",
}  # the words a person uses for a body part (the rest get an "s")


def describe_parts(parts: Iterable[str]) -> str:
    """Body parts in the words a person uses: {"ankle", "knee"} -> "feet and knees"."""
    words = sorted({PART_WORDS.get(p, p.replace("_", " ") + "s") for p in parts})
    return " and ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " and " + words[-1]


def is_point_name(name: str) -> bool:
    try:
        point_indices(name, "left")
    except KeyError:
        return False
    return True


def gather_point(coords: np.ndarray, name: str, side: str) -> np.ndarray:
    """(T, D) coordinates of a named point from (T, 33, D) landmark coordinates."""
    indices = point_indices(name, side)
    if len(indices) == 1:
        return coords[:, indices[0]]
    return coords[:, list(indices)].mean(axis=1)


# --- the metric functions ---------------------------------------------------------------------


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=-1))


def angle(a: np.ndarray, b: np.ndarray, c: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Angle at b between b->a and b->c, in degrees (180 = a straight line)."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (_norm(u) * _norm(v))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _perpendicular(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vector from the line a-b to p, perpendicular to the line."""
    direction = b - a
    direction = direction / _norm(direction)[:, None]
    d = p - a
    return d - np.sum(d * direction, axis=-1)[:, None] * direction


def height_above_line(p: np.ndarray, a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Distance of p from the line through a and b, positive when p lies above it, in torso lengths.

    E.g. the hip above the shoulder-ankle line measures how far a bridge lifts the hips.
    """
    perp = _perpendicular(p, a, b)
    sign = np.where(UP * perp[:, 1] >= 0.0, 1.0, -1.0)
    return sign * _norm(perp) / scale


def line_deviation(*points_and_scale: np.ndarray) -> np.ndarray:
    """Largest distance of the inner points from the line first-to-last point, in torso lengths.

    0 means all points lie on one straight line (a dowel along head, upper back and sacrum;
    hand to foot in a bird dog).
    """
    *points, scale = points_and_scale
    first, last = points[0], points[-1]
    deviations = [_norm(_perpendicular(p, first, last)) for p in points[1:-1]]
    return np.max(np.stack(deviations), axis=0) / scale


def height(p: np.ndarray, reference: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """How far p is above the reference point, in torso lengths (negative = below)."""
    return UP * (p[:, 1] - reference[:, 1]) / scale


def vertical_extent(*points_and_scale: np.ndarray) -> np.ndarray:
    """Height from the lowest to the highest of the points, in torso lengths.

    E.g. mid-hip, mid-knee and mid-ankle: about 0 lying flat, large when any of them is lifted
    off the floor (the hips in a plank on the toes, the lower legs in a plank on the knees).
    """
    *points, scale = points_and_scale
    ys = np.stack([p[:, 1] for p in points])
    return (ys.max(axis=0) - ys.min(axis=0)) / scale


def level_difference(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Absolute height difference between two points, in torso lengths (0 = level)."""
    return np.abs(a[:, 1] - b[:, 1]) / scale


def horizontal_offset(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Absolute horizontal (image x / world x) distance between two points, in torso lengths."""
    return np.abs(a[:, 0] - b[:, 0]) / scale


def distance(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Distance between two points, in torso lengths."""
    return _norm(a - b) / scale


def inclination(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Angle of the segment a->b from straight up, in degrees (0 = b above a, 90 = level)."""
    v = b - a
    cos = UP * v[:, 1] / _norm(v)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def segment_angle(
    a1: np.ndarray, a2: np.ndarray, b1: np.ndarray, b2: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Angle between segments a1->a2 and b1->b2 in degrees (0 = parallel).

    In world space, the shoulder line against the hip line measures trunk twist.
    """
    u, v = a2 - a1, b2 - b1
    cos = np.sum(u * v, axis=-1) / (_norm(u) * _norm(v))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@dataclass(frozen=True)
class MetricFunction:
    function: Callable[..., np.ndarray]
    n_points: int | None  # None = any number >= 3
    unit: str


METRIC_FUNCTIONS: dict[str, MetricFunction] = {
    "angle": MetricFunction(angle, 3, "deg"),
    "height_above_line": MetricFunction(height_above_line, 3, "torso"),
    "line_deviation": MetricFunction(line_deviation, None, "torso"),
    "height": MetricFunction(height, 2, "torso"),
    "vertical_extent": MetricFunction(vertical_extent, None, "torso"),
    "level_difference": MetricFunction(level_difference, 2, "torso"),
    "horizontal_offset": MetricFunction(horizontal_offset, 2, "torso"),
    "distance": MetricFunction(distance, 2, "torso"),
    "inclination": MetricFunction(inclination, 2, "deg"),
    "segment_angle": MetricFunction(segment_angle, 4, "deg"),
}


# --- body scale -------------------------------------------------------------------------------


JUMP_FRAMES = 3  # frames in a row ...
JUMP_RATIO = 1.5  # ... this much longer than the torso so far: a new, larger body


class BodyScale:
    """Torso length over time, robust to foreshortening and to single-frame glitches.

    The per-frame torso length (mid-shoulder to mid-hip) is median-filtered over the last
    `window` valid frames and then the running maximum is kept: foreshortening only ever
    shortens the torso in the picture, so the largest steady value is the best estimate of
    its true length. A torso JUMP_RATIO times longer for JUMP_FRAMES frames in a row is taken
    at once (the model found the person after following something smaller). Causal and
    stateful, so a live session and a file give the same values.
    """

    def __init__(self, window: int = 15) -> None:
        self.window = window
        self._recent: list[float] = []
        self._best = np.nan

    def update(self, coords: np.ndarray) -> np.ndarray:
        """(T,) scale for (T, 33, D) coordinates, continuing from earlier calls."""
        torso = _norm(gather_point(coords, "mid_shoulder", "left") - gather_point(coords, "mid_hip", "left"))
        out = np.empty(len(torso))
        for i, length in enumerate(torso):
            if np.isfinite(length) and length > 0:
                self._recent.append(float(length))
                if len(self._recent) > self.window:
                    self._recent.pop(0)
                jumped = self._recent[-JUMP_FRAMES:]
                if len(jumped) == JUMP_FRAMES and min(jumped) > JUMP_RATIO * self._best:
                    # a body suddenly much larger: the model has found the person after following
                    # something smaller; take its size now rather than half a window later
                    self._recent = jumped
                    self._best = float(np.median(jumped))
                elif len(self._recent) >= min(5, self.window):
                    median = float(np.median(self._recent))
                    self._best = median if not np.isfinite(self._best) else max(self._best, median)
            out[i] = self._best if np.isfinite(self._best) else (length if np.isfinite(length) else np.nan)
        return out


class BodyUp:
    """'Up' in MediaPipe's 3D (world) estimate, taken from the standing body, and the world
    coordinates turned so that it points along -y.

    MediaPipe's world axes follow the camera: from a camera tilted down, the nearer of two
    points at the same height reads lower. While the body stands straight (both knees straighter
    than `straight_knee_deg`, mid-ankle to mid-shoulder within `max_tilt_deg` of the camera's
    up), that axis is averaged (time constant `window_s`) as the direction of gravity; heights
    are then measured along it. Before any such frame, the camera's own up is used. Causal and
    stateful, like BodyScale.
    """

    def __init__(
        self, window_s: float = 2.0, max_tilt_deg: float = 35.0, straight_knee_deg: float = 160.0
    ) -> None:
        self.window_s = window_s
        self.min_cos = float(np.cos(np.radians(max_tilt_deg)))
        self.straight_knee_deg = straight_knee_deg
        self._up = np.array([0.0, UP, 0.0])
        self._last_t: float | None = None

    def level(self, world: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(T, 33, 3) world coordinates turned so that the body's 'up' is -y."""
        axis = gather_point(world, "mid_shoulder", "left") - gather_point(world, "mid_ankle", "left")
        one = np.ones(len(world))
        leg = ("hip", "knee", "ankle")
        knees = np.minimum(*(angle(*(gather_point(world, p, side) for p in leg), one) for side in SIDES))
        out = np.empty_like(world)
        for i in range(len(world)):
            length = _norm(axis[i])
            if np.isfinite(length) and length > 0 and knees[i] > self.straight_knee_deg:
                direction = axis[i] / length
                if direction[1] * UP >= self.min_cos:  # standing straight
                    dt = 0.0 if self._last_t is None else max(float(t[i]) - self._last_t, 0.0)
                    weight = 1.0 if self._last_t is None else min(dt / self.window_s, 1.0)
                    self._up = self._up + weight * (direction - self._up)
                    self._up /= _norm(self._up)
                    self._last_t = float(t[i])
            out[i] = world[i] @ _rotation_onto(self._up, np.array([0.0, UP, 0.0])).T
        return out


def _rotation_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation matrix turning unit vector a onto unit vector b (Rodrigues)."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -0.999999:
        return -np.eye(3)  # opposite: any half turn; not reached for a standing body
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)
