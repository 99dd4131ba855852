"""The checking engine: runs any exercise spec over landmarks and counts, times and flags.

Per frame: smooth the landmarks (One Euro), compute the spec's metrics for both body sides
(vectorised), gate on visibility, pick the side, then step a small state machine:

    not_visible -> setup (getting into position) -> rest <-> attempt (moving / hold)

* setup: nothing counts until the body has been in the exercise's start posture (the spec's
  start conditions) for `start.hold_s` with the needed landmarks visible. Stillness is not
  required: people start straight away, do reps back to back, or are filmed from mid-movement.
  Once counting starts, the frames since the posture was first seen are replayed, so reps done
  meanwhile count. A rest level measured from the start (`from_start`) comes from a still
  moment in the posture (unless it is the held top of a rep) or else the median of the latest
  second in it, and it then follows the metric down quickly (only to a level held for half a
  second, never into a tracking glitch) and up slowly while at rest. A body that grows 1.5x in
  the picture while at rest (the model found the person after following something smaller)
  sends the checker back to setup; frames are replayed again if that happens in a replay.
* rest -> attempt when the rep metric crosses its `active` threshold; attempt -> rest when it
  is back in the rest zone for `min_rest_s`. The gap between the thresholds is the hysteresis.
  An attempt that spent less than `min_active_s` in the active zone is jitter, not a rep.
* a hold is time in the active zone with the rep metric still (speed below `still_speed`).
* form rules are conditions on metrics in a phase that must persist `persist_s` to be flagged.
* landmarks outside the picture, or of a needed body part seen on neither side, are never
  guessed: metrics that need them are NaN. A rep metric may name `fallback` points (the knee
  when the foot is cut off) so that counting goes on; a part only form rules use stops only
  those rules; the frame says what cannot be seen.
* the working side (exercises done one side at a time) follows the leg that is up through
  MediaPipe's brief left/right label swaps, also during a rep; a rep's side is the one measured
  longest in the active zone.
* landmarks out of sight for longer than `DROPOUT_S` abandon the current attempt (no rep,
  no verdict) and send the person back to setup; a shorter dropout changes nothing.
* a hold still under way when the recording ends, or already under way when it began, is
  reported as a rep marked `cut_off`, with the hold seen (a plank held to the end of the
  clip) and never as a hold too short.

`Checker.process` is stateful, so a whole file at once and a live camera frame by frame give
the same result.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from posecheck.landmarks import LandmarkSequence
from posecheck.metrics import (
    METRIC_FUNCTIONS,
    SIDES,
    BodyScale,
    BodyUp,
    body_part,
    describe_parts,
    gather_point,
    point_indices,
)
from posecheck.smoothing import OneEuroFilter
from posecheck.spec import Condition, ExerciseSpec, MetricSpec, RuleSpec

DROPOUT_S = 1.0  # landmarks may vanish this long without ending an attempt or the set
POSTURE_DECAY = 0.25  # time out of the start posture takes back this share of the time in it
MAX_REPLAY_S = 120.0  # frames kept while getting into position, to count them once counting starts
STILL_START_S = 0.5  # a still moment this long in the start posture gives the rest level
STILL_START_WAIT_S = 2.0  # how long to wait for one before taking the median of the posture
SIDE_SCORE_TIME_S = 1.0  # time constant of the facing-camera side score (no flipping at rest)
SPEED_WINDOW_S = 0.3  # window over which the rep metric's speed is measured
HOLD_ENTER_S = 0.2  # still this long in the active zone to start a hold
HOLD_EXIT_S = 0.3  # moving this long to end a hold
SIDE_SWITCH_MARGIN = 0.25  # hysteresis of the automatic side choice
IN_FRAME_MARGIN = 0.02  # fraction of the frame a landmark may lie outside it
BASELINE_FOLLOW_S = 3.0  # time constant with which a start-relative rest level follows drift up
BASELINE_DROP_S = 0.3  # ... and down, to the level held over the last BASELINE_DROP_WINDOW_S
BASELINE_DROP_WINDOW_S = 0.5  # a dip shorter than this (a tracking glitch) does not move the rest level
HOLD_SUPERSEDE_FRACTION = 0.25  # a hold this much (of the way up) above the last one replaces it

MESSAGE_NOT_VISIBLE = "Can't see you: move so your whole body is in the picture"
REP_FALLBACK_KEY = "_rep_metric_counted"  # the rep metric, with its fallback points where needed
BODY_SCALE_KEY = "_body_scale"  # the torso length in the picture (pixels), the same for both sides
SCALE_JUMP = 1.5  # the body grew this much in the picture while at rest: get into position anew


@dataclass
class FaultEvent:
    rule: str
    message: str
    severity: str
    start_t: float
    end_t: float
    rep: int | None = None


@dataclass
class Rep:
    index: int
    side: str
    start_t: float
    end_t: float
    hold_s: float = 0.0
    hold_start_t: float | None = None
    hold_end_t: float | None = None
    peak: float = float("nan")  # best rep-metric value reached (in the spec's units)
    faults: list[FaultEvent] = field(default_factory=list)
    cut_off: bool = False  # under way when the recording began or ended (hold_s is the time seen)

    @property
    def good(self) -> bool:
        return not any(f.severity == "fault" for f in self.faults)


@dataclass(frozen=True)
class FrameState:
    """What the overlay shows for one frame."""

    t: float
    phase: str  # not_visible | setup | rest | moving | hold
    side: str
    reps: int
    good_reps: int
    reps_by_side: tuple[int, int]
    hold_s: float
    gauge_value: float
    messages: tuple[tuple[str, str], ...]  # (severity, message), most important first
    setup_progress: float = 0.0  # share of the start hold done while getting into position
    rep_value: float = float("nan")  # the rep metric (for plots)
    judged: bool = False  # a form rule was checked on visible landmarks in this frame
    unseen: tuple[str, ...] = ()  # body parts the exercise needs that are outside the picture


@dataclass
class CheckResult:
    reps: list[Rep]
    faults_outside_reps: list[FaultEvent]
    not_visible: list[tuple[float, float]]  # intervals in seconds
    frames: int
    frames_not_visible: int
    abandoned_attempts: int
    counting_started_t: float | None

    @property
    def good_reps(self) -> int:
        return sum(rep.good for rep in self.reps)

    def reps_on(self, side: str) -> int:
        return sum(rep.side == side for rep in self.reps)


@dataclass
class _Attempt:
    side: str
    start_t: float
    active_s: float = 0.0
    in_active: bool = False  # in the active zone at the last visible frame
    hold_s: float = 0.0
    hold_start_t: float | None = None
    hold_end_t: float | None = None
    holding: bool = False
    still_for: float = 0.0
    moving_for: float = 0.0
    below_rest_for: float = 0.0
    end_t: float | None = None
    peak: float = -np.inf
    extremes: dict[str, list[float]] = field(default_factory=dict)  # metric -> [min, max]
    hold_start_values: dict[str, float] = field(default_factory=dict)
    hold_level: float = 0.0  # rep metric when the current hold began
    deepest_values: dict[str, float] = field(default_factory=dict)  # metrics where the rep went furthest
    deepest_t: float = 0.0
    faults: list[FaultEvent] = field(default_factory=list)
    under_way_at_start: bool = False  # already under way at the recording's first frame
    # time in the active zone with each side being measured (labels may swap for a moment)
    time_by_side: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIDES, 0.0))


class Checker:
    """Runs one exercise spec over landmark sequences, frame by frame, keeping state."""

    def __init__(
        self,
        spec: ExerciseSpec,
        side: str = "auto",
        smoothing: bool = True,
        start_hold_s: float | None = None,
    ) -> None:
        """`start_hold_s` overrides how long the start position must be held (a live countdown)."""
        if side not in ("auto", "left", "right"):
            raise ValueError(f"side must be auto, left or right, not {side!r}")
        self.spec = spec
        self.start_hold_s = spec.start.hold_s if start_hold_s is None else start_hold_s
        self.fixed_side = None if side == "auto" else side
        self.smoothing = smoothing
        self._image_filter = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0)
        self._world_filter = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0)
        self._scales = {"image": BodyScale(), "world": BodyScale(), "world_level": BodyScale()}
        self._body_up = BodyUp()
        # each needed body part counts as seen when either side's landmark is (one side may be hidden).
        # Counting needs the parts of the rep metric and the start posture (not those the rep metric
        # can do without: it has fallback points); a part only form rules use stops only those rules.
        rep_metric = spec.metrics[spec.reps.metric]
        optional = {body_part(p) for p in rep_metric.points} - {body_part(p) for p in rep_metric.fallback}
        if not rep_metric.fallback:
            optional = set()
        counting_metrics = [rep_metric] + [spec.metrics[c.metric] for c in spec.start.require]
        counting = {body_part(p) for m in counting_metrics for p in m.points} - optional
        self._needed_parts = {body_part(p): p for p in spec.visible}
        self._part_landmarks = {
            part: sorted(set(point_indices(p, "left")) | set(point_indices(p, "right")))
            for part, p in self._needed_parts.items()
        }
        self._visible_parts = [idx for part, idx in self._part_landmarks.items() if part in counting]
        self._side_core = {
            s: [point_indices(p, s)[0] for p in ("shoulder", "hip", "knee", "ankle")] for s in SIDES
        }
        rep = spec.reps
        self._rest = rep.toward_active(rep.rest)
        self._active = rep.toward_active(rep.active)
        self._still_speed = rep.still_speed if rep.still_speed is not None else 0.5 * rep.band
        # state
        self.phase = "setup"
        self.side = self.fixed_side or "left"
        self._side_score = 0.0
        self._invisible_for = 0.0
        self._start_ok_for = 0.0
        # since the start posture was first seen: each frame's _step arguments, and the rep
        # metric on the frames in the posture (for the rest level)
        self._setup_frames: deque[tuple] = deque()
        self._start_window: list[tuple[float, float]] = []  # (dt, rep metric) in the posture
        self._replaying = False
        self._first_t: float | None = None  # the recording's first frame
        self._rest_seen = False  # at rest since counting started (or counting from the first frame)
        self._rest_observed = False  # at rest since counting started
        self._baseline_settled = False  # the rest level came from a still moment in the posture
        self._still_s = 0.0  # still in the start posture for this long, with these rep metric values
        self._still_values: list[float] = []
        self._baseline = 0.0  # the rep metric at rest, when the spec measures from the start
        self._judged = False
        self._unseen: tuple[str, ...] = ()
        self._last_t: float | None = None
        self._last_rest_t = 0.0
        self._rest_values: dict[str, float] = {}
        self._speed_history: deque[tuple[float, float]] = deque()
        self._rest_history: deque[tuple[float, float]] = deque()  # (t, rep metric) at rest, latest
        self._replay_start_t = -np.inf  # first frame of the replay under way
        self._counting_scale: float | None = None  # body scale at the first rest frame
        self._replay_again: list[tuple] | None = None  # set-up frames to replay once more
        self._attempt: _Attempt | None = None
        self._rule_since: dict[str, float | None] = {r.id: None for r in spec.rules}
        self._open_faults: dict[str, FaultEvent] = {}
        self._recent_messages: list[tuple[float, str, str]] = []  # (until_t, severity, message)
        self._not_visible_start: float | None = None
        self.result = CheckResult([], [], [], 0, 0, 0, None)

    # --- per-chunk vectorised work --------------------------------------------------------

    def _smooth(self, seq: LandmarkSequence) -> tuple[np.ndarray, np.ndarray]:
        if not self.smoothing:
            return seq.xy, seq.world
        norm = float(max(seq.image_size))
        xy = self._image_filter.run(seq.xy / norm, seq.t) * norm
        world = self._world_filter.run(seq.world, seq.t)
        return xy, world

    def metric_values(self, xy: np.ndarray, world: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """(T, 2) values of every metric, column 0 for the left side, 1 for the right.

        Also `REP_FALLBACK_KEY`: the rep metric with its fallback points filling the frames where
        its own points are NaN (outside the picture)."""
        coords = {"image": xy, "world": world}
        if any(m.space == "world_level" for m in self.spec.metrics.values()):
            coords["world_level"] = self._body_up.level(world, t)
        scale = {space: self._scales[space].update(coords[space]) for space in coords}

        def evaluate(metric: MetricSpec, points: tuple[str, ...]) -> np.ndarray:
            fn = METRIC_FUNCTIONS[metric.function].function
            columns = []
            for s in SIDES:
                gathered = [gather_point(coords[metric.space], p, s) for p in points]
                with np.errstate(invalid="ignore", divide="ignore"):
                    columns.append(fn(*gathered, scale[metric.space]))
            both = np.stack(columns, axis=1)
            if metric.both_sides:  # one value for both sides: a left/right mix-up changes nothing
                pick = np.fmin if metric.both_sides == "min" else np.fmax
                both[:] = pick(both[:, 0], both[:, 1])[:, None]
            return both

        values = {name: evaluate(metric, metric.points) for name, metric in self.spec.metrics.items()}
        rep_metric = self.spec.metrics[self.spec.reps.metric]
        counted = values[self.spec.reps.metric]
        if rep_metric.fallback:
            counted = np.where(np.isnan(counted), evaluate(rep_metric, rep_metric.fallback), counted)
        values[REP_FALLBACK_KEY] = counted
        values[BODY_SCALE_KEY] = np.stack([scale["image"], scale["image"]], axis=1)
        return values

    def _visibility(self, seq: LandmarkSequence, xy: np.ndarray) -> np.ndarray:
        """(T,) visibility of the least visible body part that counting needs (0 if out of frame).

        A part is as visible as the better of its two sides, so a side view, where the far
        side is hidden behind the body, still counts as seeing the person. `xy` is NaN outside
        the picture.
        """
        vis = np.where(np.isfinite(xy[..., 0]), seq.visibility, 0.0)
        if not self._visible_parts:
            return np.ones(len(seq))
        return np.stack([vis[:, part].max(axis=1) for part in self._visible_parts], axis=1).min(axis=1)

    def _facing_score(self, seq: LandmarkSequence) -> np.ndarray:
        """(T,) > 0 when the left side faces the camera (more visible and nearer)."""
        left, right = self._side_core["left"], self._side_core["right"]
        vis = seq.visibility[:, left].mean(axis=1) - seq.visibility[:, right].mean(axis=1)
        near = seq.z[:, right].mean(axis=1) - seq.z[:, left].mean(axis=1)
        return np.nan_to_num(vis + near)

    def _outside_picture(self, seq: LandmarkSequence) -> np.ndarray:
        """(T, 33) True where a landmark lies outside the picture (MediaPipe only guesses it)."""
        width, height = seq.image_size
        x, y = seq.xy[..., 0], seq.xy[..., 1]
        with np.errstate(invalid="ignore"):
            return (
                (x < -IN_FRAME_MARGIN * width)
                | (x > (1 + IN_FRAME_MARGIN) * width)
                | (y < -IN_FRAME_MARGIN * height)
                | (y > (1 + IN_FRAME_MARGIN) * height)
            )

    def _hidden_parts(self, seq: LandmarkSequence) -> np.ndarray:
        """(T, 33) True for the landmarks of a needed body part seen on neither side (a hand
        behind a barbell, a foot behind the other leg's knee): MediaPipe only guesses them."""
        hidden = np.zeros(seq.visibility.shape, dtype=bool)
        for indices in self._part_landmarks.values():
            gone = seq.visibility[:, indices].max(axis=1) < self.spec.min_visibility
            hidden[:, indices] |= gone[:, None]
        return hidden

    def _unseen_parts(self, unseen: np.ndarray) -> list[tuple[str, ...]]:
        """Per frame: the needed body parts with no landmark of either side seen."""
        names = list(self._needed_parts)
        gone = np.stack([unseen[:, self._part_landmarks[n]].all(axis=1) for n in names], axis=1)
        return [tuple(n for n, g in zip(names, row, strict=True) if g) for row in gone.tolist()]

    def process(self, seq: LandmarkSequence) -> list[FrameState]:
        """Advance over a chunk of frames (a whole clip or one live frame)."""
        if len(seq) == 0:
            return []
        xy, world = self._smooth(seq)
        unseen_landmarks = self._outside_picture(seq) | self._hidden_parts(seq)
        xy = np.where(unseen_landmarks[..., None], np.nan, xy)
        world = np.where(unseen_landmarks[..., None], np.nan, world)
        values = self.metric_values(xy, world, seq.t)
        visibility = self._visibility(seq, xy)
        facing = self._facing_score(seq)
        unseen = self._unseen_parts(unseen_landmarks)
        rows = {name: v.tolist() for name, v in values.items()}
        vis_rows = visibility.tolist()
        return [
            self._step(
                float(seq.t[i]), {k: r[i] for k, r in rows.items()}, vis_rows[i], float(facing[i]), unseen[i]
            )
            for i in range(len(seq))
        ]

    # --- the state machine ---------------------------------------------------------------

    def _choose_side(self, values: dict[str, list[float]], facing: float, dt: float) -> None:
        if self.fixed_side is not None and self.spec.sides == "facing_camera":
            self.side = self.fixed_side
            return
        if self.spec.sides == "working_side":
            # the side that is further into the movement (the lifted leg, the more bent hip)
            rep_values = [self.spec.reps.toward_active(x) for x in values[REP_FALLBACK_KEY]]
            rep_values = [v if v == v else -np.inf for v in rep_values]
            here, other = SIDES.index(self.side), 1 - SIDES.index(self.side)
            # switch when the other side is clearly further in (at rest both are near 0)
            clearly = rep_values[other] > rep_values[here] + 0.5 * self.spec.reps.band
            if clearly or rep_values[here] == -np.inf:
                self.side = SIDES[other] if rep_values[other] > -np.inf else self.side
            return
        # facing the camera: a slow average with hysteresis, so MediaPipe's brief left/right
        # swaps at rest do not flip the side being judged
        weight = min(dt / SIDE_SCORE_TIME_S, 1.0) if self._last_t is not None else 1.0
        self._side_score += weight * (facing - self._side_score)
        if self._side_score > SIDE_SWITCH_MARGIN:
            self.side = "left"
        elif self._side_score < -SIDE_SWITCH_MARGIN:
            self.side = "right"

    def _step(
        self,
        t: float,
        values: dict[str, list[float]],
        visibility: float,
        facing: float,
        unseen: tuple[str, ...] = (),
    ) -> FrameState:
        if self._first_t is None:
            self._first_t = t
        if self.phase in ("setup", "not_visible"):
            self._setup_frames.append((t, values, visibility, facing, unseen))
            while t - self._setup_frames[0][0] > MAX_REPLAY_S:
                self._setup_frames.popleft()
        dt = 0.0 if self._last_t is None else min(t - self._last_t, 0.5)
        if self._attempt is None or self.spec.sides == "working_side":
            # during a rep the working side follows the leg that is up: MediaPipe may swap the
            # labels of the two legs mid-rep (a three-quarter view); the rep keeps its side
            self._choose_side(values, facing, dt)
        self._last_t = t
        self.result.frames += 1
        self._judged = False
        self._unseen = unseen
        side_i = SIDES.index(self.side)
        here = {name: v[side_i] for name, v in values.items()}
        raw = self.spec.reps.toward_active(here[REP_FALLBACK_KEY])
        v = raw - self._baseline
        visible = visibility >= self.spec.min_visibility and v == v

        if not visible:
            self._invisible_for += dt
            if self._attempt is not None and self._attempt.in_active:
                self._attempt.active_s += dt  # a short dropout at the top does not shorten the rep
            self.result.frames_not_visible += 1
            if self._not_visible_start is None:
                self._not_visible_start = t
            if self._invisible_for >= DROPOUT_S and self.phase != "not_visible":
                if self._attempt is not None:
                    self.result.abandoned_attempts += 1
                    self._attempt = None
                self._close_faults(t, drop=True)
                self.phase = "not_visible"
                self._reset_start()
            return self._frame_state(t, here)
        if self._not_visible_start is not None:
            self.result.not_visible.append((self._not_visible_start, t))
            self._not_visible_start = None
        self._invisible_for = 0.0
        if self.phase == "not_visible":
            self.phase = "setup"
        if self._body_grew(here[BODY_SCALE_KEY]):
            self._start_over()

        self._track_speed(t, raw)
        if self.phase == "setup":
            if self._step_setup(t, dt, raw, here):
                self._start_counting(t)  # replays this frame too
            return self._frame_state(t, here)
        elif self.phase == "rest":
            self._step_rest(t, dt, raw, here)
        else:
            self._step_attempt(t, dt, v, here)
        self._apply_rules(t, dt, here)
        return self._frame_state(t, here)

    def _track_speed(self, t: float, v: float) -> None:
        self._speed_history.append((t, v))
        while len(self._speed_history) > 2 and t - self._speed_history[0][0] > SPEED_WINDOW_S:
            self._speed_history.popleft()

    def _speed(self) -> float:
        (t0, v0), (t1, v1) = self._speed_history[0], self._speed_history[-1]
        return abs(v1 - v0) / (t1 - t0) if t1 > t0 else 0.0

    def _body_grew(self, scale: float) -> bool:
        """Whether, at rest, the body has grown in the picture since counting started: MediaPipe
        first followed a wrong, smaller body (a barbell's plates, a reflection) and has now found
        the person, or the person came much closer. Levels measured before no longer apply.
        A rep under way is left alone (turning side-on unfolds a foreshortened torso)."""
        if self.phase != "rest" or scale != scale:
            return False
        if self._counting_scale is None:
            self._counting_scale = scale
        return scale > SCALE_JUMP * self._counting_scale

    def _start_over(self) -> None:
        """Back to getting into position; the frames from here are counted (replayed) once the
        start posture is held again."""
        self.phase = "setup"
        self._counting_scale = None
        self._reset_start()

    def _reset_start(self) -> None:
        self._start_ok_for = self._still_s = 0.0
        self._still_values = []
        self._setup_frames.clear()
        self._start_window.clear()

    def _step_setup(self, t: float, dt: float, raw: float, here: dict[str, float]) -> bool:
        """Getting into position; True when counting can start.

        Counting starts once the body has been in the start posture for start.hold_s, still or
        not; time out of the posture takes back a share of it, so back-to-back reps (which leave
        the posture at every rep) open the gate too, while walking in or getting down onto the
        mat does not. A rest level measured from the start is the metric in a still moment in
        the posture if one comes within STILL_START_WAIT_S, else (reps back to back) the median
        of the latest start.hold_s in the posture; at rest it then follows the metric down
        quickly, so a start taken mid-movement or at the top of a rep is soon corrected.
        """
        if not all(_check(c, here, {}) for c in self.spec.start.require):
            self._start_ok_for = max(self._start_ok_for - POSTURE_DECAY * dt, 0.0)
            if self._start_ok_for == 0.0:
                self._reset_start()
            return False
        self._start_ok_for += dt
        self._start_window.append((dt, raw))
        if self._speed() <= self._still_speed:
            self._still_s += dt
            self._still_values.append(raw)
        else:
            self._still_s, self._still_values = 0.0, []
        if self._start_ok_for < self.start_hold_s:
            return False
        if not self.spec.reps.from_start:
            return True
        if self._still_s >= STILL_START_S:
            still_level = float(np.median(self._still_values))
            lowest = float(np.percentile([value for _, value in self._start_window], 10))
            # a still moment well above where the posture has been is the held top of a rep
            self._baseline_settled = still_level - lowest < self._active
            self._baseline = still_level if self._baseline_settled else lowest
            return True
        if self._start_ok_for < self.start_hold_s + STILL_START_WAIT_S:
            return False
        self._baseline_settled = False
        latest, spent = [], 0.0
        for frame_dt, value in reversed(self._start_window):
            latest.append(value)
            spent += frame_dt
            if spent >= self.start_hold_s:
                break
        self._baseline = float(np.median(latest))
        return True

    def _start_counting(self, t: float) -> None:
        """Count from where the posture was first seen: replay the frames since then (again, if
        the set-up started over during a replay)."""
        frames = list(self._setup_frames)
        self._reset_start()
        self.phase = "rest"
        self._rest_history.clear()
        if self.result.counting_started_t is None:
            self.result.counting_started_t = frames[0][0] if frames else t
        # a movement under way when the recording began is a rep; one under way when the person
        # came into the posture is getting into position (sitting down onto the chair)
        self._rest_seen = bool(frames) and frames[0][0] == self._first_t
        self._rest_observed = False
        if self._replaying:
            if frames and frames[0][0] > self._replay_start_t:  # never the same frames twice over
                self._replay_again = frames
            return
        if not frames:
            return
        kept = (self.result.frames, self.result.frames_not_visible, list(self.result.not_visible))
        kept_nv = self._not_visible_start
        pending = deque(frames)
        self._replaying = True
        try:
            while pending:
                if self._replay_again is not None:
                    pending.extendleft(reversed(self._replay_again))
                    self._replay_again = None
                self._replay_start_t = pending[0][0]
                self._last_t, self._last_rest_t = None, pending[0][0]
                self._speed_history.clear()
                while pending and self._replay_again is None:
                    self._step(*pending.popleft())
        finally:
            self._replaying = False
            self._replay_again = None
        self.result.frames, self.result.frames_not_visible, self.result.not_visible = kept
        self._not_visible_start = kept_nv

    def _step_rest(self, t: float, dt: float, raw: float, here: dict[str, float]) -> None:
        v = raw - self._baseline
        # a rest level taken from a still moment is not moved by the frames before it (settling)
        follow = self.spec.reps.from_start and not (self._replaying and self._baseline_settled)
        self._rest_history.append((t, raw))
        while t - self._rest_history[0][0] > BASELINE_DROP_WINDOW_S:
            self._rest_history.popleft()
        if follow and v <= self._rest:
            # Follow the resting level: quickly below it (the start posture was not the lowest
            # point, e.g. someone who started half-way into the movement) but only as far as it
            # has stayed for BASELINE_DROP_WINDOW_S (not into a glitch), slowly above it
            # (settling on the mat), never into a rep.
            if v < 0:
                held = max(value for _, value in self._rest_history) - self._baseline
                self._baseline += min(dt / BASELINE_DROP_S, 1.0) * min(held, 0.0)
            else:
                self._baseline += min(dt / BASELINE_FOLLOW_S, 1.0) * v
            v = raw - self._baseline
        if v <= self._rest:
            self._last_rest_t = t
            self._rest_values = dict(here)
            self._rest_seen = self._rest_observed = True
        if v >= self._active and self._rest_seen:
            self._attempt = _Attempt(
                side=self.side, start_t=self._last_rest_t, under_way_at_start=not self._rest_observed
            )
            self.phase = "moving"

    def _step_attempt(self, t: float, dt: float, v: float, here: dict[str, float]) -> None:
        a = self._attempt
        assert a is not None
        if v > a.peak:
            a.peak, a.deepest_values, a.deepest_t = v, dict(here), t
        for name, value in here.items():
            if value == value:
                lo_hi = a.extremes.setdefault(name, [value, value])
                lo_hi[0], lo_hi[1] = min(lo_hi[0], value), max(lo_hi[1], value)
        a.in_active = v >= self._active
        if a.in_active:
            a.active_s += dt
            a.time_by_side[self.side] += dt
        still = self._speed() <= self._still_speed and v >= self._active
        a.still_for = a.still_for + dt if still else 0.0
        a.moving_for = 0.0 if still else a.moving_for + dt
        if not a.holding and a.still_for >= HOLD_ENTER_S and self.spec.reps.timed_hold:
            a.holding = True
            if a.hold_start_t is None or self._higher_than_last_hold(a, v):
                # the first hold, or the earlier pause was only part of the way up: start afresh
                self._forget_hold(a)
                a.hold_start_t = t - a.still_for
                a.hold_start_values = dict(here)
                a.hold_level = v
            a.hold_s += a.still_for - dt
        elif a.holding and (a.moving_for >= HOLD_EXIT_S or v < self._active):
            a.holding = False
            a.hold_end_t = t - a.moving_for
            a.hold_s -= max(a.moving_for - dt, 0.0)  # the moving time was not holding
        if a.holding:
            a.hold_s += dt
            a.hold_end_t = t
        self.phase = "hold" if a.holding else "moving"

        if v <= self._rest:
            if a.below_rest_for == 0.0:
                a.end_t = t
            a.below_rest_for += dt
            if a.below_rest_for >= self.spec.reps.min_rest_s:
                self._finish_attempt(t)
        else:
            a.below_rest_for = 0.0
            a.end_t = None

    def _higher_than_last_hold(self, a: _Attempt, v: float) -> bool:
        """Whether a new hold is clearly further into the rep than the previous one."""
        margin = max(self.spec.reps.band, HOLD_SUPERSEDE_FRACTION * (a.hold_level - self._rest))
        return v > a.hold_level + margin

    def _forget_hold(self, a: _Attempt) -> None:
        """Drop an earlier hold's time and the hold-phase faults it raised."""
        if a.hold_start_t is None:
            return
        hold_rules = {rule.id for rule in self.spec.rules if rule.during == "hold"}
        a.faults = [f for f in a.faults if not (f.rule in hold_rules and f.start_t >= a.hold_start_t)]
        for rule_id in hold_rules & set(self._open_faults):
            del self._open_faults[rule_id]
        a.hold_s = 0.0
        a.hold_end_t = None

    def _finish_attempt(self, t: float) -> None:
        a = self._attempt
        assert a is not None
        self._close_faults(t)
        self._attempt = None
        self.phase = "rest"
        self._rest_history.clear()
        self._last_rest_t = t
        if a.active_s < self.spec.reps.min_active_s:
            return  # a twitch, not an attempt
        rep = self._make_rep(a, t)
        dose = self.spec.dose
        timed = self.spec.reps.timed_hold and dose.hold_s and not rep.cut_off  # the recording cut it short
        if timed and rep.hold_s < dose.hold_s[0] - dose.hold_tolerance_s:
            message = f"Hold the position for {dose.hold_s[0]:g} s: that hold was {rep.hold_s:.1f} s"
            rep.faults.append(FaultEvent("hold_short", message, "fault", rep.start_t, rep.end_t))
            self._recent_messages.append((t + 2.0, "fault", message))
        self._record_rep(rep)

    def _make_rep(self, a: _Attempt, t: float) -> Rep:
        # the side that was up longest: MediaPipe may swap the legs' labels for a moment
        side = max(SIDES, key=lambda s: a.time_by_side[s]) if any(a.time_by_side.values()) else a.side
        rep = Rep(
            index=len(self.result.reps),
            side=side,
            start_t=a.start_t,
            end_t=a.end_t if a.end_t is not None else t,
            hold_s=round(a.hold_s, 3),
            hold_start_t=a.hold_start_t,
            hold_end_t=a.hold_end_t,
            peak=self.spec.reps.toward_active(a.peak),
            faults=a.faults,
            cut_off=a.under_way_at_start,
        )
        self._judge_deepest_point(a, rep, t)
        return rep

    def _record_rep(self, rep: Rep) -> None:
        for fault in rep.faults:
            fault.rep = rep.index
        self.result.reps.append(rep)

    # --- form rules ----------------------------------------------------------------------

    def _judge_deepest_point(self, a: _Attempt, rep: Rep, t: float) -> None:
        """Rules `during = "deepest"`: judged once per rep, where the rep metric went furthest."""
        references = {"start": self._rest_values}
        for rule in self.spec.rules:
            if rule.during != "deepest":
                continue
            if all(_check(c, a.deepest_values, references) for c in rule.conditions):
                rep.faults.append(FaultEvent(rule.id, rule.message, rule.severity, a.deepest_t, a.deepest_t))
                self._recent_messages.append((t + 2.0, rule.severity, rule.message))

    def _rule_applies(self, rule: RuleSpec) -> bool:
        phase = self.phase
        if rule.during == "counting":
            return phase in ("rest", "moving", "hold")
        if rule.during == "attempt":
            return phase in ("moving", "hold")
        if rule.during == "hold":
            return phase == "hold" and self._attempt is not None and self._attempt.still_for > 0.0
        return phase == rule.during

    def _apply_rules(self, t: float, dt: float, here: dict[str, float]) -> None:
        attempt = self._attempt
        references = {"start": self._rest_values}
        if attempt is not None:
            references["hold_start"] = attempt.hold_start_values
            references["peak"] = {k: hi for k, (lo, hi) in attempt.extremes.items()}
            references["trough"] = {k: lo for k, (lo, hi) in attempt.extremes.items()}
        for rule in self.spec.rules:
            applies = self._rule_applies(rule)
            if applies and all(here[c.metric] == here[c.metric] for c in rule.conditions):
                self._judged = True
            firing = applies and all(_check(c, here, references) for c in rule.conditions)
            since = self._rule_since[rule.id]
            if not firing:
                self._rule_since[rule.id] = None
                if rule.id in self._open_faults:
                    self._open_faults.pop(rule.id).end_t = t
                continue
            if since is None:
                self._rule_since[rule.id] = since = t
            if rule.id not in self._open_faults and t - since >= rule.persist_s:
                event = FaultEvent(rule.id, rule.message, rule.severity, since, t)
                self._open_faults[rule.id] = event
                if attempt is not None and not any(f.rule == rule.id for f in attempt.faults):
                    attempt.faults.append(event)
                elif attempt is None:
                    self.result.faults_outside_reps.append(event)
            if rule.id in self._open_faults:
                self._open_faults[rule.id].end_t = t

    def _close_faults(self, t: float, drop: bool = False) -> None:
        for event in self._open_faults.values():
            event.end_t = t
            if not drop:
                self._recent_messages.append((t + 1.5, event.severity, event.message))
        self._open_faults.clear()
        self._rule_since = dict.fromkeys(self._rule_since)

    # --- output --------------------------------------------------------------------------

    def _frame_state(self, t: float, here: dict[str, float]) -> FrameState:
        messages = [(e.severity, e.message) for e in self._open_faults.values()]
        self._recent_messages = [m for m in self._recent_messages if m[0] > t]
        messages += [(sev, msg) for _, sev, msg in self._recent_messages if (sev, msg) not in messages]
        unseen = describe_parts(self._unseen)
        if self.phase == "not_visible":
            text = f"Can't see your {unseen}: move so they are in the picture"
            messages.insert(0, ("info", text if unseen else MESSAGE_NOT_VISIBLE))
        elif self.phase == "setup":
            messages.append(("info", self.spec.start.message))
        elif unseen and self.phase in ("moving", "hold"):
            checked = "the checks that need them are off" if self._judged else "form is not being checked"
            messages.append(("info", f"Can't see your {unseen}: {checked}"))
        messages.sort(key=lambda m: {"fault": 0, "warning": 1}.get(m[0], 2))
        gauge = self.spec.gauge
        reps = self.result.reps
        return FrameState(
            t=t,
            phase=self.phase,
            side=self.side,
            reps=len(reps),
            good_reps=sum(r.good for r in reps),
            reps_by_side=(self.result.reps_on("left"), self.result.reps_on("right")),
            hold_s=self._attempt.hold_s if self._attempt is not None else 0.0,
            gauge_value=here[gauge.metric] if gauge is not None else float("nan"),
            messages=tuple(messages),
            rep_value=here[REP_FALLBACK_KEY],
            setup_progress=min(self._start_ok_for / self.start_hold_s, 1.0) if self.start_hold_s > 0 else 1.0,
            judged=self._judged,
            unseen=self._unseen,
        )

    def finish(self) -> CheckResult:
        """Close the run. An attempt back at rest is a rep even if the recording ended before the
        rest was confirmed; a hold still under way is reported as a rep cut off by the end of the
        recording (with its hold so far); any other unfinished attempt is dropped."""
        t = self._last_t or 0.0
        a = self._attempt
        if a is not None and a.end_t is not None:
            self._finish_attempt(t)  # back at rest when the recording ended: a whole rep
        elif a is not None and a.hold_s > 0 and a.active_s >= self.spec.reps.min_active_s:
            self._close_faults(t)
            self._attempt = None
            rep = self._make_rep(a, t)
            rep.cut_off = True
            self._record_rep(rep)
        elif a is not None:
            self.result.abandoned_attempts += 1
            self._attempt = None
        self._close_faults(t, drop=True)
        if self._not_visible_start is not None:
            self.result.not_visible.append((self._not_visible_start, t))
            self._not_visible_start = None
        return self.result


def _check(condition: Condition, here: dict[str, float], references: dict[str, dict[str, float]]) -> bool:
    """Whether a condition holds now; relative conditions compare with a reference value."""
    value = here[condition.metric]
    if condition.relative_to != "value":
        value -= references.get(condition.relative_to, {}).get(condition.metric, float("nan"))
    return condition.holds(value)

