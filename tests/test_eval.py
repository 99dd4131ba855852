"""`posecheck eval` on the labelled sample clips: accuracy must not drop below the stated floors.

The floors start from what was measured (README, "Accuracy"); a checker change that breaks
counting or fault detection on a sample clip fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from posecheck.engine import CheckResult, FaultEvent, Rep
from posecheck.evaluation import ClipLabels, LabelRep, count_error, judge_faults, load_labels, match_reps

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"

# Per exercise: minimum share of clips with the exact rep count, minimum fault recall and
# precision (over all its fault types), maximum false faults on clean reps.
FLOORS = {
    "segmental_bridge": {"exact": 1.0, "recall": 1.0, "precision": 1.0, "false_on_clean": 0},
    "hip_hinge_dowel": {"exact": 1.0, "recall": 1.0, "precision": 1.0, "false_on_clean": 0},
    "plank_elbows_knees": {"exact": 1.0, "recall": 1.0, "precision": 1.0, "false_on_clean": 0},
    "dead_bug": {"exact": 1.0, "recall": 1.0, "precision": 1.0, "false_on_clean": 0},
    # MediaPipe swaps the lifted far leg for the near one in side views of the rendered bird dogs
    # (21-42 % of frames), which costs reps and arm faults: measured 0.75 / 0.60 / 0.43 / 1.
    "bird_dog": {"exact": 0.75, "recall": 0.6, "precision": 0.4, "false_on_clean": 1},
}


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "posecheck.cli",
            "eval",
            str(SAMPLES),
            "--out",
            str(out),
            "--cache",
            str(out / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out / "eval.json").read_text()), result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("exercise", sorted(FLOORS))
def test_accuracy_floors(evaluation, exercise):
    data, _ = evaluation
    summary = data["summary"]["rendered"][exercise]
    floor = FLOORS[exercise]
    assert summary["count_in_range_rate"] >= floor["exact"], summary
    tp = sum(c["tp"] for c in summary["faults"].values())
    fp = sum(c["fp"] for c in summary["faults"].values())
    fn = sum(c["fn"] for c in summary["faults"].values())
    assert tp / max(tp + fn, 1) >= floor["recall"], summary["faults"]
    assert tp / max(tp + fp, 1) >= floor["precision"], summary["faults"]
    assert summary["false_faults_on_clean_reps"] <= floor["false_on_clean"]


@pytest.mark.e2e
def test_eval_prints_the_table_and_a_stable_json(evaluation):
    data, stdout = evaluation
    assert "Rendered clips (exact labels)" in stdout and "segmental_bridge" in stdout
    assert data["schema_version"] == 2
    assert set(data["summary"]) == {"rendered"}  # no real clip in sample_videos/
    assert [c["clip"] for c in data["clips"]] == sorted(c["clip"] for c in data["clips"])
    bridge = data["summary"]["rendered"]["segmental_bridge"]
    assert bridge["landmark_pck"] > 0.6 and bridge["landmark_mean_px"] < 15  # full model on rendered people
    assert set(data["summary"]["rendered"]["overall"]) >= {
        "count_in_range",
        "mean_abs_rep_error",
        "off_by_one_rate",
        "faults",
    }


def test_reps_are_matched_by_time_overlap():
    labels = [LabelRep(1.0, 4.0, []), LabelRep(5.0, 8.0, ["hips_sag"]), LabelRep(9.0, 12.0, [])]
    found = CheckResult(
        reps=[Rep(0, "left", 5.2, 7.9), Rep(1, "left", 1.1, 3.8), Rep(2, "left", 20.0, 21.0)],
        faults_outside_reps=[],
        not_visible=[],
        frames=0,
        frames_not_visible=0,
        abandoned_attempts=0,
        counting_started_t=0.0,
    )
    assert match_reps(labels, found.reps) == {0: 1, 1: 0}


def test_legacy_label_names_map_to_spec_ids():
    labels = load_labels(SAMPLES / "bridge_side_demo.json")
    assert labels.exercise_id == "segmental_bridge"
    assert [rep.faults for rep in labels.reps] == [[], [], ["hips_not_high"]]
    assert labels.keypoints is not None


REAL_CLIPS = ROOT.parent / "shared" / "real-clips"
# Measured on ../shared/real-clips (27 clips, full model): count in range on 25, within one on 26.
# The target is 90 % in range (issue "Real people"); these floors only stop a regression.
REAL_FLOOR_IN_RANGE = 25
REAL_FLOOR_WITHIN_ONE = 26


@pytest.mark.e2e
@pytest.mark.skipif(not REAL_CLIPS.is_dir(), reason="../shared/real-clips is absent (not redistributed)")
def test_real_clips_are_counted_in_their_labelled_range(tmp_path):
    """Real people, hand labels: read from ../shared, never copied into the repository."""
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "eval", str(REAL_CLIPS), "--out", str(tmp_path),
         "--cache", os.environ.get("POSECHECK_REAL_CACHE", str(tmp_path / "cache"))],
        capture_output=True, text=True, timeout=3000, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Real people" in result.stdout
    data = json.loads((tmp_path / "eval.json").read_text())
    real = data["summary"]["real"]["overall"]
    assert real["clips"] == 27
    assert real["count_in_range"] >= REAL_FLOOR_IN_RANGE, real
    assert round(real["within_one_rate"] * real["clips"]) >= REAL_FLOOR_WITHIN_ONE, real
    # clips of other movements that share the metric must count nothing
    for clip in data["clips"]:
        if clip["clip"] == "superman_darebee_1":
            assert clip["reps_found"] == 0


def test_hand_labels_give_a_count_range():
    labels = load_labels(SAMPLES / "bridge_side_demo.json")
    assert labels.count_range == (3, 3) and not labels.real
    assert count_error(3, (2, 4)) == 0 and count_error(1, (2, 4)) == -1 and count_error(6, (2, 4)) == 2


def test_a_fault_on_a_rep_the_clip_cut_off_is_right_when_its_partial_label_has_it():
    """The recording ends in the last hold, which the label lists as a partial rep with its fault:
    flagging it is not a false alarm (and missing it is not a miss); other faults there are."""
    whole = LabelRep(1.0, 9.0, [])
    cut = LabelRep(10.0, 14.0, ["hips_not_high"])
    labels = ClipLabels("clip", Path("clip.mp4"), "segmental_bridge", 30.0, 420, "side", [whole], None,
                        partial_reps=[cut])  # fmt: skip

    def rep(i: int, start: float, end: float, *rules: str) -> Rep:
        return Rep(i, "left", start, end, faults=[FaultEvent(r, "", "fault", start, end) for r in rules])

    scored = {"hips_not_high", "hips_sag"}
    flagged_cut = [rep(0, 1.2, 8.8), rep(1, 10.3, 14.0, "hips_not_high")]
    counts, _, false_on_clean = judge_faults(labels, flagged_cut, scored, 1.0)
    assert counts == {} and false_on_clean == 0
    counts, _, _ = judge_faults(labels, [rep(0, 1.2, 8.8), rep(1, 10.3, 14.0, "hips_sag")], scored, 1.0)
    assert counts == {"hips_sag": {"tp": 0, "fp": 1, "fn": 0}}
    counts, _, false_on_clean = judge_faults(labels, [rep(0, 1.2, 8.8, "hips_sag")], scored, 1.0)
    assert counts == {"hips_sag": {"tp": 0, "fp": 1, "fn": 0}} and false_on_clean == 1


# The robustness set of the bridge demo clip (posecheck.synth.variants: a late start, reps back to
# back, a start or an end inside a hold, feet cut off, portrait, mirrored, webcam quality): made
# here from sample_videos/, scored with the real model. Floors at what was measured (README).
ROBUST_SOURCE = SAMPLES / "bridge_side_demo.json"
ROBUST_FLOOR_IN_RANGE = 8  # of 9: the portrait crop cuts the head off and MediaPipe's guessed
# shoulders fake a rep while the person gets into position (README, "Accuracy on real people")
ROBUST_FLOOR_RECALL = 1.0


@pytest.mark.e2e
def test_the_robustness_set_of_the_demo_bridge_is_counted_and_judged(tmp_path):
    from posecheck.synth.variants import RECIPE, make_robustness_set

    clips = tmp_path / "clips"
    made = make_robustness_set([ROBUST_SOURCE], clips, seed=0, log=lambda _: None)
    assert len(made) == len(RECIPE)
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "eval", str(clips), "--out", str(tmp_path / "out"),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=3000, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "eval.json").read_text())["summary"]["rendered"]["overall"]
    assert summary["clips"] == len(RECIPE)
    assert summary["count_in_range"] >= ROBUST_FLOOR_IN_RANGE, summary
    found = sum(f["tp"] for f in summary["faults"].values())
    labelled = found + sum(f["fn"] for f in summary["faults"].values())
    assert labelled > 0 and found / labelled >= ROBUST_FLOOR_RECALL, summary["faults"]
    assert summary["false_faults_on_clean_reps"] == 0, summary
