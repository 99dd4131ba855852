"""Tests of the robustness-set generator (posecheck.synth.variants): label bookkeeping of every
transform on a tiny synthetic clip, writing and reading back, and the recipe on one sample clip."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecheck.landmarks import LANDMARK_INDEX, LANDMARK_NAMES
from posecheck.synth.variants import (
    RECIPE,
    Clip,
    back_to_back,
    crop,
    feet_cut_box,
    main,
    make_robustness_set,
    mirror,
    portrait_box,
    read_clip,
    rep_moment,
    trim_end,
    trim_start,
    webcam,
    write_clip,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"
W, H, T = 64, 48, 60
LS, RS = LANDMARK_INDEX["left_shoulder"], LANDMARK_INDEX["right_shoulder"]
KNEES = [LANDMARK_INDEX["left_knee"], LANDMARK_INDEX["right_knee"]]
ANKLES = [LANDMARK_INDEX["left_ankle"], LANDMARK_INDEX["right_ankle"]]
# A camera at (0, -3, 1) looking along +y (world z up): x_cam = x, y_cam = -z, z_cam = y.
CAMERA = {
    "eye": [0.0, -3.0, 1.0],
    "R_world_to_cam": [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]],
    "K": [[40.0, 0.0, 32.0], [0.0, 40.0, 24.0], [0.0, 0.0, 1.0]],
    "width": W,
    "height": H,
}


def project(points: np.ndarray, camera: dict) -> np.ndarray:
    cam = (points - np.array(camera["eye"])) @ np.array(camera["R_world_to_cam"]).T
    uv = cam @ np.array(camera["K"]).T
    return uv[..., :2] / uv[..., 2:]


def rep(index, start, end, hold, side, faults=None, clean=True):
    faults = faults or {}
    return {
        "index": index,
        "start_frame": start,
        "end_frame": end,
        "hold_start_frame": hold[0],
        "hold_end_frame": hold[1],
        "top_start_frame": hold[0],
        "top_end_frame": hold[1],
        "side": side,
        "faults": list(faults),
        "fault_frames": faults,
        "clean": clean,
    }


@pytest.fixture
def clip() -> Clip:
    """60 frames of 64x48 (grey, a white dot moving right; frame t has blue value t at (0, 0)),
    3 reps, keypoints that are the projection of random 3D points in front of CAMERA."""
    rng = np.random.default_rng(0)
    frames = np.full((T, H, W, 3), 128, np.uint8)
    for t in range(T):
        cv2.circle(frames[t], (2 + t, 24), 2, (255, 255, 255), -1)
        frames[t, 0, 0, 0] = t
    kp3d = np.stack(
        [rng.uniform(-2, 2, (T, 33)), rng.uniform(-0.5, 0.5, (T, 33)), rng.uniform(0, 2, (T, 33))], -1
    )
    kp2d = project(kp3d, CAMERA).astype(np.float32)
    labels = {
        "clip": "tiny",
        "exercise_id": "bird_dog",
        "fps": 30,
        "n_frames": T,
        "duration_s": 2.0,
        "width": W,
        "height": H,
        "view": "side",
        "camera_side": "subject_left",
        "rep_count": 3,
        "clean_rep_count": 1,
        "setup_end_frame": 3,
        "reps": [
            rep(0, 10, 22, (14, 18), "left"),
            rep(1, 28, 40, (32, 36), "right", {"hips_sag": [30, 43]}, clean=False),
            rep(2, 46, 56, (50, 53), "left", {"leg_high": [50, 53]}, clean=False),
        ],
        "faults_available": ["hips_sag", "leg_high"],
        "subject": {"kept": True},
        "camera": CAMERA,
    }
    keypoints = {
        "kp2d": kp2d,
        "in_frame": (kp2d[..., 0] >= 0) & (kp2d[..., 0] < W) & (kp2d[..., 1] >= 0) & (kp2d[..., 1] < H),
        "visible": rng.random((T, 33)) < 0.7,
        "kp3d_world": kp3d.astype(np.float32),
        "rep_index": np.repeat([-1, 0, -1, 1, -1, 2, -1], [10, 13, 5, 13, 5, 11, 3]).astype(np.int16),
        "landmark_names": np.array(LANDMARK_NAMES),
    }
    return Clip(frames, labels, keypoints)


def windows(reps):
    return [(r["start_frame"], r["end_frame"], r["hold_start_frame"], r["hold_end_frame"]) for r in reps]


# --- cutting frames ----------------------------------------------------------------------------


def test_late_start_mid_rep_makes_the_first_rep_partial(clip):
    v = trim_start(clip, 16)
    assert v.n_frames == v.labels["n_frames"] == T - 16
    assert v.labels["duration_s"] == round(44 / 30, 3)
    assert windows(v.labels["reps"]) == [(12, 24, 16, 20), (30, 40, 34, 37)]
    assert [r["index"] for r in v.labels["reps"]] == [1, 2]  # the source's numbers, as rep_index
    (cut,) = v.labels["partial_reps"]
    assert cut["cut_by"] == "start" and cut["index"] == 0
    assert (cut["start_frame"], cut["end_frame"], cut["hold_start_frame"], cut["hold_end_frame"]) == (
        0,
        6,
        0,
        2,
    )
    assert (v.labels["rep_count"], v.labels["rep_count_max"], v.labels["clean_rep_count"]) == (2, 3, 0)
    assert v.labels["setup_end_frame"] == 0
    assert v.labels["reps"][0]["fault_frames"] == {"hips_sag": [14, 24]}  # clipped to the rep
    assert v.labels["variant"] == {"source": "tiny", "steps": [{"op": "trim_start", "frame": 16}]}
    assert v.labels["real"] is False and v.labels["subject"] == {"kept": True}
    assert np.array_equal(v.keypoints["kp2d"], clip.keypoints["kp2d"][16:])
    assert np.array_equal(v.keypoints["rep_index"], clip.keypoints["rep_index"][16:])
    assert v.frames[0, 0, 0, 0] == 16
    assert clip.labels["n_frames"] == T and "variant" not in clip.labels  # the source is untouched


def test_start_in_the_hold(clip):
    start = rep_moment(clip.labels, 0, "hold")
    assert 14 < start < 18
    v = trim_start(clip, start)
    (cut,) = v.labels["partial_reps"]
    assert cut["hold_start_frame"] == 0 and cut["hold_end_frame"] == 18 - start
    assert v.labels["reps"][0]["start_frame"] == 28 - start


def test_end_in_the_last_hold(clip):
    end = rep_moment(clip.labels, -1, "mid_hold")
    assert end == 51
    v = trim_end(clip, end)
    assert v.n_frames == 52 and v.labels["setup_end_frame"] == 3
    assert windows(v.labels["reps"]) == windows(clip.labels["reps"][:2])
    (cut,) = v.labels["partial_reps"]
    assert cut["cut_by"] == "end" and (cut["start_frame"], cut["end_frame"]) == (46, 51)
    assert (cut["hold_start_frame"], cut["hold_end_frame"]) == (50, 51)
    assert cut["fault_frames"] == {"leg_high": [50, 51]}
    assert (v.labels["rep_count"], v.labels["rep_count_max"]) == (2, 3)


def test_back_to_back_cuts_setup_and_rests(clip):
    v = back_to_back(clip, lead=5, gap=4)
    reps = v.labels["reps"]
    assert reps[0]["start_frame"] == 5
    assert [b["start_frame"] - a["end_frame"] - 1 for a, b in zip(reps, reps[1:], strict=False)] == [4, 4]
    assert v.n_frames == 5 + 13 + 4 + 13 + 4 + 11 + 3  # the tail has only 3 frames after the last rep
    for new, old in zip(reps, clip.labels["reps"], strict=True):
        assert new["end_frame"] - new["start_frame"] == old["end_frame"] - old["start_frame"]
        assert new["hold_start_frame"] - new["start_frame"] == old["hold_start_frame"] - old["start_frame"]
        assert v.frames[new["start_frame"], 0, 0, 0] == old["start_frame"]
        assert np.array_equal(v.keypoints["kp2d"][new["end_frame"]], clip.keypoints["kp2d"][old["end_frame"]])
    assert v.labels["partial_reps"] == [] and v.labels["rep_count"] == v.labels["rep_count_max"] == 3
    assert v.labels["setup_end_frame"] == 0


def test_webcam_halves_the_frame_rate_and_degrades_deterministically(clip):
    v = webcam(clip, seed=1)
    assert v.labels["fps"] == 15 and v.n_frames == 30 and v.labels["duration_s"] == 2.0
    assert windows(v.labels["reps"]) == [(5, 11, 7, 9), (14, 20, 16, 18), (23, 28, 25, 26)]
    assert v.labels["reps"][1]["fault_frames"] == {"hips_sag": [15, 20]}  # [30, 43] halved, clipped
    assert v.labels["setup_end_frame"] == 2  # source frame 4, the first kept one from 3 on
    assert np.array_equal(v.keypoints["kp2d"], clip.keypoints["kp2d"][::2])
    assert [s["op"] for s in v.labels["variant"]["steps"]] == ["drop_fps", "degrade"]
    assert v.frames.mean() < clip.frames.mean() - 30  # dim
    assert np.array_equal(v.frames, webcam(clip, seed=1).frames)
    assert not np.array_equal(v.frames, webcam(clip, seed=2).frames)


def test_back_to_back_then_webcam(clip):
    v = webcam(back_to_back(clip), seed=0)
    assert v.labels["fps"] == 15 and v.n_frames == 27
    assert [s["op"] for s in v.labels["variant"]["steps"]] == ["back_to_back", "drop_fps", "degrade"]
    assert [r["start_frame"] for r in v.labels["reps"]] == [3, 11, 20]  # 5, 22, 39 halved up


# --- the picture -------------------------------------------------------------------------------


def test_mirror_flips_x_and_swaps_left_and_right(clip):
    v = mirror(clip)
    assert np.array_equal(v.frames, clip.frames[:, :, ::-1])
    old, new = clip.keypoints, v.keypoints
    assert np.allclose(new["kp2d"][:, LS, 0], W - old["kp2d"][:, RS, 0])
    assert np.array_equal(new["kp2d"][:, LS, 1], old["kp2d"][:, RS, 1])
    assert np.array_equal(new["visible"][:, LS], old["visible"][:, RS])
    assert np.array_equal(new["kp2d"][:, 0, 1], old["kp2d"][:, 0, 1])  # the nose stays the nose
    assert [r["side"] for r in v.labels["reps"]] == ["right", "left", "right"]
    assert v.labels["camera_side"] == "subject_right"
    # the reflected 3D points seen by the labelled camera are the mirrored 2D points
    assert np.allclose(project(new["kp3d_world"], v.labels["camera"]), new["kp2d"], atol=1e-3)
    again = mirror(v)
    assert np.allclose(again.keypoints["kp2d"], old["kp2d"], atol=1e-4)
    assert again.labels["reps"] == clip.labels["reps"] and again.labels["camera"] == clip.labels["camera"]


def test_crop_shifts_scales_and_recomputes_in_frame(clip):
    v = crop(clip, (16, 8, 48, 40), size=(16, 16))
    assert v.frames.shape == (T, 16, 16, 3) and (v.labels["width"], v.labels["height"]) == (16, 16)
    kp = clip.keypoints["kp2d"]
    assert np.allclose(v.keypoints["kp2d"], (kp - [16, 8]) * 0.5)
    inside = (kp[..., 0] >= 16) & (kp[..., 0] < 48) & (kp[..., 1] >= 8) & (kp[..., 1] < 40)
    assert 0 < inside.mean() < 1 and np.array_equal(v.keypoints["in_frame"], inside)
    assert not (v.keypoints["visible"] & ~inside).any()
    assert np.allclose(
        project(clip.keypoints["kp3d_world"], v.labels["camera"]), v.keypoints["kp2d"], atol=1e-3
    )
    assert v.labels["variant"]["steps"] == [{"op": "crop", "box": [16, 8, 48, 40], "size": [16, 16]}]
    with pytest.raises(ValueError):
        crop(clip, (0, 0, W + 2, H))


def pose(clip: Clip, shoulders, knees, ankles) -> Clip:
    kp = clip.keypoints["kp2d"].copy()
    kp[:, [LS, RS]], kp[:, KNEES], kp[:, ANKLES] = shoulders, knees, ankles
    return Clip(clip.frames, clip.labels, {**clip.keypoints, "kp2d": kp})


def test_feet_cut_box_cuts_between_knees_and_ankles(clip):
    standing = pose(clip, (32, 6), (32, 32), (32, 44))
    x0, y0, x1, y1 = feet_cut_box(standing)
    assert (x0, y0, x1) == (0, 0, W) and 32 < y1 <= 44
    cut = crop(standing, (x0, y0, x1, y1))
    assert cut.keypoints["in_frame"][:, KNEES].all() and not cut.keypoints["in_frame"][:, ANKLES].any()
    lying = pose(clip, (56, 30), (20, 20), (8, 36))  # feet to the left
    x0, y0, x1, y1 = feet_cut_box(lying)
    assert (y0, x1, y1) == (0, W, H) and 8 < x0 < 20


def test_portrait_box_is_9_by_16_around_the_body(clip):
    kp = clip.keypoints["kp2d"].copy()
    kp[:, 11:33, 0] = 20
    left = Clip(clip.frames, clip.labels, {**clip.keypoints, "kp2d": kp})
    x0, y0, x1, y1 = portrait_box(left)
    assert (x0, y0, x1, y1) == (6, 0, 34, H)  # 48 * 9 / 16 = 27, rounded to even; centred on x = 20
    kp[:, 11:33, 0] = 62
    assert portrait_box(Clip(clip.frames, clip.labels, {**clip.keypoints, "kp2d": kp}))[2] == W  # kept inside
    v = crop(left, (x0, y0, x1, y1), (18, 32))
    assert v.frames.shape[1:3] == (32, 18)


# --- writing -----------------------------------------------------------------------------------


def read_video(path: Path) -> tuple[int, tuple[int, int], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    n, size = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n, size = n + 1, (frame.shape[1], frame.shape[0])
    cap.release()
    return n, size, fps


def test_write_clip_and_read_back(clip, tmp_path):
    v = webcam(crop(trim_start(clip, 16), (8, 0, 56, 48)), seed=3)
    label_file = write_clip(v, tmp_path, "tiny__test")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tiny__test.json",
        "tiny__test.mp4",
        "tiny__test.npz",
    ]
    assert read_video(tmp_path / "tiny__test.mp4") == (22, (48, 48), 15.0)
    labels = json.loads(label_file.read_text())
    assert labels["clip"] == "tiny__test" and labels["n_frames"] == 22 and labels["width"] == 48
    with np.load(tmp_path / "tiny__test.npz") as data:
        assert data["kp2d"].shape == (22, 33, 2) and data["in_frame"].shape == (22, 33)
    back = read_clip(label_file)
    assert back.frames.shape == (22, 48, 48, 3) and back.labels == labels


def test_cli_writes_the_recipe_and_skips_what_exists(clip, tmp_path, capsys):
    source = write_clip(clip, tmp_path / "src", "tiny")
    out = tmp_path / "out"
    assert main([str(source), "--out", str(out)]) == 0
    written = [line for line in capsys.readouterr().out.splitlines() if line.startswith(str(out))]
    assert len(written) == len(RECIPE)
    stamp = (out / "tiny__mirror.mp4").stat().st_mtime_ns
    assert main([str(source.with_suffix(".mp4")), "--out", str(out)]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith(str(out))]
    assert (out / "tiny__mirror.mp4").stat().st_mtime_ns == stamp
    files = make_robustness_set([source], out, force=True, log=lambda _: None)
    assert [f.name for f in files] == [f"tiny__{name}.json" for name in RECIPE]
    assert not list(out.glob(".*"))  # no temporary files left


# --- one real sample clip ----------------------------------------------------------------------


def shortest_sample() -> Path:
    labelled = [p for p in SAMPLES.glob("*.json") if p.with_suffix(".mp4").is_file()]
    if not labelled:
        pytest.skip("no sample clips")
    return min(labelled, key=lambda p: json.loads(p.read_text())["n_frames"])


def test_robustness_set_of_a_sample_clip(tmp_path):
    source = shortest_sample()
    original = json.loads(source.read_text())
    files = make_robustness_set([source], tmp_path, seed=0, log=lambda _: None)
    assert [f.name for f in files] == [f"{source.stem}__{name}.json" for name in RECIPE]
    for label_file in files:
        labels = json.loads(label_file.read_text())
        n, size, fps = read_video(label_file.with_suffix(".mp4"))
        assert (n, size, fps) == (labels["n_frames"], (labels["width"], labels["height"]), labels["fps"])
        with np.load(label_file.with_suffix(".npz")) as data:
            assert data["kp2d"].shape == (n, 33, 2)
        assert labels["rep_count"] + len(labels["partial_reps"]) == labels["rep_count_max"]
        assert labels["real"] is False and labels["variant"]["source"] == source.stem
        for r in labels["reps"]:
            assert 0 <= r["start_frame"] < r["end_frame"] < n
    late = json.loads(files[0].read_text())
    assert late["partial_reps"][0]["cut_by"] == "start"
    assert (late["rep_count"], late["rep_count_max"]) == (original["rep_count"] - 1, original["rep_count"])
    mirrored = json.loads((tmp_path / f"{source.stem}__mirror.json").read_text())
    assert mirrored["camera_side"] != original["camera_side"]
    assert json.loads((tmp_path / f"{source.stem}__portrait.json").read_text())["width"] == 270
