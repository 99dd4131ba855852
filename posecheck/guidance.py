"""Set-up advice while a person gets into position: what to change so the camera can check them.

Looks at one frame's landmarks (and the picture's brightness) against what the exercise spec
needs: light, a person in the picture, the needed body parts inside the frame and visible, and
the camera view (side-on or facing the camera).
"""

from __future__ import annotations

import numpy as np

from posecheck.landmarks import LANDMARK_INDEX, LandmarkSequence
from posecheck.metrics import body_part, describe_parts, point_indices
from posecheck.spec import ExerciseSpec

DARK_MEAN_LEVEL = 40  # mean grey level (0-255) below which the picture is too dark
SIDE_VIEW_MAX_WIDTH = 0.6  # shoulder/hip width in torso lengths above which a side view is not side-on
FRONT_VIEW_MIN_WIDTH = 0.3  # ... below which a front view is not facing the camera
FEET = {"ankle", "heel", "foot_index"}
HEAD = {"nose", "ear", "eye", "mouth", "eye_inner", "eye_outer"}


def brightness(image: np.ndarray) -> float:
    """Mean level of a subsampled picture (fast enough for every frame)."""
    return float(image[::8, ::8].mean())


def setup_advice(pose: LandmarkSequence, image_brightness: float, spec: ExerciseSpec) -> str | None:
    """One sentence saying what to change, or None when the set-up looks right."""
    if image_brightness < DARK_MEAN_LEVEL:
        return "More light, please: the picture is too dark to see you"
    if not pose.detected[0]:
        return "Step into the picture so the camera can see you"
    width, height = pose.image_size
    xy, vis = pose.xy[0], pose.visibility[0]
    best_side = max(("left", "right"), key=lambda s: _side_visibility(vis, spec, s))
    outside: set[str] = set()
    hidden: set[str] = set()
    for name in spec.visible:
        for i in point_indices(name, best_side):
            x, y = xy[i]
            if not (0 <= x <= width and 0 <= y <= height):
                outside.add(body_part(name))
            elif vis[i] < spec.min_visibility:
                hidden.add(body_part(name))
    if outside & FEET:
        return "Step back: your feet are out of the picture"
    if outside & (HEAD | {"shoulder"}):
        return "Step back or tilt the camera: your head and shoulders are out of the picture"
    if outside:
        return f"Move into the middle of the picture: your {describe_parts(outside)} are out of it"
    view_advice = _view_advice(xy, spec)
    if view_advice:
        return view_advice
    if hidden:
        return f"Make sure the camera can see your {describe_parts(hidden)}"
    return None


def _side_visibility(vis: np.ndarray, spec: ExerciseSpec, side: str) -> float:
    return float(np.mean([vis[i] for name in spec.visible for i in point_indices(name, side)]))


def _view_advice(xy: np.ndarray, spec: ExerciseSpec) -> str | None:
    i = LANDMARK_INDEX
    torso = np.linalg.norm(
        (xy[i["left_shoulder"]] + xy[i["right_shoulder"]]) / 2 - (xy[i["left_hip"]] + xy[i["right_hip"]]) / 2
    )
    if not torso > 0:
        return None
    shoulders = np.linalg.norm(xy[i["left_shoulder"]] - xy[i["right_shoulder"]])
    hips = np.linalg.norm(xy[i["left_hip"]] - xy[i["right_hip"]])
    width = (shoulders + hips) / 2 / torso
    if spec.view == "side" and width > SIDE_VIEW_MAX_WIDTH:
        return "Turn side-on to the camera"
    if spec.view == "front" and width < FRONT_VIEW_MIN_WIDTH:
        return "Face the camera"
    return None
