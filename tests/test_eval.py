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

from posecheck.engine import CheckResult, Rep
from posecheck.evaluation import LabelRep, load_labels, match_reps

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
    summary = data["summary"][exercise]
    floor = FLOORS[exercise]
    assert summary["exact_rep_count_rate"] >= floor["exact"], summary
    tp = sum(c["tp"] for c in summary["faults"].values())
    fp = sum(c["fp"] for c in summary["faults"].values())
    fn = sum(c["fn"] for c in summary["faults"].values())
    assert tp / max(tp + fn, 1) >= floor["recall"], summary["faults"]
    assert tp / max(tp + fp, 1) >= floor["precision"], summary["faults"]
    assert summary["false_faults_on_clean_reps"] <= floor["false_on_clean"]


@pytest.mark.e2e
def test_eval_prints_the_table_and_a_stable_json(evaluation):
    data, stdout = evaluation
    assert "Accuracy per exercise" in stdout and "segmental_bridge" in stdout
    assert data["schema_version"] == 1
    assert [c["clip"] for c in data["clips"]] == sorted(c["clip"] for c in data["clips"])
    bridge = data["summary"]["segmental_bridge"]
    assert bridge["landmark_pck"] > 0.6 and bridge["landmark_mean_px"] < 15  # full model on rendered people
    assert set(data["summary"]["overall"]) >= {
        "exact_rep_count",
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
    assert match_reps(labels, found) == {0: 1, 1: 0}


def test_legacy_label_names_map_to_spec_ids():
    labels = load_labels(SAMPLES / "bridge_side_demo.json")
    assert labels.exercise_id == "segmental_bridge"
    assert [rep.faults for rep in labels.reps] == [[], [], ["hips_not_high"]]
    assert labels.keypoints is not None
