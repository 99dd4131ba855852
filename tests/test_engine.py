"""The checking engine on the real segmental bridge spec, with synthetic stick-figure clips.

Each test films a bridge session with `stickfigure` and asserts exact rep counts and fault ids.
Timings come from `reps()`: a 3 s lead-in (fidgeting, then still), then per rep 1.5 s up,
the hold, 1.5 s down and the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from stickfigure import (
    Body,
    Pose,
    Timeline,
    figure_points,
    rep_windows,
    reps,
    sequence,
    still,
    supine_knees_bent,
)

from posecheck.engine import DROPOUT_S, CheckResult
from posecheck.landmarks import LandmarkSequence

START = supine_knees_bent()  # lying on the back, knees bent ~90 degrees, feet planted
TOP_LIFT_M = 0.19  # pelvis raised this far: shoulder-hip-knee in one line (about 177 degrees)
SHORT_LIFT_M = 0.08  # well short of the line (about 156 degrees, the spec flags < 162)
SAG_LIFT_M = 0.12  # 7 cm below the top: > 0.12 torso lengths of sag but still about 166 degrees
HOLD_S = 6.0
REST_S = 2.5
HOLD_TOLERANCE_S = 0.5  # the spec's dose.hold_tolerance_s: the slack the engine gives a hold
FPS = 30.0


def bridge(lift_m: float) -> Pose:
    """The bridge with the pelvis `lift_m` metres above lying; shoulders and feet stay put."""
    return START.raise_pelvis(lift_m)


TOP = bridge(TOP_LIFT_M)


def fault_ids(result: CheckResult) -> list[list[str]]:
    return [[f.rule for f in rep.faults] for rep in result.reps]


def clean_session(**sequence_kwargs: object) -> LandmarkSequence:
    return sequence(reps(START, TOP, n=3, hold_s=HOLD_S, rest_s=REST_S), **sequence_kwargs)


# --- the synthetic movement is what the tests say it is -------------------------------------------


def test_synthetic_bridge_has_the_intended_geometry(bridge_spec, metric_values) -> None:
    poses = {"start": START, "top": TOP, "short": bridge(SHORT_LIFT_M), "sag": bridge(SAG_LIFT_M)}
    m = {name: metric_values(bridge_spec, sequence(still(p)), "left") for name, p in poses.items()}
    first = {name: {k: float(v[0]) for k, v in values.items()} for name, values in m.items()}
    assert 55 < first["start"]["trunk_tilt"] < 125 and first["start"]["knee_angle"] < 150  # start posture
    assert first["top"]["hip_angle"] > 175  # hips in line with shoulders and knees
    assert first["short"]["hip_angle"] < 162 - 5  # clearly short of the line
    assert first["sag"]["hip_angle"] > 162 + 3  # a sag that does not also look "not high"
    assert first["sag"]["hip_lift"] - first["top"]["hip_lift"] < -0.12 - 0.02  # clearly a sag


# --- counting and timing -------------------------------------------------------------------------


def test_clean_reps_are_counted_good_with_their_holds(bridge_spec, run_checker) -> None:
    states, result = run_checker(bridge_spec, clean_session())

    assert len(result.reps) == 3
    assert result.good_reps == 3
    assert fault_ids(result) == [[], [], []]
    assert result.faults_outside_reps == []
    assert result.abandoned_attempts == 0
    assert result.not_visible == [] and result.frames_not_visible == 0
    for rep, (start_t, top_t, leave_t, down_t) in zip(
        result.reps, rep_windows(3, hold_s=HOLD_S, rest_s=REST_S), strict=True
    ):
        assert rep.hold_s == pytest.approx(HOLD_S, abs=HOLD_TOLERANCE_S)
        assert start_t - 0.1 <= rep.start_t < top_t and leave_t < rep.end_t <= down_t + 0.1
    assert states[-1].reps == 3 and states[-1].good_reps == 3 and states[-1].phase == "rest"


def test_hold_time_matches_the_hold_interval(bridge_spec, run_checker) -> None:
    _, result = run_checker(bridge_spec, clean_session())
    for rep in result.reps:
        assert rep.hold_s == pytest.approx(rep.hold_end_t - rep.hold_start_t, abs=1.5 / FPS)


def wobble(timeline: Timeline, low_m: float, high_m: float, cycles: int, half_period_s: float) -> Timeline:
    for _ in range(cycles):
        timeline.to(bridge(high_m), half_period_s).to(bridge(low_m), half_period_s)
    return timeline


def test_noise_and_hovering_around_the_thresholds_add_no_reps(
    bridge_spec, run_checker, metric_values
) -> None:
    # hip lift ~2.1 torso lengths per metre: active_above 0.065 ~ 3 cm, rest_below 0.04 ~ 2 cm
    around_active, around_rest = (0.033, 0.055), (0.012, 0.034)
    timeline = Timeline(START).fidget(1.5).hold(1.5)
    for _ in range(3):
        timeline.to(bridge(around_active[0]), 0.8)
        wobble(timeline, *around_active, cycles=3, half_period_s=0.4)  # up and down across active_above
        timeline.to(TOP, 1.0).hold(HOLD_S).to(bridge(around_rest[1]), 1.0)
        wobble(timeline, *around_rest, cycles=3, half_period_s=0.4)  # across rest_below
        timeline.to(START, 0.5).hold(REST_S)
    seq = sequence(timeline, noise_px=1.0, seed=3)

    lift = metric_values(bridge_spec, seq, "left")["hip_lift"]
    baseline = np.median(lift[:30])

    def upward_crossings(threshold: float) -> int:
        return int(np.sum(np.diff((lift - baseline > threshold).astype(int)) == 1))

    reps = bridge_spec.reps
    assert upward_crossings(reps.active) >= 3 * 4  # the signal really crosses active_above again and again
    assert upward_crossings(reps.rest) >= 3 * 4  # and rest_below

    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 3  # one rep per lift, however often the thresholds were crossed
    assert result.abandoned_attempts == 0
    assert result.faults_outside_reps == []
    starts = [rep.start_t for rep in result.reps]
    assert starts == sorted(starts) and all(b - a > HOLD_S for a, b in zip(starts, starts[1:], strict=False))
    assert [[f.rule for f in rep.faults] for rep in result.reps] == [[], [], []]


def pause_on_the_way_up() -> Timeline:
    """Lift to 5 cm (past active_above), pause 0.6 s, go on to the top, hold 6 s, go down.
    The top is reached at 5.6 s; the feet never move."""
    timeline = Timeline(START).hold(3.0).to(bridge(0.05), 1.0).hold(0.6).to(TOP, 1.0)
    return timeline.hold(HOLD_S).to(START, 1.5).hold(REST_S)


def test_pausing_part_way_up_is_not_knees_drift(bridge_spec, run_checker) -> None:
    timeline = pause_on_the_way_up()
    seq = sequence(timeline)
    ankles = figure_points(timeline.keyframes, seq.t)[:, [27, 28]]
    assert np.ptp(ankles, axis=0).max() < 1e-9  # the feet never move
    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 1
    assert fault_ids(result) == [[]]


def test_pausing_part_way_up_is_not_hold_time(bridge_spec, run_checker) -> None:
    _, result = run_checker(bridge_spec, sequence(pause_on_the_way_up()))
    assert len(result.reps) == 1
    assert result.reps[0].hold_start_t > 5.6 - 0.5  # s: the hold begins at the top
    assert result.reps[0].hold_s == pytest.approx(HOLD_S, abs=HOLD_TOLERANCE_S)


def test_brief_twitch_over_the_threshold_is_not_a_rep(bridge_spec, run_checker, metric_values) -> None:
    twitch = Timeline(START).hold(3.0).to(bridge(0.08), 0.3).to(START, 0.3).hold(2.0)  # 0.6 s bob
    twitch.rep(TOP, hold_s=HOLD_S, rest_s=REST_S)
    seq = sequence(twitch)
    lift = metric_values(bridge_spec, seq, "left")["hip_lift"]
    bob = lift[(seq.t > 3.0) & (seq.t < 3.6)] - lift[0]
    assert 0 < np.sum(bob > 0.09) / FPS < 0.8  # above active_above, but for less than min_active_s
    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 1
    assert result.good_reps == 1
    assert result.abandoned_attempts == 0


def test_fidgeting_while_getting_into_position_counts_nothing(bridge_spec, run_checker) -> None:
    lead_in = (
        Timeline(START.nudged(pelvis_x=0.05, foot_at=(0.12, 0.0)))  # feet too far, lying too low
        .to(START.nudged(pelvis_y=0.025, pelvis_x=0.02, foot_at=(0.08, 0.0)), 0.7)  # shuffle the hips
        .to(START.nudged(pelvis_x=0.02, foot_at=(0.08, 0.0)), 0.6)
        .to(START.nudged(foot_at=(0.03, 0.0)), 0.8)  # slide the feet in
        .hold(0.5)
        .to(START.nudged(pelvis_y=0.02, pelvis_x=-0.02), 0.6)  # and settle the hips again
        .to(START, 0.6)
        .fidget(2.0, amount=0.02)
        .hold(2.0)
    )
    end_of_lead_in = lead_in.t
    _, result = run_checker(bridge_spec, sequence(lead_in))
    assert result.reps == []
    assert result.abandoned_attempts == 0
    assert result.faults_outside_reps == []

    for _ in range(3):
        lead_in.rep(TOP, hold_s=HOLD_S, rest_s=REST_S)
    _, result = run_checker(bridge_spec, sequence(lead_in))
    assert len(result.reps) == 3 and result.good_reps == 3
    assert result.reps[0].start_t >= end_of_lead_in - 0.1


# --- faults ------------------------------------------------------------------------------------


def test_lift_short_of_the_line_is_a_rep_flagged_hips_not_high(bridge_spec, run_checker) -> None:
    seq = sequence(reps(START, [TOP, bridge(SHORT_LIFT_M), TOP], hold_s=HOLD_S, rest_s=REST_S))
    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 3
    assert result.good_reps == 2
    assert fault_ids(result) == [[], ["hips_not_high"], []]


def test_short_hold_is_counted_and_flagged_hold_short(bridge_spec, run_checker) -> None:
    seq = sequence(reps(START, TOP, n=3, hold_s=[HOLD_S, 2.0, HOLD_S], rest_s=REST_S))
    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 3
    assert result.good_reps == 2
    assert fault_ids(result) == [[], ["hold_short"], []]
    assert result.reps[1].hold_s == pytest.approx(2.0, abs=HOLD_TOLERANCE_S)


MIDDLE_T = 3.0 + 1.5 + HOLD_S + 1.5 + REST_S  # when the middle rep of three_reps_with_middle starts


def three_reps_with_middle(build_middle: Callable[[Timeline], object]) -> list[tuple[float, Pose]]:
    """A lead-in and a clean rep, the middle rep `build_middle` adds (from the start pose, at
    MIDDLE_T), then another clean rep."""
    timeline = Timeline(START).fidget(1.5).hold(1.5).rep(TOP, hold_s=HOLD_S, rest_s=REST_S)
    assert timeline.t == MIDDLE_T
    build_middle(timeline)
    return timeline.rep(TOP, hold_s=HOLD_S, rest_s=REST_S).keyframes


def sagging_rep(timeline: Timeline) -> Timeline:
    """Up, hold 3 s, sag 7 cm over 1.5 s, hold 3 s sagged, down."""
    return timeline.to(TOP, 1.5).hold(3.0).to(bridge(SAG_LIFT_M), 1.5).hold(3.0).to(START, 1.5).hold(REST_S)


def test_sagging_during_the_hold_is_flagged_hips_sag_only(bridge_spec, run_checker) -> None:
    _, result = run_checker(bridge_spec, sequence(three_reps_with_middle(sagging_rep)))
    assert len(result.reps) == 3
    assert fault_ids(result) == [[], ["hips_sag"], []]
    sag_fault = result.reps[1].faults[0]
    sag_from, sag_to = MIDDLE_T + 1.5 + 3.0, MIDDLE_T + 1.5 + 3.0 + 1.5
    assert sag_from < sag_fault.start_t <= sag_to + 0.5  # s: flagged once the hips have sagged
    assert sag_fault.end_t >= sag_to + 3.0 - 0.5  # and for as long as they stay down


def test_feet_sliding_away_during_the_hold_is_flagged_knees_drift(bridge_spec, run_checker) -> None:
    slid = TOP.nudged(foot_at=(0.1, 0.0))  # knees open by about 24 degrees, hips stay up

    def slide(timeline: Timeline) -> None:
        timeline.to(TOP, 1.5).hold(2.5).to(slid, 1.0).hold(3.0).to(START, 1.5).hold(REST_S)

    _, result = run_checker(bridge_spec, sequence(three_reps_with_middle(slide)))
    assert len(result.reps) == 3
    assert fault_ids(result) == [[], ["knees_drift"], []]
    slide_from, slide_to = MIDDLE_T + 1.5 + 2.5, MIDDLE_T + 1.5 + 2.5 + 1.0
    assert slide_from < result.reps[1].faults[0].start_t <= slide_to + 0.5  # s


# --- visibility ----------------------------------------------------------------------------------


def test_leaving_the_frame_mid_rep_abandons_that_attempt(bridge_spec, run_checker) -> None:
    windows = rep_windows(3, hold_s=HOLD_S, rest_s=REST_S)
    gone = (windows[1][1] + 2.0, windows[1][3] + 0.5)  # from mid-hold until after they are down
    seq = sequence(reps(START, TOP, n=3, hold_s=HOLD_S, rest_s=REST_S), dropout=gone)
    missing = int(np.sum((seq.t >= gone[0]) & (seq.t < gone[1])))

    states, result = run_checker(bridge_spec, seq)

    assert len(result.reps) == 2 and result.good_reps == 2
    assert result.abandoned_attempts == 1
    assert result.frames_not_visible == missing
    assert result.not_visible == [pytest.approx(gone, abs=1.0 / FPS)]
    assert result.reps[0].end_t < gone[0] and result.reps[1].start_t > gone[1]  # rep 3 counted again
    phases = {s.t: s.phase for s in states}
    t = seq.t
    assert {phases[x] for x in t[(t >= gone[0] + DROPOUT_S + 0.05) & (t < gone[1])]} == {"not_visible"}
    back = t[t >= gone[1]]
    assert phases[back[0]] == "setup"  # must settle in the start position again
    assert phases[back[int(1.5 * FPS)]] == "rest"
    assert all(s.reps == 1 for s in states if gone[0] <= s.t < windows[2][0])


def test_brief_dropout_does_not_end_the_rep(bridge_spec, run_checker) -> None:
    windows = rep_windows(3, hold_s=HOLD_S, rest_s=REST_S)
    blink = (windows[1][1] + 2.0, windows[1][1] + 2.0 + DROPOUT_S - 0.2)
    _, result = run_checker(bridge_spec, clean_session(dropout=blink))
    assert len(result.reps) == 3 and result.good_reps == 3
    assert result.abandoned_attempts == 0


def test_feet_out_of_the_picture_are_not_visible(bridge_spec, run_checker) -> None:
    seq = clean_session(shift_px=(-200.0, 0.0))  # camera on the left: the feet are at the image left
    assert np.all(seq.xy[:, [27, 28], 0] < -0.02 * seq.image_size[0])  # both ankles beyond the margin
    _, result = run_checker(bridge_spec, seq)
    assert result.reps == []
    assert result.frames_not_visible == len(seq)


# --- the same answer however it is filmed or fed ---------------------------------------------------


@pytest.mark.parametrize(
    ("view", "camera_side", "scale"),
    [
        ("side", "left", 1.0),
        ("side", "right", 1.0),
        ("side", "left", 0.8),
        ("side", "right", 1.25),
        ("three_quarter", "left", 1.0),
        ("three_quarter", "right", 1.1),
    ],
)
def test_same_count_from_any_camera_side_view_and_body_size(
    bridge_spec, run_checker, view: str, camera_side: str, scale: float
) -> None:
    keyframes = reps(START, [TOP, bridge(SHORT_LIFT_M), TOP], hold_s=HOLD_S, rest_s=REST_S)
    seq = sequence(keyframes, view=view, camera_side=camera_side, body=Body(scale=scale), noise_px=0.5)
    _, result = run_checker(bridge_spec, seq)
    assert len(result.reps) == 3
    assert fault_ids(result) == [[], ["hips_not_high"], []]
    assert [rep.side for rep in result.reps] == [camera_side] * 3


@pytest.mark.parametrize("camera_side", ["left", "right"])
def test_the_checked_side_is_the_one_facing_the_camera(bridge_spec, run_checker, camera_side: str) -> None:
    states, result = run_checker(bridge_spec, clean_session(camera_side=camera_side))
    assert {s.side for s in states[int(1.0 * FPS) :]} == {camera_side}
    assert {rep.side for rep in result.reps} == {camera_side}
    other = "right" if camera_side == "left" else "left"
    _, forced = run_checker(bridge_spec, clean_session(camera_side=camera_side), side=other)
    assert len(forced.reps) == 3 and {rep.side for rep in forced.reps} == {other}


@pytest.mark.parametrize("chunk", [1, 7])
def test_whole_clip_equals_frame_by_frame(bridge_spec, run_checker, chunk: int) -> None:
    blink = (MIDDLE_T + 16.0, MIDDLE_T + 16.3)  # shorter than DROPOUT_S, in the last hold
    seq = sequence(three_reps_with_middle(sagging_rep), noise_px=1.0, seed=7, dropout=blink)
    whole_states, whole = run_checker(bridge_spec, seq)
    part_states, parts = run_checker(bridge_spec, seq, chunk=chunk)

    assert len(whole.reps) == 3 and fault_ids(whole) == [[], ["hips_sag"], []]
    assert parts.reps == whole.reps  # same reps, holds, fault ids and fault times
    assert parts == whole
    assert [(s.phase, s.reps, s.hold_s, s.messages) for s in part_states] == [
        (s.phase, s.reps, s.hold_s, s.messages) for s in whole_states
    ]
