"""Follow one person: never mix another person's landmarks into the one being checked.

The pose model tracks one person, but when it loses them it may pick up someone else in the
picture, and the checker would then see one body jump into another's position: a fake rep. The
lock follows the person seen first; a frame whose body centre jumps further than that person
could move in the time nobody was seen is left out (as "not visible"). Someone who is
gone for `RELEASE_S` (while only someone else is seen) releases the lock, so that person is followed.

`PeopleWatch` (below) records how many people the pose model finds in occasional frames, so the
report can say that two people were seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posecheck.landmarks import LANDMARK_INDEX, LandmarkSequence

JUMP_TORSOS = 0.8  # a jump of the body centre between consecutive frames, in torso lengths...
SPEED_TORSOS_PER_S = 3.0  # ...plus how far a person can move per second in which nobody is seen
RELEASE_S = 5.0  # only someone else seen for this long: follow them (the first person has gone)

_TORSO = [LANDMARK_INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]


def body_centre_and_size(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """The centre of shoulders and hips and the torso length (pixels) of one frame's (33, 2) xy."""
    shoulders = (xy[_TORSO[0]] + xy[_TORSO[1]]) / 2
    hips = (xy[_TORSO[2]] + xy[_TORSO[3]]) / 2
    return (shoulders + hips) / 2, float(np.linalg.norm(shoulders - hips))


@dataclass
class PersonLock:
    """Feed it each frame's pose; it returns the pose, or a missing frame if it is someone else."""

    left_out: int = 0  # frames left out because they showed another body
    _centre: np.ndarray | None = None
    _size: float = 0.0  # the largest torso length seen: foreshortening never shrinks the person
    _seen_at: float = -np.inf  # when the followed person was last seen
    _last_t: float | None = None
    _nobody_s: float = 0.0  # time since then in which nobody at all was seen

    def follow(self, pose: LandmarkSequence) -> LandmarkSequence:
        t = float(pose.t[0])
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        if not pose.detected[0]:
            self._nobody_s += dt
            return pose
        centre, size = body_centre_and_size(pose.xy[0])
        if not (np.all(np.isfinite(centre)) and size > 0):
            return pose
        if self._centre is not None and t - self._seen_at < RELEASE_S:
            allowed = self._size * (JUMP_TORSOS + SPEED_TORSOS_PER_S * (self._nobody_s + dt))
            if np.linalg.norm(centre - self._centre) > allowed:
                self.left_out += 1
                return LandmarkSequence.missing(t, pose.image_size)
        else:
            self._size = 0.0  # a new person (or the same one after long): measure them afresh
        self._centre, self._size, self._seen_at = centre, max(self._size, size), t
        self._nobody_s = 0.0
        return pose


@dataclass
class PeopleWatch:
    """How many people the pose model saw in the frames it was asked to look at closely."""

    checks: int = 0
    times_with_several: list[float] = field(default_factory=list)

    def record(self, t: float, people: int) -> None:
        self.checks += 1
        if people > 1:
            self.times_with_several.append(t)

    def warning(self, left_out: int = 0) -> str | None:
        if not self.times_with_several:
            if left_out >= 3:
                return (
                    f"In {left_out} frames the body seen jumped to another place (someone else in the "
                    "picture?): those frames were left out."
                )
            return None
        first = self.times_with_several[0]
        left = f" {left_out} frames that showed the other person were left out." if left_out else ""
        return (
            f"Two people are seen (from {first:.1f} s, in {len(self.times_with_several)} of {self.checks} "
            "checks): posecheck follows the person seen first and never mixes in the other."
            + left
            + " For a reliable check, have only the person exercising in the picture."
        )
