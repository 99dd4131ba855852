"""What real people do, on the segmental bridge spec with the stick figure: each test is one
failure class seen on real footage (see README, "Accuracy on real people")."""

from __future__ import annotations

import numpy as np
from stickfigure import Timeline, prone, prone_on_elbows_toes, sequence, supine_knees_bent

from posecheck.engine import Checker
from posecheck.landmarks import LANDMARK_INDEX, LandmarkSequence
from posecheck.spec import load_specs

START = supine_knees_bent()
TOP = START.raise_pelvis(0.19)  # shoulders, hips and knees in one line


def run(spec, seq):
    checker = Checker(spec)
    states = checker.process(seq)
    return states, checker.finish()


def test_reps_back_to_back_from_the_first_frame_are_counted(bridge_spec) -> None:
    """No still start: moving at once and no pause between reps (the old gate counted 0)."""
    tl = Timeline(START)
    for _ in range(4):
        tl.to(TOP, 1.0).hold(5.5).to(START, 1.0)
    _, result = run(bridge_spec, sequence(tl, noise_px=0.5))
    assert len(result.reps) == 4
    assert all(rep.hold_s > 5.0 for rep in result.reps)


def test_bridges_back_to_back_from_a_camera_above_at_three_quarters_are_counted(bridge_spec) -> None:
    """From above the head end, at three quarters, the bridge's top reads as head-down (trunk past 125
    degrees): the start posture must not reject the exercise's own top, or back-to-back reps
    (always at the top) never let counting start."""
    tl = Timeline(START).hold(0.5)
    for _ in range(3):
        tl.to(TOP, 1.2).hold(6.0).to(START, 1.2).hold(0.3)
    film = {"azimuth_deg": -45.0, "elevation_deg": 25.0}  # from above the head end
    _, result = run(bridge_spec, sequence(tl, noise_px=0.5, **film))
    assert len(result.reps) == 3


def test_a_clip_that_starts_at_the_top_of_a_rep_measures_from_the_bottom(bridge_spec) -> None:
    """The first still moment is the held top: the rest level must not stay there."""
    tl = Timeline(TOP).hold(3.0).to(START, 1.0).hold(1.0)
    for _ in range(3):
        tl.to(TOP, 1.0).hold(6.0).to(START, 1.0).hold(1.0)
    _, result = run(bridge_spec, sequence(tl, noise_px=0.5))
    whole = [rep for rep in result.reps if rep.start_t > 3.0]
    assert len(whole) == 3
    assert all(not rep.faults for rep in whole), [[f.rule for f in rep.faults] for rep in whole]


def test_a_dropout_shorter_than_a_second_keeps_the_rep(bridge_spec) -> None:
    tl = Timeline(START).hold(2.0)
    for _ in range(2):
        tl.to(TOP, 1.0).hold(6.0).to(START, 1.0).hold(1.5)
    blink = (6.0, 6.9)  # 0.9 s without landmarks in the middle of the first hold
    _, result = run(bridge_spec, sequence(tl, noise_px=0.5, dropout=blink))
    assert len(result.reps) == 2
    assert result.abandoned_attempts == 0
    assert result.reps[0].start_t < blink[0] < result.reps[0].end_t


def test_a_hold_still_going_when_the_recording_ends_is_reported_cut_off(bridge_spec) -> None:
    tl = Timeline(START).hold(2.0).to(TOP, 1.0).hold(6.0).to(START, 1.0).hold(1.5).to(TOP, 1.0).hold(4.0)
    _, result = run(bridge_spec, sequence(tl, noise_px=0.5))
    assert len(result.reps) == 2
    last = result.reps[-1]
    assert last.cut_off and not result.reps[0].cut_off
    assert 3.0 < last.hold_s < 4.5
    assert "hold_short" not in [f.rule for f in last.faults]  # the recording cut it, not the person


def test_feet_out_of_the_picture_say_so_and_never_judge(bridge_spec) -> None:
    """A laptop camera too close: the feet are cut off. Nothing is counted on guessed ankles,
    the frame says what is missing, and no frame claims that form was judged."""
    tl = Timeline(START).hold(2.0).to(TOP, 1.0).hold(6.0).to(START, 1.0).hold(1.5)
    whole = sequence(tl)
    ankles = whole.xy[:, [27, 28], 0]
    width = whole.image_size[0]
    # shift the picture so that both ankles lie beyond the nearer side edge
    shift = width - np.nanmin(ankles) + 40 if np.nanmean(ankles) > width / 2 else -np.nanmax(ankles) - 40
    states, result = run(bridge_spec, sequence(tl, shift_px=(shift, 0.0)))
    assert result.reps == []
    assert not any(state.judged for state in states)
    assert any("Can't see your feet" in message for state in states for _, message in state.messages)


def test_a_superman_is_not_counted_as_a_bird_dog() -> None:
    """Lying face down and lifting arms and legs shares the bird dog's metric, not its posture."""
    lying = prone()
    lifted = lying.with_(left_thigh=170.0, right_thigh=170.0, left_upper_arm=10.0, right_upper_arm=10.0)
    tl = Timeline(lying).hold(2.0)
    for _ in range(3):
        tl.to(lifted, 1.0).hold(5.0).to(lying, 1.0).hold(1.0)
    _, result = run(load_specs()["bird_dog"], sequence(tl, noise_px=0.5))
    assert result.reps == []
    assert result.counting_started_t is None


def test_a_plank_held_from_the_first_frame_counts_and_one_on_the_toes_is_told_the_knees() -> None:
    """A recording started in the plank, on the toes (the harder plank people know): the hold
    counts, cut off by the start, and the program's position (knees down, feet up) is asked for."""
    toes = prone_on_elbows_toes()
    tl = Timeline(toes).hold(12.0).to(prone(), 1.5).hold(2.0)
    _, result = run(load_specs()["plank_elbows_knees"], sequence(tl, noise_px=0.5))
    assert len(result.reps) == 1
    assert result.reps[0].hold_s > 10.0
    assert [f.rule for f in result.reps[0].faults] == ["feet_down"]


def test_reverse_lunges_with_a_knee_drive_between_them_are_each_counted() -> None:
    """A knee drive (standing on one leg, the other knee up at the hip) bends a knee as far as a
    lunge does, so a bent knee alone must not read as a lunge: the hips stay up."""
    from test_exercises_stabilize import STAND, lunge

    knee_drive = STAND.with_(right_thigh=0.0, right_shin=-90.0, right_foot_at=None)
    tl = Timeline(lunge("backward", "right")).hold(0.3).to(STAND, 0.6)  # the recording starts in a lunge
    for _ in range(5):
        tl.to(knee_drive, 0.5).to(STAND, 0.4).to(lunge("backward", "right"), 0.7).to(STAND, 0.6)
    _, result = run(load_specs()["multidirectional_lunge"], sequence(tl, noise_px=0.5))
    assert len(result.reps) in (5, 6)  # 5 whole lunges, and the one under way at the start


def test_hands_hidden_behind_a_barbell_stop_only_the_rule_that_needs_them() -> None:
    """A back squat: the hands hold the bar behind the shoulders, hidden on both sides. The count
    needs no hands, so it goes on; the rule on the hands is not judged on guessed wrists, and the
    frame says so."""
    from test_exercises_maintain import LIFT_FAR, lift_lead_in, lift_rep

    tl = lift_lead_in()
    for _ in range(3):
        lift_rep(up=LIFT_FAR[0], top=LIFT_FAR[1])(tl)  # the hands far out: hands_out if judged
    hidden = [(0.0, tl.t + 1.0, [f"{s}_{p}" for s in ("left", "right") for p in HANDS])]
    states, result = run(load_specs()["heavy_lift"], sequence(tl, noise_px=0.5, occlude=hidden))
    assert len(result.reps) == 3
    assert all("hands_out" not in [f.rule for f in rep.faults] for rep in result.reps)
    assert any("Can't see your hands" in message for state in states for _, message in state.messages)


HANDS = ("wrist", "pinky", "index", "thumb")


def _labels_swapped(seq: LandmarkSequence) -> LandmarkSequence:
    """The same frames with every left landmark called right and the other way round."""
    order = np.arange(seq.xy.shape[1])
    for name, i in LANDMARK_INDEX.items():
        if name.startswith("left_"):
            j = LANDMARK_INDEX["right_" + name[5:]]
            order[i], order[j] = j, i
    return LandmarkSequence(
        xy=seq.xy[:, order], z=seq.z[:, order], visibility=seq.visibility[:, order],
        world=seq.world[:, order], t=seq.t, image_size=seq.image_size,
    )  # fmt: skip


def test_a_short_bird_dog_at_10_fps_counts_and_left_right_swaps_change_nothing(metric_values) -> None:
    """A GIF-like clip: 10 frames a second, one rep, the leg lifted high at once. The posture
    (on the knees) is read from the supporting thigh, the more upright one, so the lifted leg
    does not take the person out of position, whichever leg MediaPipe calls left."""
    from test_exercises_stabilize import FOURS, reach

    spec = load_specs()["bird_dog"]
    tl = Timeline(FOURS).hold(0.6).to(reach("left", leg_dir=160.0), 1.0).hold(1.5).to(FOURS, 1.0).hold(0.3)
    seq = sequence(tl, fps=10.0, noise_px=0.5)
    tilt = metric_values(spec, seq, "left")["thigh_tilt"]
    assert np.nanmax(tilt) < 35  # in position throughout
    np.testing.assert_allclose(metric_values(spec, _labels_swapped(seq), "left")["thigh_tilt"], tilt)
    _, result = run(spec, seq)
    assert len(result.reps) == 1


def test_a_wrong_body_followed_for_the_first_frames_is_forgotten_and_squats_back_to_back_count() -> None:
    """MediaPipe first follows a smaller, wrongly proportioned body (a barbell's plates, a
    reflection), then finds the person: the body grows in the picture at once, the rest level
    measured on the wrong body is dropped and counting starts again, and the squats, done back to
    back with half a second standing between them, are each counted."""
    from stickfigure import Body
    from test_exercises_maintain import LIFT_STAND, lift_poses

    down, low, up, top = lift_poses()
    wrong = sequence(Timeline(LIFT_STAND).hold(0.7), body=Body(torso=0.35), fill=0.35, noise_px=0.3)
    tl = Timeline(LIFT_STAND).hold(1.5)
    for _ in range(3):
        tl.to(down, 0.5).to(low, 0.4).to(up, 0.4).to(LIFT_STAND, 0.5).hold(0.6)
    person = sequence(tl, noise_px=0.3)
    person.t[:] += wrong.t[-1] + 1 / 30
    _, result = run(load_specs()["heavy_lift"], LandmarkSequence.stack([wrong, person], person.image_size))
    assert len(result.reps) == 3


def test_left_right_swaps_in_the_middle_of_bird_dog_reps_keep_each_rep_whole_and_on_its_side() -> None:
    """From a high corner camera MediaPipe swaps the labels of the two legs for a few frames at a
    time: each rep stays one rep, on the side that was up most of the time."""
    from test_exercises_stabilize import FOURS, reach

    spec = load_specs()["bird_dog"]
    tl = Timeline(FOURS).hold(2.0)
    for side in ("left", "right", "left", "right"):
        tl.to(reach(side), 1.5).hold(5.0).to(FOURS, 1.5).hold(1.5)
    seq = sequence(tl, noise_px=0.5)
    swapped = _labels_swapped(seq)
    mixed = np.zeros(len(seq), dtype=bool)
    for start in (5.0, 14.5, 24.0, 33.5):  # during each hold: 0.5 s swapped, 0.5 s right, twice
        mixed |= ((seq.t >= start) & (seq.t < start + 0.5)) | ((seq.t >= start + 1.0) & (seq.t < start + 1.5))
    for field_name in ("xy", "z", "visibility", "world"):
        getattr(seq, field_name)[mixed] = getattr(swapped, field_name)[mixed]
    _, result = run(spec, seq)
    assert [rep.side for rep in result.reps] == ["left", "right", "left", "right"]


def _feet_beyond_the_bottom_edge(tl: Timeline) -> LandmarkSequence:
    """The movement filmed with the picture moved up until both ankles (and toes) lie below it,
    the knees well inside: a camera too close to a standing person."""
    whole = sequence(tl, noise_px=0.5)
    feet = whole.xy[:, [LANDMARK_INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("ankle", "heel")], 1]
    knees = whole.xy[:, [LANDMARK_INDEX["left_knee"], LANDMARK_INDEX["right_knee"]], 1]
    shift = whole.image_size[1] - (np.nanmax(knees) + np.nanmin(feet)) / 2  # the edge between them
    return sequence(tl, noise_px=0.5, shift_px=(0.0, shift))


def test_hinges_and_planks_with_the_feet_cut_off_are_counted_and_say_so() -> None:
    """A close camera cuts off the feet: the hinge's standing posture is read from the thighs and
    the plank's hold from the hips above the knees, so both still count; the feet are not judged."""
    from test_exercises_maintain import hinge_lead_in, hinge_rep
    from test_exercises_stabilize import PLANK_UP

    tl = hinge_lead_in()
    for _ in range(3):
        hinge_rep()(tl)
    states, result = run(load_specs()["hip_hinge_dowel"], _feet_beyond_the_bottom_edge(tl))
    assert len(result.reps) == 3
    assert any("Can't see your feet" in message for state in states for _, message in state.messages)

    plank = Timeline(prone()).hold(1.5)
    for _ in range(2):
        plank.to(PLANK_UP, 2.0).hold(8.0).to(prone(), 2.0).hold(2.0)
    whole = sequence(plank, noise_px=0.5)
    ankles = whole.xy[:, [LANDMARK_INDEX["left_ankle"], LANDMARK_INDEX["right_ankle"]], 0]
    knees = whole.xy[:, [LANDMARK_INDEX["left_knee"], LANDMARK_INDEX["right_knee"]], 0]
    left = np.nanmean(ankles) < np.nanmean(knees)  # the feet at the left of the picture
    shift = 20.0 - np.nanmin(knees) if left else whole.image_size[0] - 20.0 - np.nanmax(knees)
    cut = sequence(plank, noise_px=0.5, shift_px=(shift, 0.0))  # the knees just inside the picture
    states, result = run(load_specs()["plank_elbows_knees"], cut)
    assert len(result.reps) == 2
    assert all("feet_down" not in [f.rule for f in rep.faults] for rep in result.reps)
