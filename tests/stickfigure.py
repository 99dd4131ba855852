"""A kinematic stick figure that turns joint angles over time into a `LandmarkSequence`.

Tests describe a movement as a few keyframed `Pose`s; `sequence()` interpolates them, builds
MediaPipe's 33 landmarks on a simple skeleton, films them with a fixed pinhole camera and
returns what the pose module would: pixels, relative depth, visibility and world metres.

    from stickfigure import reps, sequence, supine_knees_bent   # tests/conftest.py puts tests/ on sys.path

    start = supine_knees_bent()
    top = start.raise_pelvis(0.19)                      # a bridge: shoulders and feet stay put
    seq = sequence(reps(start, top, n=3, hold_s=6.0), camera_side="left", noise_px=1.0)

Building keyframes
------------------
* Ready-made postures (all facing +x, feet/hands planted with targets where they bear weight):
  `standing`, `supine` (head toward -x), `supine_knees_bent`, `prone`, `quadruped`,
  `prone_on_elbows_knees`, `prone_on_elbows_toes`, `sitting`, `tall_kneeling`,
  `kneeling_on_heels`, `half_kneeling(front=)`, `split_stance(front=, step=)`.
* Variants: `pose.with_(trunk=45, thigh=0)` sets fields (a part without `left_`/`right_` sets
  both sides), `pose.nudged(pelvis_y=0.02, foot_at=(0.1, 0))` adds to them,
  `pose.raise_pelvis(dy)` lifts the pelvis pivoting the trunk about the shoulders (bridges,
  pelvic tilts), `pose.ankle_positions()` says where the ankles are (to plant them).
* Time: `Timeline(pose).fidget(2).hold(1).to(top, 1.5).hold(6).to(pose, 1.5).keyframes`, or
  `reps(start, top, n, up_s, hold_s, down_s, rest_s, lead_in_s)` for n reps after a lead-in of
  fidgeting and settling; `rep_windows(...)` gives each rep's (start, top, leave top, down)
  times; `still(pose, seconds)` holds one pose. `render(seq, i)` draws a frame to look at.

Conventions (figure frame, metres)
----------------------------------
* x forward (where a standing person faces), y UP, z to the person's LEFT. The figure moves
  in the x-y (sagittal) plane; sideways movement is given by the `*_out` angles, `pelvis_z`,
  `trunk_side`, `twist`, `roll` and the pelvis rotations.
* Sagittal directions are angles in degrees in the x-y plane, from +x toward +y:
  0 = forward, 90 = up, -90 (or 270) = down, 180 = backward. Limb directions are ABSOLUTE
  (not relative to the parent segment): a hanging arm is -90, a vertical shin -90, a thigh
  pointing forward (sitting) 0.
* `trunk` is the direction of the hip->shoulder line: 90 standing, 180 lying on the back with
  the head toward -x, 0 lying face down with the head toward +x (or on all fours), 45 leaning
  forward. The person's front (chest/belly) always faces `trunk - 90`: forward when standing,
  up when supine, down when prone. So knees flex clockwise and elbows counter-clockwise when
  the figure is seen from its left (+z).
* Angles are interpolated as plain numbers: to go from 350 to 10 write -10.
* `roll` turns the whole figure about the trunk axis through the pelvis: supine with roll=90 lies
  on its left side (raise `pelvis_y` by about hip_width/2 so the lower hip stays on the floor).
  `twist` turns the shoulder line against the hips, `pelvis_roll` the hips (and the trunk with
  them) about the same axis; positive always turns the person's front toward their left.
* Positions (`pelvis_*`, `*_foot_at`, `*_hand_at`) are metres for a body of `scale` 1 and are
  multiplied by `Body.scale`, so the same keyframes fit any body size.

Segments and landmarks
----------------------
Pelvis centre = mid-hip; hips at +-hip_width/2 along the pelvis' left axis. The trunk is two
halves (hip -> mid back -> mid shoulder); MediaPipe has no spine landmark, so bending the
spine (`spine_flex`) only shows through the shoulders and the head: the hip->shoulder
direction stays `trunk`, the hip-shoulder distance shrinks by cos(spine_flex/2), and the neck
(which follows the upper half of the trunk) tilts forward by spine_flex/2, so the ears and
nose drop in front of the hip-shoulder line (rounding, spine_flex > 0) or behind it (arching,
< 0). The ears sit `neck_head` beyond the mid shoulder along the neck; eyes, nose and mouth are
in front of them (toward the face). Heel and toe (foot_index) follow the foot's sole direction
`*_foot` (heel->toe; 0 = flat, toes forward; 180 = toes pointing back as when kneeling with the
top of the foot on the floor, `KNEELING_FOOT` = 210 puts the toes on the floor; -90 = toes
tucked under, pointing down, as in a plank); the ankle is `ankle_height` above the sole. Hands
(index, pinky, thumb) continue the forearm.

Legs and arms can instead be placed by their end point: `left_foot_at=(x, y)` puts the left
ankle there (two-link IK, knee bending the natural way), `left_hand_at` the wrist. Targets are
interpolated as positions between keyframes, so planted feet stay planted while the pelvis
moves (a squat, a bridge). A keyframe without a target contributes the end point its angles
give, so a foot can be lifted off (angles) and put down again (target).

Camera and output
-----------------
`sequence()` films the whole movement with one fixed pinhole camera at `distance_m` from the
centre of the motion, level (or `elevation_deg` above), zoomed and centred so the motion fills
`fill` of the frame. view="side": camera on the `camera_side` of the person (its optical axis
along -+z); "front": in front (+x); "back": behind (-x); "three_quarter": half way between
the side and the front. The output is in MediaPipe's conventions: `xy` pixels (x right, y
down), `z` depth relative to the mid-hip in the same units as x normalised by the image width
(nearer = smaller), `visibility` `near_visibility` for the side facing the camera and
`far_visibility` for the other side (both near in a front view), and `world` metres relative
to the mid-hip with x right, y DOWN and z away from the camera. To put landmarks out of the
picture use `shift_px` (or `fill` > 1); `dropout` blanks whole frames (the person left) and
`occlude` lowers the visibility of named landmarks for a while.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from posecheck.landmarks import LANDMARK_INDEX, N_LANDMARKS, SKELETON_EDGES, LandmarkSequence

SIDES = ("left", "right")
KNEELING_FOOT = 210.0  # sole direction of a foot lying on its top, toes pointing back (kneeling)
LIMB_FIELDS = ("thigh", "shin", "foot", "upper_arm", "forearm")
OUT_FIELDS = ("thigh_out", "shin_out", "upper_arm_out", "forearm_out")
TARGET_FIELDS = ("foot_at", "hand_at")


@dataclass(frozen=True)
class Body:
    """Segment lengths in metres for `scale` 1; `scale` multiplies every length and position."""

    torso: float = 0.5  # mid-hip to mid-shoulder with a straight spine
    thigh: float = 0.45
    shin: float = 0.43
    upper_arm: float = 0.3
    forearm: float = 0.27
    foot: float = 0.2  # heel to toe
    ankle_height: float = 0.07  # ankle above the sole
    heel_back: float = 0.05  # heel behind the ankle along the sole
    neck_head: float = 0.22  # mid shoulder to the ears
    hip_width: float = 0.3
    shoulder_width: float = 0.38
    head_width: float = 0.15  # ear to ear
    scale: float = 1.0

    @property
    def leg(self) -> float:
        """Hip height when standing straight (unscaled)."""
        return self.thigh + self.shin + self.ankle_height

    @property
    def arm(self) -> float:
        return self.upper_arm + self.forearm


DEFAULT_BODY = Body()


@dataclass(frozen=True)
class Pose:
    """One posture of the stick figure; see the module docstring for the conventions.

    Every angle is in degrees. Per-side fields come as `left_<part>` / `right_<part>`;
    `with_(thigh=...)` sets both sides at once. The defaults are a person standing straight
    with the arms hanging, feet under the hips, at the origin.
    """

    pelvis_x: float = 0.0
    pelvis_y: float = DEFAULT_BODY.leg  # mid-hip height
    pelvis_z: float = 0.0  # sideways shift toward the person's left
    trunk: float = 90.0  # direction of hip -> shoulder (90 upright, 180 supine head to -x)
    spine_flex: float = 0.0  # rounding (+, flexion) / arching (-) of the back
    trunk_side: float = 0.0  # side bend of the trunk toward the person's left (+)
    twist: float = 0.0  # shoulder line turned to the person's left relative to the hips (+)
    roll: float = 0.0  # whole figure turned to its left about the trunk axis (90 = onto left side)
    pelvis_roll: float = 0.0  # hips (and with them the trunk) turned to the left about the trunk axis:
    # the left hip moves toward the person's back (on all fours: left hip higher)
    pelvis_obliquity: float = 0.0  # left hip toward the head (+; standing: left hip higher)
    neck: float = 0.0  # neck flexion relative to the upper back (+ = chin toward chest)
    left_thigh: float = -90.0
    right_thigh: float = -90.0
    left_shin: float = -90.0
    right_shin: float = -90.0
    left_foot: float = 0.0
    right_foot: float = 0.0
    left_upper_arm: float = -90.0
    right_upper_arm: float = -90.0
    left_forearm: float = -90.0
    right_forearm: float = -90.0
    # sideways components: segment tilted out of the sagittal plane, away from the midline (+)
    left_thigh_out: float = 0.0
    right_thigh_out: float = 0.0
    left_shin_out: float = 0.0
    right_shin_out: float = 0.0
    left_upper_arm_out: float = 0.0
    right_upper_arm_out: float = 0.0
    left_forearm_out: float = 0.0
    right_forearm_out: float = 0.0
    # end-point targets (x, y) in the sagittal plane (IK instead of the limb angles)
    left_foot_at: tuple[float, float] | None = None
    right_foot_at: tuple[float, float] | None = None
    left_hand_at: tuple[float, float] | None = None
    right_hand_at: tuple[float, float] | None = None

    # --- building variants ---------------------------------------------------------------

    def with_(self, **changes: object) -> Pose:
        """A copy with fields changed. Per-side parts without a side set both sides
        (`thigh=45`, `foot_at=(0.6, 0.07)`); `pelvis=(x, y)` sets pelvis_x and pelvis_y."""
        return dataclasses.replace(self, **_expand(changes))

    def nudged(self, **deltas: object) -> Pose:
        """A copy with numbers added to fields (`nudged(pelvis_y=0.02, foot_at=(0.05, 0))`).

        A target that is None stays None.
        """
        changes: dict[str, object] = {}
        for name, delta in _expand(deltas).items():
            value = getattr(self, name)
            if name.endswith("_at"):
                if value is not None:
                    changes[name] = (value[0] + delta[0], value[1] + delta[1])  # type: ignore[index]
            else:
                changes[name] = value + delta  # type: ignore[operator]
        return dataclasses.replace(self, **changes)

    def raise_pelvis(self, dy: float, body: Body = DEFAULT_BODY) -> Pose:
        """Raise (dy > 0) or lower the pelvis keeping the shoulders and the head where they are.

        The trunk pivots about the mid shoulder (as in a bridge or a pelvic tilt), so the pelvis
        moves on an arc; the neck bends so its direction is unchanged; legs with `*_foot_at`
        stay planted. Positions are unscaled, like everything in a Pose.
        """
        chord = body.torso * np.cos(np.radians(self.spine_flex) / 2)
        th = np.radians(self.trunk)
        sx, sy = self.pelvis_x + chord * np.cos(th), self.pelvis_y + chord * np.sin(th)
        py = self.pelvis_y + dy
        vy = (sy - py) / chord
        if abs(vy) > 1:
            raise ValueError(f"cannot raise the pelvis by {dy} m: the trunk is only {chord:.2f} m long")
        vx = np.copysign(np.sqrt(1 - vy * vy), np.cos(th) if abs(np.cos(th)) > 1e-9 else 1.0)
        trunk = float(np.degrees(np.arctan2(vy, vx)))
        trunk += 360.0 * round((self.trunk - trunk) / 360.0)  # stay near the old angle
        return self.with_(
            pelvis_x=float(sx - chord * vx),
            pelvis_y=float(py),
            trunk=trunk,
            neck=self.neck + trunk - self.trunk,
        )

    def ankle_positions(self, body: Body = DEFAULT_BODY) -> dict[str, tuple[float, float]]:
        """Where the ankles of this pose are in the sagittal plane (unscaled), e.g. to plant them."""
        pts = figure_points([(0.0, self)], np.array([0.0]), dataclasses.replace(body, scale=1.0))
        return {s: tuple(pts[0, LANDMARK_INDEX[f"{s}_ankle"], :2].tolist()) for s in SIDES}


def _expand(changes: dict[str, object]) -> dict[str, object]:
    names = {f.name for f in dataclasses.fields(Pose)}
    out: dict[str, object] = {}
    for name, value in changes.items():
        if name == "pelvis":
            out["pelvis_x"], out["pelvis_y"] = value  # type: ignore[misc]
        elif name in LIMB_FIELDS + OUT_FIELDS + TARGET_FIELDS:
            out[f"left_{name}"] = out[f"right_{name}"] = value
        elif name in names:
            out[name] = value
        else:
            raise TypeError(f"Pose has no field {name!r}; fields: {', '.join(sorted(names))}")
    return out


# --- ready-made postures -------------------------------------------------------------------------


def standing(body: Body = DEFAULT_BODY) -> Pose:
    """Standing straight facing +x, arms hanging, feet planted under the hips."""
    return Pose(pelvis_y=body.leg - 0.002).with_(foot_at=(0.0, body.ankle_height))


def supine(body: Body = DEFAULT_BODY) -> Pose:
    """Lying on the back, legs straight, head toward -x, arms along the body on the floor."""
    y = 0.1  # hip joints above the floor
    return Pose(pelvis_y=y, trunk=180.0).with_(thigh=0.0, shin=0.0, foot=80.0, upper_arm=-3.0, forearm=0.0)


def supine_knees_bent(body: Body = DEFAULT_BODY, knee_deg: float = 90.0) -> Pose:
    """Lying on the back, knees bent to about `knee_deg`, feet flat and planted (bridge start)."""
    y = 0.1
    reach = np.sqrt(body.thigh**2 + body.shin**2 - 2 * body.thigh * body.shin * np.cos(np.radians(knee_deg)))
    ankle_y = body.ankle_height + 0.005
    ankle_x = float(np.sqrt(reach**2 - (y - ankle_y) ** 2))
    return supine(body).with_(foot=0.0, foot_at=(ankle_x, ankle_y))


def prone(body: Body = DEFAULT_BODY) -> Pose:
    """Lying face down, head toward +x, legs straight, toes pointing back, arms by the sides."""
    return Pose(pelvis_y=0.1, trunk=0.0).with_(
        thigh=180.0, shin=180.0, foot=KNEELING_FOOT, upper_arm=183.0, forearm=180.0
    )


def quadruped(body: Body = DEFAULT_BODY) -> Pose:
    """On all fours facing +x: hands under the shoulders, knees under the hips, shins and the
    tops of the feet on the floor."""
    knee_y, wrist_y = 0.05, 0.04
    hip_y = knee_y + body.thigh
    shoulder_y = wrist_y + body.arm - 0.002  # arms (almost) straight
    rise = shoulder_y - hip_y
    run = np.sqrt(body.torso**2 - rise**2)
    trunk = float(np.degrees(np.arctan2(rise, run)))
    return Pose(pelvis_y=hip_y, trunk=trunk, neck=-trunk).with_(
        foot=KNEELING_FOOT, foot_at=(-body.shin, knee_y + 0.01), hand_at=(float(run), wrist_y)
    )


def _prone_on_elbows(body: Body, on_knees: bool) -> Pose:
    shoulder_y = body.upper_arm + 0.05  # upper arm vertical, forearm flat on the floor
    if on_knees:
        base = np.array([0.0, 0.05])  # knee on the floor
        length = body.thigh + body.torso
    else:
        base = np.array([0.0, 0.05 + 0.0])  # ankle above the toes
        length = body.shin + body.thigh + body.torso
    angle = np.arcsin((shoulder_y - base[1]) / length)  # straight line base -> shoulder
    direction = np.array([np.cos(angle), np.sin(angle)])
    hip = base + direction * (length - body.torso)
    trunk = float(np.degrees(angle))
    pose = Pose(pelvis_x=float(hip[0]), pelvis_y=float(hip[1]), trunk=trunk, neck=-trunk).with_(
        upper_arm=-90.0, forearm=0.0, thigh=180.0 + trunk
    )
    if on_knees:
        return pose.with_(shin=180.0, foot=KNEELING_FOOT)
    return pose.with_(shin=180.0 + trunk, foot=-90.0)


def prone_on_elbows_knees(body: Body = DEFAULT_BODY) -> Pose:
    """Short plank: forearms and knees on the floor, shoulders over elbows, knee-hip-shoulder
    in one straight line, head toward +x."""
    return _prone_on_elbows(body, on_knees=True)


def prone_on_elbows_toes(body: Body = DEFAULT_BODY) -> Pose:
    """Plank: forearms and toes on the floor, ankle-hip-shoulder in one straight line."""
    return _prone_on_elbows(body, on_knees=False)


def sitting(body: Body = DEFAULT_BODY, seat_height: float = 0.45) -> Pose:
    """Sitting upright on a chair facing +x: thighs level, shins vertical, feet planted, hands
    on the thighs."""
    hip_y = seat_height + 0.05
    return Pose(pelvis_y=hip_y).with_(
        thigh=0.0, upper_arm=-80.0, forearm=-15.0, foot_at=(body.thigh, hip_y - body.shin)
    )


def tall_kneeling(body: Body = DEFAULT_BODY) -> Pose:
    """Kneeling upright: thighs and trunk vertical, shins and tops of the feet on the floor."""
    knee_y = 0.05
    return Pose(pelvis_y=knee_y + body.thigh).with_(
        thigh=-90.0, shin=180.0, foot=KNEELING_FOOT, foot_at=(-body.shin, knee_y + 0.01)
    )


def kneeling_on_heels(body: Body = DEFAULT_BODY) -> Pose:
    """Sitting back on the heels, trunk upright, shins and tops of the feet on the floor."""
    knee_y = 0.05
    hip_y = knee_y + 0.17
    thigh = -float(np.degrees(np.arcsin((hip_y - knee_y) / body.thigh)))
    knee_x = body.thigh * np.cos(np.radians(thigh))
    return Pose(pelvis_y=hip_y).with_(
        thigh=thigh,
        shin=180.0,
        foot=KNEELING_FOOT,
        upper_arm=-80.0,
        forearm=-20.0,
        foot_at=(float(knee_x - body.shin), knee_y + 0.01),
    )


def half_kneeling(body: Body = DEFAULT_BODY, front: str = "left") -> Pose:
    """One knee down (the back leg's shin on the floor), the `front` foot planted ahead with the
    knee over the ankle, trunk upright."""
    knee_y = 0.05
    hip_y = knee_y + body.thigh
    back = "right" if front == "left" else "left"
    return Pose(pelvis_y=hip_y).with_(
        **{
            f"{front}_foot_at": (body.thigh, body.ankle_height + 0.005),
            f"{back}_foot_at": (-body.shin, knee_y + 0.01),
            f"{back}_foot": KNEELING_FOOT,
        }
    )


def split_stance(body: Body = DEFAULT_BODY, front: str = "left", step: float = 0.7) -> Pose:
    """Standing with the `front` foot `step` metres ahead of the back one (lunge start),
    back heel lifted."""
    back = "right" if front == "left" else "left"
    half = step / 2
    hip_y = float(body.ankle_height + np.sqrt(max((body.thigh + body.shin - 0.01) ** 2 - half**2, 0.0)))
    return Pose(pelvis_y=hip_y).with_(
        **{
            f"{front}_foot_at": (half, body.ankle_height),
            f"{back}_foot_at": (-half, body.ankle_height + 0.03),
            f"{back}_foot": -25.0,
        }
    )


# --- keyframes -----------------------------------------------------------------------------------


class Timeline:
    """Builds keyframes step by step, starting from a pose at time `t0`.

    kf = Timeline(start).hold(2).to(top, 1.0).hold(6).to(start, 1.0).keyframes
    """

    def __init__(self, pose: Pose, t0: float = 0.0) -> None:
        self.keyframes: list[tuple[float, Pose]] = [(t0, pose)]

    @property
    def t(self) -> float:
        return self.keyframes[-1][0]

    @property
    def pose(self) -> Pose:
        return self.keyframes[-1][1]

    def to(self, pose: Pose, seconds: float) -> Timeline:
        """Move (smoothly) to `pose`, arriving `seconds` later."""
        if seconds <= 0:
            raise ValueError("a move needs a positive duration")
        self.keyframes.append((self.t + seconds, pose))
        return self

    def hold(self, seconds: float) -> Timeline:
        """Stay still."""
        if seconds > 0:
            self.keyframes.append((self.t + seconds, self.pose))
        return self

    def fidget(self, seconds: float, amount: float = 0.02) -> Timeline:
        """Small restless moves around the current pose, ending back in it: the pelvis shifts
        by up to `amount` metres, planted feet/hands slide and the trunk wobbles a little."""
        base = self.pose
        d = amount
        offsets = [
            dict(pelvis_x=d, pelvis_y=0.4 * d, trunk=1.5, foot_at=(1.5 * d, 0.0), hand_at=(d, 0.0)),
            dict(pelvis_x=-0.7 * d, pelvis_y=0.0, trunk=-1.0, foot_at=(-1.0 * d, 0.0), hand_at=(-d, 0.0)),
            dict(
                pelvis_x=0.5 * d, pelvis_y=0.6 * d, trunk=0.5, foot_at=(2.0 * d, 0.0), hand_at=(0.5 * d, 0.0)
            ),
        ]
        step = seconds / (len(offsets) + 1)
        for offset in offsets:
            self.to(base.nudged(**offset), step)
        return self.to(base, step)

    def rep(
        self,
        top: Pose,
        up_s: float = 1.5,
        hold_s: float = 0.0,
        down_s: float = 1.5,
        rest_s: float = 1.5,
        start: Pose | None = None,
    ) -> Timeline:
        """One rep from the current pose: up to `top`, hold, back down to `start` (default: the
        current pose), rest."""
        start = start if start is not None else self.pose
        return self.to(top, up_s).hold(hold_s).to(start, down_s).hold(rest_s)


def reps(
    start: Pose,
    top: Pose | Sequence[Pose],
    n: int | None = None,
    up_s: float = 1.5,
    hold_s: float | Sequence[float] = 0.0,
    down_s: float = 1.5,
    rest_s: float = 1.5,
    lead_in_s: float = 3.0,
    settle_s: float = 1.5,
    fidget: float = 0.02,
) -> list[tuple[float, Pose]]:
    """Keyframes of `n` reps from `start` to `top` and back, after a lead-in.

    The lead-in lasts `lead_in_s`: fidgeting (see `Timeline.fidget`, `fidget` metres; 0 for
    none) and then `settle_s` still in the start pose. `top` and `hold_s` may be lists, one
    per rep (then `n` defaults to their length). Each rep is up_s + hold_s + down_s + rest_s.
    """
    if n is None:
        n = len(top) if not isinstance(top, Pose) else 1 if isinstance(hold_s, (int, float)) else len(hold_s)
    tops = [top] * n if isinstance(top, Pose) else list(top)
    holds = [hold_s] * n if isinstance(hold_s, (int, float)) else list(hold_s)
    if len(tops) != n or len(holds) != n:
        raise ValueError(f"{n} reps need {n} tops and {n} hold times")
    timeline = Timeline(start)
    fidget_s = max(lead_in_s - settle_s, 0.0)
    if fidget > 0 and fidget_s > 0:
        timeline.fidget(fidget_s, fidget)
    else:
        timeline.hold(fidget_s)
    timeline.hold(min(settle_s, lead_in_s))
    for top_i, hold_i in zip(tops, holds, strict=True):
        timeline.rep(top_i, up_s, hold_i, down_s, rest_s, start=start)
    return timeline.keyframes


def rep_windows(
    n: int,
    up_s: float = 1.5,
    hold_s: float | Sequence[float] = 0.0,
    down_s: float = 1.5,
    rest_s: float = 1.5,
    lead_in_s: float = 3.0,
) -> list[tuple[float, float, float, float]]:
    """(starts up, reaches the top, leaves the top, is back down) times of each rep that
    `reps()` with the same arguments makes."""
    holds = [hold_s] * n if isinstance(hold_s, (int, float)) else list(hold_s)
    out, t = [], lead_in_s
    for hold in holds:
        out.append((t, t + up_s, t + up_s + hold, t + up_s + hold + down_s))
        t += up_s + hold + down_s + rest_s
    return out


# --- interpolation and forward kinematics ----------------------------------------------------------


def _smoothstep(s: np.ndarray) -> np.ndarray:
    return s * s * (3.0 - 2.0 * s)


def _segments(keyframes: Sequence[tuple[float, Pose]], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    times = np.array([k[0] for k in keyframes], dtype=float)
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"keyframe times must increase, got {times.tolist()}")
    if len(times) == 1:
        return np.zeros(len(t), dtype=int), np.zeros(len(t))
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    s = np.clip((t - times[k]) / (times[k + 1] - times[k]), 0.0, 1.0)
    return k, _smoothstep(s)


def interpolate(keyframes: Sequence[tuple[float, Pose]], t: np.ndarray) -> dict[str, np.ndarray]:
    """Pose fields as (T,) arrays at times `t` (smoothstep between keyframes; targets (T, 2)
    with NaN where neither neighbouring keyframe has one)."""
    k, s = _segments(keyframes, t)
    out: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(Pose):
        if f.name.endswith("_at"):
            continue
        v = np.array([getattr(p, f.name) for _, p in keyframes], dtype=float)
        out[f.name] = v[k] + (v[np.minimum(k + 1, len(v) - 1)] - v[k]) * s
    return out


def _unit(angle_deg: np.ndarray) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=-1)


def _rotate(v: np.ndarray, axis: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """Rotate (T, 3) vectors about unit (T, 3) axes, positive = "turning left": with the trunk
    axis as `axis`, the person's front turns toward their left (+z when standing)."""
    a = np.radians(angle_deg)[..., None]
    dot = np.sum(axis * v, axis=-1, keepdims=True)
    return v * np.cos(a) + np.cross(v, axis) * np.sin(a) + axis * dot * (1.0 - np.cos(a))


def _tilt_out(direction: np.ndarray, out_deg: np.ndarray, sign: float) -> np.ndarray:
    """Tilt a sagittal direction out of the x-y plane, away from the midline."""
    a = np.radians(out_deg)[..., None]
    lateral = np.zeros_like(direction)
    lateral[..., 2] = sign
    return direction * np.cos(a) + lateral * np.sin(a)


def _two_link(
    root: np.ndarray, target: np.ndarray, l1: np.ndarray, l2: np.ndarray, clockwise: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Sagittal angles (deg) of the two links reaching from root (T, 2) toward target (T, 2).

    clockwise: the second link turns clockwise from the first (knees); else counter-clockwise
    (elbows). A target out of reach is pointed at with the limb straight.
    """
    delta = target - root
    d = np.hypot(delta[:, 0], delta[:, 1])
    d = np.clip(d, np.abs(l1 - l2) + 1e-6, l1 + l2 - 1e-6)
    phi = np.arctan2(delta[:, 1], delta[:, 0])
    alpha = np.arccos(np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1.0, 1.0))
    first = phi + alpha if clockwise else phi - alpha
    mid = root + l1[:, None] * np.stack([np.cos(first), np.sin(first)], axis=1)
    end = root + d[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    second = np.arctan2(end[:, 1] - mid[:, 1], end[:, 0] - mid[:, 0])
    return np.degrees(first), np.degrees(second)


def _targets(
    keyframes: Sequence[tuple[float, Pose]], t: np.ndarray, body: Body
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per target field used anywhere: (T, 2) interpolated target and (T,) mask of frames that
    use it (a keyframe on either side of the frame has the target)."""
    out = {}
    k, s = _segments(keyframes, t)
    for side in SIDES:
        for part in TARGET_FIELDS:
            name = f"{side}_{part}"
            given = [getattr(p, name) for _, p in keyframes]
            if all(g is None for g in given):
                continue
            landmark = f"{side}_ankle" if part == "foot_at" else f"{side}_wrist"
            values = []
            for (tk, pose), g in zip(keyframes, given, strict=True):
                if g is None:  # where this keyframe's angles put the end point
                    free = dataclasses.replace(pose, **{name: None})
                    pts = figure_points([(tk, free)], np.array([tk]), dataclasses.replace(body, scale=1.0))
                    g = tuple(pts[0, LANDMARK_INDEX[landmark], :2])
                values.append(g)
            v = np.array(values, dtype=float)
            has = np.array([g is not None for g in given])
            k1 = np.minimum(k + 1, len(v) - 1)
            target = v[k] + (v[k1] - v[k]) * s[:, None]
            out[name] = (target, has[k] | has[k1])
    return out


def figure_points(
    keyframes: Sequence[tuple[float, Pose]], t: np.ndarray, body: Body = DEFAULT_BODY
) -> np.ndarray:
    """(T, 33, 3) landmark positions in the figure frame (metres, y up) at times `t`."""
    p = interpolate(keyframes, t)
    targets = _targets(keyframes, t, body)
    sc = body.scale
    n = len(t)
    z_axis = np.zeros((n, 3))
    z_axis[:, 2] = 1.0
    pelvis = np.stack([p["pelvis_x"], p["pelvis_y"], p["pelvis_z"]], axis=1) * sc

    long_axis = _unit(p["trunk"])
    front = _unit(p["trunk"] - 90.0)
    back = -front
    pts = np.full((n, N_LANDMARKS, 3), np.nan)

    def put(name: str, value: np.ndarray) -> None:
        pts[:, LANDMARK_INDEX[name]] = value

    # pelvis: hip line turned by obliquity (about the back axis) and roll (about the trunk axis)
    hip_axis = _rotate(z_axis, back, -p["pelvis_obliquity"])
    hip_axis = _rotate(hip_axis, long_axis, p["pelvis_roll"])
    hips = {
        "left": pelvis + hip_axis * body.hip_width * sc / 2,
        "right": pelvis - hip_axis * body.hip_width * sc / 2,
    }

    # trunk: two halves, side bend about the back axis, shoulders turned by roll + twist
    half = body.torso * sc / 2
    lower = _unit(p["trunk"] + p["spine_flex"] / 2) * half
    upper = _unit(p["trunk"] - p["spine_flex"] / 2) * half
    lower, upper = _rotate(lower, back, p["trunk_side"]), _rotate(upper, back, p["trunk_side"])
    trunk_axis = _rotate(long_axis, back, p["trunk_side"])
    mid_shoulder = pelvis + lower + upper
    turn = p["pelvis_roll"] + p["twist"]
    shoulder_axis = _rotate(_rotate(z_axis, back, p["trunk_side"]), trunk_axis, turn)
    shoulders = {
        "left": mid_shoulder + shoulder_axis * body.shoulder_width * sc / 2,
        "right": mid_shoulder - shoulder_axis * body.shoulder_width * sc / 2,
    }
    for side in SIDES:
        put(f"{side}_hip", hips[side])
        put(f"{side}_shoulder", shoulders[side])

    # head: neck along the upper back, flexed by `neck`; face toward the front
    neck_dir = _unit(p["trunk"] - p["spine_flex"] / 2 - p["neck"])
    face = _unit(p["trunk"] - p["spine_flex"] / 2 - p["neck"] - 90.0)
    neck_dir, face = _rotate(neck_dir, back, p["trunk_side"]), _rotate(face, back, p["trunk_side"])
    neck_dir, face = _rotate(neck_dir, trunk_axis, turn), _rotate(face, trunk_axis, turn)
    head_axis = shoulder_axis
    ears = mid_shoulder + neck_dir * body.neck_head * sc
    hw = body.head_width * sc / 2

    def head(forward: float, up: float, left: float) -> np.ndarray:
        return ears + sc * (face * forward + neck_dir * up) + head_axis * left * sc

    put("nose", head(0.11, -0.01, 0.0))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        put(f"{side}_ear", ears + head_axis * sign * hw)
        put(f"{side}_eye_inner", head(0.085, 0.015, sign * 0.018))
        put(f"{side}_eye", head(0.085, 0.015, sign * 0.032))
        put(f"{side}_eye_outer", head(0.08, 0.015, sign * 0.045))
        put(f"mouth_{side}", head(0.09, -0.045, sign * 0.025))

    # limbs
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for root, names, lengths, clockwise, target in (
            (hips[side], ("thigh", "shin"), (body.thigh, body.shin), True, f"{side}_foot_at"),
            (
                shoulders[side],
                ("upper_arm", "forearm"),
                (body.upper_arm, body.forearm),
                False,
                f"{side}_hand_at",
            ),
        ):
            a1, a2 = p[f"{side}_{names[0]}"], p[f"{side}_{names[1]}"]
            out1, out2 = p[f"{side}_{names[0]}_out"], p[f"{side}_{names[1]}_out"]
            if target in targets:
                goal, use = targets[target]
                l1 = lengths[0] * sc * np.cos(np.radians(out1))
                l2 = lengths[1] * sc * np.cos(np.radians(out2))
                ik1, ik2 = _two_link(root[:, :2], goal * sc, l1, l2, clockwise)
                a1, a2 = np.where(use, ik1, a1), np.where(use, ik2, a2)
            mid = root + _tilt_out(_unit(a1), out1, sign) * lengths[0] * sc
            end = mid + _tilt_out(_unit(a2), out2, sign) * lengths[1] * sc
            if names[0] == "thigh":
                put(f"{side}_knee", mid)
                put(f"{side}_ankle", end)
                sole = _unit(p[f"{side}_foot"])
                top = _unit(p[f"{side}_foot"] + 90.0)
                heel = end - top * body.ankle_height * sc - sole * body.heel_back * sc
                put(f"{side}_heel", heel)
                put(f"{side}_foot_index", heel + sole * body.foot * sc)
            else:
                put(f"{side}_elbow", mid)
                put(f"{side}_wrist", end)
                hand = (end - mid) / (lengths[1] * sc)
                lateral = z_axis * sign
                put(f"{side}_index", end + hand * 0.09 * sc)
                put(f"{side}_pinky", end + hand * 0.075 * sc + lateral * 0.02 * sc)
                put(f"{side}_thumb", end + hand * 0.05 * sc - lateral * 0.02 * sc)

    # roll the whole figure about the trunk axis through the pelvis
    if np.any(p["roll"] != 0):
        rel = pts - pelvis[:, None]
        axis = np.broadcast_to(long_axis[:, None], rel.shape)
        angle = np.broadcast_to(p["roll"][:, None], rel.shape[:2])
        pts = pelvis[:, None] + _rotate(rel, axis, angle)
    return pts


# --- camera ---------------------------------------------------------------------------------------

VIEW_AZIMUTH = {"side": 0.0, "three_quarter": 45.0, "front": 90.0, "back": -90.0}


@dataclass(frozen=True)
class Camera:
    """A fixed pinhole camera in the figure frame: position, unit axes and pixel mapping."""

    position: np.ndarray
    right: np.ndarray  # image x
    down: np.ndarray  # image y
    forward: np.ndarray  # optical axis (depth)
    focal_px: float
    centre_px: tuple[float, float]

    def depth(self, pts: np.ndarray) -> np.ndarray:
        return (pts - self.position) @ self.forward

    def project(self, pts: np.ndarray) -> np.ndarray:
        rel = pts - self.position
        depth = rel @ self.forward
        u = (rel @ self.right) / depth
        v = (rel @ self.down) / depth
        return np.stack(
            [u * self.focal_px + self.centre_px[0], v * self.focal_px + self.centre_px[1]], axis=-1
        )


def make_camera(
    pts: np.ndarray,
    view: str = "side",
    camera_side: str = "left",
    image_size: tuple[int, int] = (640, 480),
    distance_m: float = 3.0,
    elevation_deg: float = 0.0,
    azimuth_deg: float | None = None,
    fill: float = 0.8,
) -> Camera:
    """A camera that sees all of `pts` (T, 33, 3): see `sequence` for the parameters."""
    if view not in VIEW_AZIMUTH:
        raise ValueError(f"view must be one of {', '.join(VIEW_AZIMUTH)}, not {view!r}")
    if camera_side not in SIDES:
        raise ValueError(f"camera_side must be left or right, not {camera_side!r}")
    flat = pts.reshape(-1, 3)
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    centre = (flat.min(axis=0) + flat.max(axis=0)) / 2
    az = np.radians(VIEW_AZIMUTH[view] if azimuth_deg is None else azimuth_deg)
    el = np.radians(elevation_deg)
    lateral = 1.0 if camera_side == "left" else -1.0
    toward_camera = np.array([np.sin(az) * np.cos(el), np.sin(el), lateral * np.cos(az) * np.cos(el)])
    position = centre + distance_m * toward_camera
    forward = -toward_camera
    up = np.array([0.0, 1.0, 0.0])
    right = np.cross(up, forward)  # the figure frame is left-handed (z = the person's left)
    right /= np.linalg.norm(right)
    down = np.cross(right, forward)
    down = down if down[1] < 0 else -down
    cam = Camera(position, right, down, forward, 1.0, (0.0, 0.0))
    uv = cam.project(flat)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    width, height = image_size
    span = np.maximum(hi - lo, 1e-6)
    focal = fill * min(width / span[0], height / span[1])
    mid = (lo + hi) / 2
    return Camera(
        position,
        right,
        down,
        forward,
        float(focal),
        (width / 2 - focal * mid[0], height / 2 - focal * mid[1]),
    )


# --- the sequence ---------------------------------------------------------------------------------

_PAIRS = [
    (LANDMARK_INDEX[n], LANDMARK_INDEX[n.replace("left", "right")])
    for n in LANDMARK_INDEX
    if n.startswith("left_") or n == "mouth_left"
]


def _intervals(value: object) -> list[tuple[float, float]]:
    if value is None:
        return []
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return [value]  # type: ignore[list-item]
    return list(value)  # type: ignore[arg-type]


def sequence(
    keyframes: Sequence[tuple[float, Pose]] | Timeline,
    fps: float = 30.0,
    view: str = "side",
    camera_side: str = "left",
    noise_px: float = 0.0,
    seed: int = 0,
    image_size: tuple[int, int] = (640, 480),
    dropout: tuple[float, float] | Iterable[tuple[float, float]] | None = None,
    occlude: Iterable[tuple[float, float, Iterable[str]]] = (),
    shift_px: tuple[float, float] = (0.0, 0.0),
    body: Body = DEFAULT_BODY,
    distance_m: float = 3.0,
    elevation_deg: float = 0.0,
    azimuth_deg: float | None = None,
    fill: float = 0.8,
    near_visibility: float = 0.99,
    far_visibility: float = 0.8,
) -> LandmarkSequence:
    """Film the keyframed movement: frames every 1/fps s from the first to the last keyframe.

    view: "side" | "front" | "back" | "three_quarter" (or any `azimuth_deg`: 0 = side,
        90 = front, 45 = front three-quarter, -45 = from behind/the head end); `camera_side`
        says which of the person's sides the camera is on. One fixed camera for the whole
        clip, `distance_m` from the centre of the motion, `elevation_deg` above it, zoomed so
        the motion fills `fill` of the frame.
    noise_px: std of gaussian noise on the pixels (world and z get the same noise in their
        units), from `seed`.
    dropout: (t0, t1) or a list of them: frames with t0 <= t < t1 have no person (NaN
        landmarks, visibility 0), as when the person leaves the picture.
    occlude: (t0, t1, landmark names) triples: those landmarks get visibility 0.05 (MediaPipe
        still guesses where they are).
    shift_px: move the picture so part of the body leaves the frame; landmarks outside the
        image get visibility 0.1.
    """
    if isinstance(keyframes, Timeline):
        keyframes = keyframes.keyframes
    keyframes = list(keyframes)
    t_end = keyframes[-1][0] - keyframes[0][0]
    n = int(np.floor(t_end * fps + 1e-9)) + 1
    t = keyframes[0][0] + np.arange(n) / fps
    pts = figure_points(keyframes, t, body)
    cam = make_camera(pts, view, camera_side, image_size, distance_m, elevation_deg, azimuth_deg, fill)
    xy = cam.project(pts) + np.asarray(shift_px, dtype=float)
    mid_hip = (pts[:, LANDMARK_INDEX["left_hip"]] + pts[:, LANDMARK_INDEX["right_hip"]]) / 2
    rel = pts - mid_hip[:, None]
    world = np.stack([rel @ cam.right, rel @ cam.down, rel @ cam.forward], axis=-1)
    hip_depth = cam.depth(mid_hip)
    px_per_m = cam.focal_px / hip_depth  # (T,)
    width, height = image_size
    z = world[..., 2] * px_per_m[:, None] / width

    visibility = np.full((n, N_LANDMARKS), near_visibility)
    depth = cam.depth(pts)
    for li, ri in _PAIRS:
        gap = depth[:, li] - depth[:, ri]  # > 0: the left one is farther
        fade = (near_visibility - far_visibility) * np.clip(np.abs(gap) / 0.15, 0.0, 1.0)
        visibility[:, li] -= np.where(gap > 0, fade, 0.0)
        visibility[:, ri] -= np.where(gap < 0, fade, 0.0)

    if noise_px > 0:
        rng = np.random.default_rng(seed)
        xy = xy + rng.normal(0.0, noise_px, xy.shape)
        world = world + rng.normal(0.0, 1.0, world.shape) * (noise_px / px_per_m)[:, None, None]
        z = z + rng.normal(0.0, noise_px / width, z.shape)

    outside = (xy[..., 0] < 0) | (xy[..., 0] > width) | (xy[..., 1] < 0) | (xy[..., 1] > height)
    visibility = np.where(outside, np.minimum(visibility, 0.1), visibility)
    for start, stop, names in occlude:
        rows = (t >= start) & (t < stop)
        cols = [LANDMARK_INDEX[name] for name in names]
        visibility[np.ix_(rows, cols)] = 0.05
    for start, stop in _intervals(dropout):
        rows = (t >= start) & (t < stop)
        xy[rows] = np.nan
        world[rows] = np.nan
        z[rows] = np.nan
        visibility[rows] = 0.0
    return LandmarkSequence(xy=xy, z=z, visibility=visibility, world=world, t=t, image_size=tuple(image_size))


# --- drawing (for looking at what a test does) -------------------------------------------------------


def render(seq: LandmarkSequence, index: int, image: np.ndarray | None = None) -> np.ndarray:
    """Draw frame `index` of a sequence as a skeleton on a dark image (BGR): near side (more
    visible) in orange, far side in blue, the face in white; the floor line is not drawn."""
    import cv2

    width, height = seq.image_size
    canvas = np.full((height, width, 3), 30, np.uint8) if image is None else image
    xy, vis = seq.xy[index], seq.visibility[index]
    if np.isnan(xy).all():
        cv2.putText(canvas, "no person", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2)
        return canvas
    for a, b in SKELETON_EDGES:
        name = next(iter(k for k, v in LANDMARK_INDEX.items() if v == a))
        colour = (0, 140, 255) if name.startswith("left") else (255, 140, 0)
        thick = 3 if min(vis[a], vis[b]) > 0.9 else 1
        cv2.line(
            canvas, tuple(int(v) for v in xy[a]), tuple(int(v) for v in xy[b]), colour, thick, cv2.LINE_AA
        )
    neck = [
        (xy[LANDMARK_INDEX[f"left_{n}"]] + xy[LANDMARK_INDEX[f"right_{n}"]]) / 2 for n in ("shoulder", "ear")
    ]
    cv2.line(canvas, tuple(int(v) for v in neck[0]), tuple(int(v) for v in neck[1]), (160, 160, 160), 1)
    for i, (x, y) in enumerate(xy):
        cv2.circle(canvas, (int(x), int(y)), 3 if i > 10 else 2, (255, 255, 255), -1)
    cv2.putText(canvas, f"t={seq.t[index]:.2f}s", (10, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (200, 200, 200), 1)
    return canvas


def still(pose: Pose, seconds: float = 1.0) -> list[tuple[float, Pose]]:
    """Keyframes that hold one pose for `seconds`."""
    return [(0.0, pose), (seconds, pose)]
