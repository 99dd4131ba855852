"""Tests of the synthetic clip generator (posecheck.synth).

The generator needs the heavy ``synth`` extra (anny, torch, numba), which the core CI does not
install: without it these tests are skipped. The keyframe, label and schedule tests need only
numpy; the body and render tests build an anny model (its first start builds a cache, ~1 min).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

for _module in ("anny", "torch", "numba"):
    pytest.importorskip(_module, reason="posecheck.synth needs the 'synth' extra (pip install -e '.[synth]')")

from posecheck.synth.labels import fault_window, per_frame, rep_labels, setup_end_frame  # noqa: E402
from posecheck.synth.timeline import FAULT_PREFIX, Timeline, min_jerk, wobble  # noqa: E402

# --- keyframes ----------------------------------------------------------------------------------


def test_min_jerk_eases_from_rest_to_rest():
    u = np.linspace(0, 1, 101)
    s = min_jerk(u)
    assert s[0] == 0 and s[-1] == 1 and abs(s[50] - 0.5) < 1e-12
    assert np.all(np.diff(s) >= 0)
    speed = np.gradient(s, u)
    assert speed[0] < 1e-3 and speed[-1] < 1e-3  # starts and ends at rest
    assert min_jerk(-1.0) == 0 and min_jerk(2.0) == 1  # clamped


def test_timeline_interpolates_and_holds():
    tl = Timeline({"a": 0.0, "b": 10.0})
    tl.go(2.0, "moving_out", 0, a=1.0).stay(1.0, "hold", 0).go(2.0, "returning", 0, a=0.0)
    v = tl.sample(np.array([0.0, 1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 9.0]))
    assert v["a"][0] == 0 and v["a"][1] == pytest.approx(0.5) and v["a"][2] == 1
    assert v["a"][3] == 1 and v["a"][4] == 1  # held
    assert v["a"][5] == pytest.approx(0.5) and v["a"][6] == 0 and v["a"][7] == 0  # after the end: last key
    assert np.all(v["b"] == 10.0)  # untouched parameters carry over
    assert tl.duration == 5.0


def test_timeline_parameter_introduced_later_starts_from_zero():
    tl = Timeline({"a": 0.0})
    tl.go(1.0, "setup", c=4.0)
    v = tl.sample(np.array([0.0, 0.5, 1.0]))
    assert v["c"].tolist() == [0.0, 2.0, 4.0]


def test_timeline_spans_merge_and_label_frames():
    tl = Timeline({"a": 0.0})
    tl.stay(1.0, "setup").stay(1.0, "setup").go(1.0, "moving_out", 0, a=1).stay(2.0, "hold", 0)
    tl.go(1.0, "returning", 0, a=0).stay(1.0, "rest")
    assert [(s.phase, s.t0, s.t1, s.rep) for s in tl.spans[:2]] == [
        ("setup", 0.0, 2.0, -1),
        ("moving_out", 2.0, 3.0, 0),
    ]
    phase, rep = per_frame(tl, fps=10)
    assert len(phase) == 71  # 0..7 s inclusive at 10 fps
    assert phase[0] == "setup" and phase[19] == "setup" and phase[20] == "moving_out"
    assert phase[30] == "hold" and phase[49] == "hold" and phase[50] == "returning" and phase[70] == "rest"
    assert rep[19] == -1 and rep[20] == 0 and rep[59] == 0 and rep[60] == -1
    assert setup_end_frame(phase) == 20


def test_timeline_rejects_bad_durations():
    with pytest.raises(ValueError):
        Timeline({"a": 0.0}).go(0.0, "setup", a=1.0)


def test_wobble_is_small_and_smooth():
    t = np.arange(0, 20, 1 / 30)
    w = wobble(t, np.random.default_rng(0), 2.0)
    assert np.abs(w).max() <= 2.0 + 1e-9
    assert np.abs(np.diff(w)).max() < 0.2  # no jumps between frames


# --- labels -------------------------------------------------------------------------------------


def _two_rep_timeline() -> Timeline:
    tl = Timeline({"x": 0.0, FAULT_PREFIX + "sag": 0.0})
    tl.stay(1.0, "setup").stay(0.5, "rest")
    # rep 0: clean, hold 2 s
    tl.go(1.0, "moving_out", 0, x=1).stay(2.0, "hold", 0).go(1.0, "returning", 0, x=0).stay(0.5, "rest")
    # rep 1: the fault develops in the middle of the hold
    tl.go(1.0, "moving_out", 1, x=1).stay(1.0, "hold", 1)
    tl.go(1.0, "hold", 1, x=0.6, **{FAULT_PREFIX + "sag": 1.0}).stay(1.0, "hold", 1)
    tl.go(1.0, "returning", 1, x=0, **{FAULT_PREFIX + "sag": 0.0}).stay(0.5, "rest")
    return tl


def test_rep_labels_bookkeeping():
    tl = _two_rep_timeline()
    fps = 10
    tracks = {
        k: v
        for k, v in tl.sample(np.arange(int(tl.duration * fps) + 1) / fps).items()
        if k.startswith(FAULT_PREFIX)
    }
    reps, phase, rep_index = rep_labels(
        tl, fps, [[], ["sag"]], {"sag": "track"}, tracks, notes=[{}, {"drop": 1}]
    )
    r0, r1 = reps
    assert (r0["start_frame"], r0["end_frame"]) == (15, 54)
    assert (r0["hold_start_frame"], r0["hold_end_frame"]) == (25, 44)
    assert r0["top_start_frame"] == r0["hold_start_frame"] and r0["top_end_frame"] == r0["hold_end_frame"]
    assert r0["hold_s"] == 2.0 and r0["clean"] and r0["faults"] == [] and r0["fault_frames"] == {}
    assert r1["start_frame"] == 60 and r1["hold_s"] == 3.0 and not r1["clean"]
    first, last = r1["fault_frames"]["sag"]
    # the amount passes 0.5 half-way through its ramps up (8-9 s) and down (10-11 s)
    assert (first, last) == (85, 105)
    assert r1["injected"] == {"drop": 1}
    assert rep_index[first] == 1 and rep_index[last] == 1
    assert set(np.unique(phase)) == {"setup", "rest", "moving_out", "hold", "returning"}


def test_fault_window_hold_scope_and_errors():
    phase = np.array(["rest", "moving_out", "hold", "hold", "hold", "returning", "rest"])
    rep = np.array([-1, 0, 0, 0, 0, 0, -1])
    assert fault_window("hold_short", "hold", 0, phase, rep, None) == [2, 4]
    track = np.array([0, 0.4, 0.6, 1, 1, 0.6, 0])
    assert fault_window("leg_high", "hold", 0, phase, rep, track) == [2, 4]
    assert fault_window("leg_high", "track", 0, phase, rep, track) == [2, 5]
    with pytest.raises(ValueError, match="no frame"):
        fault_window("leg_high", "track", 0, phase, rep, np.zeros(7))
    with pytest.raises(ValueError):
        fault_window("leg_high", "track", 0, phase, rep, None)


# --- fault schedules and CLI parsing (no body needed) -------------------------------------------


def test_parse_reps_checks_fault_ids():
    from posecheck.synth.clip import parse_reps

    assert parse_reps("none,hips_not_high,none", "segmental_bridge") == [None, "hips_not_high", None]
    assert parse_reps("leg_high, clean", "bird_dog") == ["leg_high", None]
    with pytest.raises(ValueError, match="no fault"):
        parse_reps("none,squat", "segmental_bridge")
    with pytest.raises(ValueError, match="unknown exercise"):
        parse_reps("none", "glute_bridge")


def test_exercises_use_the_program_ids_and_rule_ids():
    from posecheck.synth.exercises import EXERCISES

    assert set(EXERCISES) >= {"segmental_bridge", "bird_dog", "hip_hinge_dowel"}
    assert EXERCISES["segmental_bridge"].faults == ("hips_not_high", "hips_sag", "knees_drift", "hold_short")
    assert set(EXERCISES["bird_dog"].faults) == {"leg_high", "leg_low", "arm_low", "hip_rotation", "back_sag"}
    assert set(EXERCISES["hip_hinge_dowel"].faults) == {"rounded_spine", "squat", "knees_too_bent"}
    assert set(EXERCISES["plank_elbows_knees"].faults) == {"hips_sag", "hips_pike", "hold_short"}
    assert set(EXERCISES["dead_bug"].faults) == {"leg_not_straight", "other_knee_drift", "other_leg_moves"}
    for cls in EXERCISES.values():
        assert set(cls.fault_scope) == set(cls.faults)


def test_plan_reps_alternates_sides_and_times_holds():
    from posecheck.synth.clip import plan_reps
    from posecheck.synth.exercises import BirdDog, SegmentalBridge

    rng = np.random.default_rng(3)
    plans = plan_reps(BirdDog(), [None, "leg_high", None, "back_sag"], rng, None, first_side="l")
    assert [p.side for p in plans] == ["l", "r", "l", "r"]
    assert all(4.8 <= p.hold_s <= 6.1 for p in plans)
    plans = plan_reps(SegmentalBridge(), [None, "hold_short", "hips_sag"], rng, 6.0)
    assert plans[0].side is None
    assert 5.8 <= plans[0].hold_s <= 6.3 and plans[1].hold_s < 3.0 and plans[2].hold_s >= 5.8


def test_cli_rejects_bad_input(capsys):
    from posecheck.synth.__main__ import main

    assert main(["-e", "bird_dog", "--reps", "none,hips_sag", "--out", "/tmp", "--name", "x"]) == 2
    assert "no fault 'hips_sag'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["-e", "bird_dog", "--view", "front", "--out", "/tmp", "--name", "x"])


# --- body model and a tiny render (build anny) --------------------------------------------------


@pytest.fixture(scope="module")
def body():
    from posecheck.synth.body import Body

    return Body({"gender": 0.3, "age": 0.75, "height": 0.4})


def test_skeleton_matches_the_mesh_model_and_joint_angles_point_limbs(body):
    loc = body.local_rotations(
        {"pitch": 20, "spine": 15, "roll": 8, "hip_flex_l": 70, "knee_l": 50, "sh_flex_r": 100}
    )
    heads, _ = body.skeleton(loc)
    out = body.mesh(loc[None])
    assert np.abs(out["heads"][0] - heads).max() < 1e-9
    assert out["landmarks"].shape == (1, 33, 3)
    # standing, left arm raised forward (anny's anterior is -y), right knee bent 90 deg
    loc = body.local_rotations({"sh_flex_l": 90, "elbow_l": 0, "hip_flex_r": 90, "knee_r": 90})
    h, _ = body.skeleton(loc)
    ix = body.index
    arm = h[ix["lowerarm01.L"]] - h[ix["upperarm01.L"]]
    shin = h[ix["foot.R"]] - h[ix["lowerleg01.R"]]
    assert arm[1] < -0.9 * np.linalg.norm(arm)
    assert shin[2] < -0.9 * np.linalg.norm(shin)


def test_bridge_geometry_reaches_the_floor(body):
    from posecheck.synth.exercises import SegmentalBridge

    ex = SegmentalBridge()
    ex.geometry(body)
    assert 12 < ex.beta_top < 40 and ex.D > 0.6
    p = {
        "beta": ex.beta_top,
        "slide": 0.0,
        "bend": 1.0,
        "arm_abd": 15,
        "hip_abd": 2,
        "head_turn": 0,
        "neck_extra": 0,
    }
    pose, _, _ = ex.solve(body, p)
    m = body.mesh(body.local_rotations(pose)[None])
    lm = m["landmarks"][0]
    lm = lm - [0, 0, m["vertices"][0, :, 2].min()]
    # shoulders and feet on the floor, hips up: a bridge
    assert lm[11, 2] < 0.2 and lm[27, 2] < 0.15
    assert lm[23, 2] > lm[11, 2] + 0.12


def test_tiny_render_writes_labelled_files(tmp_path):
    import cv2

    from posecheck.synth.clip import ClipSpec, make_clip

    spec = ClipSpec(
        exercise="segmental_bridge",
        reps=["hips_not_high"],
        out=tmp_path,
        name="tiny",
        seed=5,
        width=160,
        height=120,
        hold_s=0.4,
        supersample=1,
    )
    labels = make_clip(spec, log=lambda *_: None)
    video, label_file, npz = (tmp_path / f"tiny.{ext}" for ext in ("mp4", "json", "npz"))
    assert video.is_file() and label_file.is_file() and npz.is_file()
    data = json.loads(label_file.read_text())
    assert data == json.loads(json.dumps(labels))
    for key in (
        "exercise_id",
        "exercise",
        "fps",
        "n_frames",
        "width",
        "height",
        "view",
        "camera_side",
        "rep_count",
        "clean_rep_count",
        "setup_end_frame",
        "reps",
        "subject",
        "camera",
        "generator",
    ):
        assert key in data, key
    assert data["exercise_id"] == data["exercise"] == "segmental_bridge"
    assert (data["width"], data["height"], data["fps"]) == (160, 120, 30)
    assert data["rep_count"] == 1 and data["clean_rep_count"] == 0
    rep = data["reps"][0]
    assert rep["faults"] == ["hips_not_high"] and not rep["clean"]
    assert rep["fault_frames"]["hips_not_high"] == [rep["hold_start_frame"], rep["hold_end_frame"]]
    assert (
        data["setup_end_frame"]
        <= rep["start_frame"]
        < rep["hold_start_frame"]
        <= rep["hold_end_frame"]
        < rep["end_frame"]
    )
    assert data["generator"]["seed"] == 5
    cap = cv2.VideoCapture(str(video))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (120, 160, 3) and n == data["n_frames"]
    with np.load(npz) as z:
        assert z["kp2d"].shape == (n, 33, 2) and z["kp3d_world"].shape == (n, 33, 3)
        assert z["visible"].shape == z["in_frame"].shape == (n, 33)
        assert z["rep_index"].shape == z["phase"].shape == (n,)
        assert z["in_frame"][:, [11, 12, 23, 24, 25, 26]].all()  # the framed body is in the picture
        assert (z["rep_index"] == 0).sum() == rep["end_frame"] - rep["start_frame"] + 1
        assert set(np.unique(z["phase"])) <= {"setup", "rest", "moving_out", "hold", "returning"}
