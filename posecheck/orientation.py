"""Is the video upside down or on its side? A hint from the landmarks and the exercise's spec.

A turned video gives a fake rep or no rep at all with no reason the person can see. The spec
says what the start position and a rep look like; if the landmarks, turned back by 90, 180 or
270 degrees, match that far better than as filmed, the video is most likely turned. A standing
trunk with the head far below the hips is also said to look upside down.
"""

from __future__ import annotations

import numpy as np

from posecheck.engine import Checker
from posecheck.landmarks import LANDMARK_INDEX, LandmarkSequence
from posecheck.spec import ExerciseSpec

MAX_FRAMES = 400  # enough frames, evenly spread, to judge a whole video
MIN_DETECTED = 15  # fewer detected frames than this: no judgement
MATCH = 0.3  # a turn explains the video when its score reaches this...
AS_FILMED_SHARE = 0.6  # ...and the video as filmed scores at most this share of it
ACTIVE_SHARE_FOR_FULL_SCORE = 0.1  # share of frames in the rep's active zone that looks like reps

# the clockwise turn that puts the picture right -> (how the video is turned, how to rotate it back)
TURNS = {
    90: ("on its side (turned a quarter anticlockwise)", "a quarter turn clockwise"),
    180: ("upside down", "by half a turn"),
    270: ("on its side (turned a quarter clockwise)", "a quarter turn anticlockwise"),
}


def rotate(seq: LandmarkSequence, degrees: int) -> LandmarkSequence:
    """The landmarks as they would be in the picture turned clockwise by `degrees` (90, 180, 270)."""
    width, height = seq.image_size
    x, y = seq.xy[..., 0], seq.xy[..., 1]
    wx, wy = seq.world[..., 0], seq.world[..., 1]
    if degrees == 90:
        xy, size, world_xy = np.stack([height - y, x], -1), (height, width), np.stack([-wy, wx], -1)
    elif degrees == 180:
        xy, size, world_xy = np.stack([width - x, height - y], -1), (width, height), np.stack([-wx, -wy], -1)
    elif degrees == 270:
        xy, size, world_xy = np.stack([y, width - x], -1), (height, width), np.stack([wy, -wx], -1)
    else:
        raise ValueError(f"rotate by 90, 180 or 270 degrees, not {degrees}")
    world = np.concatenate([world_xy, seq.world[..., 2:]], axis=-1)
    return LandmarkSequence(xy=xy, z=seq.z, visibility=seq.visibility, world=world, t=seq.t, image_size=size)


def match_score(seq: LandmarkSequence, spec: ExerciseSpec) -> float:
    """0-1: how well the frames look like this exercise as filmed (start position and reps)."""
    values = Checker(spec, smoothing=False).metric_values(seq.xy, seq.world, seq.t)
    in_start = np.ones((len(seq), 2), dtype=bool)
    for condition in spec.start.require:
        if condition.relative_to == "value":
            holds = np.vectorize(condition.holds, otypes=[bool])(values[condition.metric])
            in_start &= holds
    start_share = float(in_start.any(axis=1).mean())
    if spec.reps.from_start:
        return start_share
    toward = spec.reps.toward_active(values[spec.reps.metric])
    with np.errstate(invalid="ignore"):
        active = (toward >= spec.reps.toward_active(spec.reps.active)).any(axis=1)
    active_share = float(active.mean())
    return start_share * min(active_share / ACTIVE_SHARE_FOR_FULL_SCORE, 1.0)


def looks_upside_down(seq: LandmarkSequence) -> bool:
    """Most frames show an upright trunk with the head well below the hips."""
    i = LANDMARK_INDEX
    shoulders = (seq.xy[:, i["left_shoulder"]] + seq.xy[:, i["right_shoulder"]]) / 2
    hips = (seq.xy[:, i["left_hip"]] + seq.xy[:, i["right_hip"]]) / 2
    torso = np.linalg.norm(shoulders - hips, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        upright = np.abs(shoulders[:, 1] - hips[:, 1]) > 0.7 * torso  # within ~45 degrees of vertical
        head_below = seq.xy[:, i["nose"], 1] - hips[:, 1] > 0.5 * torso
    known = ~np.isnan(torso) & (torso > 0)
    return bool(known.sum() >= MIN_DETECTED and (upright & head_below)[known].mean() > 0.5)


def rotation_hint(seq: LandmarkSequence, spec: ExerciseSpec) -> str | None:
    """A sentence saying the video looks turned, and how to fix it; None when it looks right."""
    detected = seq[np.flatnonzero(seq.detected)]
    if len(detected) < MIN_DETECTED:
        return None
    if len(detected) > MAX_FRAMES:
        detected = detected[np.linspace(0, len(detected) - 1, MAX_FRAMES).astype(int)]
    as_filmed = match_score(detected, spec)
    if as_filmed < MATCH:
        scores = {turn: match_score(rotate(detected, turn), spec) for turn in TURNS}
        best = max(scores, key=scores.get)
        if scores[90] >= MATCH and scores[270] >= MATCH:  # either quarter turn fits: say no direction
            how, back = "on its side", "a quarter turn (the way that puts the floor at the bottom)"
        else:
            how, back = TURNS[best]
        if scores[best] >= MATCH and as_filmed <= AS_FILMED_SHARE * scores[best]:
            return (
                f"The video seems {how}: the person looks like the {spec.name} start position and "
                f"reps only with the picture turned. Rotate the video {back} and analyse it again."
            )
    if looks_upside_down(detected):
        return (
            "The person looks upside down in most frames: is the video upside down? "
            "Rotate it by half a turn and analyse it again."
        )
    return None
