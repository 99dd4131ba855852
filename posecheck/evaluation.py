"""The accuracy harness: run the checkers on labelled clips and score them against the labels.

A labelled clip is `NAME.mp4` with a `NAME.json` label file (the format written by
`posecheck.synth` and used by `sample_videos/`), optionally with `NAME.npz` ground-truth
keypoints. Landmarks are cached per clip and model, so re-scoring after a checker change
does not re-run the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from posecheck.engine import Checker, Rep
from posecheck.errors import UserError
from posecheck.landmarks import LandmarkSequence
from posecheck.model_store import ModelInfo
from posecheck.source import VideoFileSource
from posecheck.spec import ExerciseSpec

EVAL_SCHEMA_VERSION = 2  # 2: real and rendered clips summarised apart; counts judged against a range
BODY_LANDMARKS = list(range(11, 17)) + list(range(23, 33))  # shoulders to wrists, hips to feet
PCK_FRACTION = 0.1  # a landmark is correct within this fraction of the torso length
# Exercise names used by older label files (the shared prototype) -> the program's ids.
LEGACY_EXERCISE_IDS = {
    "glute_bridge": "segmental_bridge",
    "bird_dog": "bird_dog",
    "hip_hinge": "hip_hinge_dowel",
    "plank": "plank_elbows_knees",
    "dead_bug": "dead_bug",
}
# Fault names used by label files that differ from the specs' rule ids.
LEGACY_FAULT_IDS = {"not_held": "hold_short"}


@dataclass
class LabelRep:
    start_s: float
    end_s: float
    faults: list[str]
    fault_windows: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.faults


@dataclass
class ClipLabels:
    name: str
    video: Path
    exercise_id: str
    fps: float
    n_frames: int
    view: str
    reps: list[LabelRep]
    keypoints: Path | None
    vocabulary: set[str] | None = None  # the faults the clip's maker could inject, when it says
    count_range: tuple[int, int] = (0, 0)  # any count in [low, high] is right (high adds cut-off attempts)
    real: bool = False  # real people filmed (hand labels), not a render
    reps_known: bool = True  # False when a hand label gives only the count, not each rep's frames
    partial_reps: list[LabelRep] = field(default_factory=list)  # cut off by the clip's start or end

    @property
    def kind(self) -> str:
        return "real" if self.real else "rendered"


def find_clips(paths: Iterable[Path]) -> list[Path]:
    """Label files (NAME.json beside NAME.mp4) in the given files and folders."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(p for p in sorted(path.glob("*.json")) if p.with_suffix(".mp4").is_file())
        elif path.suffix == ".mp4" and path.with_suffix(".json").is_file():
            found.append(path.with_suffix(".json"))
        elif path.suffix == ".json" and path.with_suffix(".mp4").is_file():
            found.append(path)
        else:
            raise UserError(f"{path} is not a labelled clip (NAME.mp4 with NAME.json) or a folder of them.")
    if not found:
        raise UserError("No labelled clips found (NAME.mp4 with a NAME.json label file).")
    return found


def load_labels(label_file: Path) -> ClipLabels:
    """Read a label file: a render's (every rep with its frames) or a real clip's hand label
    (`rep_count`..`rep_count_max`, `reps` null where only the count is known)."""
    try:
        data = json.loads(Path(label_file).read_text())
        fps = float(data["fps"])
        exercise = data.get("exercise_id") or data["exercise"]
        def label_rep(rep: dict) -> LabelRep:
            faults = [LEGACY_FAULT_IDS.get(f, f) for f in rep.get("faults", [])]
            windows = {
                LEGACY_FAULT_IDS.get(f, f): (a / fps, b / fps)
                for f, (a, b) in rep.get("fault_frames", {}).items()
            }
            return LabelRep(rep["start_frame"] / fps, rep["end_frame"] / fps, faults, windows)

        reps = [label_rep(rep) for rep in data["reps"] or []]
        partial = [label_rep(rep) for rep in data.get("partial_reps") or [] if "start_frame" in rep]
        low = int(data.get("rep_count", len(reps)))
        high = int(data.get("rep_count_max", low + len(data.get("partial_reps") or [])))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"Cannot read the label file {label_file}: {exc!r}") from exc
    if high < low:
        raise UserError(f"Cannot read the label file {label_file}: rep_count_max {high} < rep_count {low}")
    vocabulary = data.get("fault_vocabulary")
    keypoints = Path(label_file).with_suffix(".npz")
    return ClipLabels(
        name=Path(label_file).stem,
        video=Path(label_file).with_suffix(".mp4"),
        exercise_id=LEGACY_EXERCISE_IDS.get(exercise, exercise),
        fps=fps,
        n_frames=int(data.get("n_frames", 0)),
        view=str(data.get("view", "")),
        reps=reps,
        keypoints=keypoints if keypoints.is_file() else None,
        vocabulary=None if vocabulary is None else {LEGACY_FAULT_IDS.get(f, f) for f in vocabulary},
        count_range=(low, high),
        real=bool(data.get("real", False)),
        reps_known=data["reps"] is not None,
        partial_reps=partial,
    )


def count_error(found: int, count_range: tuple[int, int]) -> int:
    """How far a count is outside the labelled range (0 inside it; negative = too few)."""
    low, high = count_range
    return found - low if found < low else max(found - high, 0)


def cached_landmarks(
    labels: ClipLabels, model: ModelInfo, cache_dir: Path, progress: Progress
) -> LandmarkSequence:
    """The clip's landmarks, from the cache when the same model made them before."""
    cache = Path(cache_dir) / f"{labels.name}.{model.sha256[:12]}.landmarks.npz"
    if cache.is_file():
        return LandmarkSequence.load(cache)
    from posecheck.pose import PoseEstimator

    source = VideoFileSource(labels.video)
    task = progress.add_task(f"pose {labels.name}", total=source.frame_count)
    frames = []
    with PoseEstimator(model.path) as estimator:
        for frame in source:
            frames.append(estimator.estimate(frame.image, frame.t))
            progress.advance(task)
    source.close()
    progress.remove_task(task)
    sequence = LandmarkSequence.stack(frames, source.size)
    cache.parent.mkdir(parents=True, exist_ok=True)
    sequence.save(cache, model=model.sha256, source=str(labels.video))
    return sequence


# --- scoring one clip -------------------------------------------------------------------------


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def match_reps(labels: list[LabelRep], reps: Sequence[Rep]) -> dict[int, int]:
    """Label rep index -> predicted rep index, greedily by largest time overlap."""
    pairs = sorted(
        (
            (_overlap((lab.start_s, lab.end_s), (rep.start_t, rep.end_t)), i, j)
            for i, lab in enumerate(labels)
            for j, rep in enumerate(reps)
        ),
        reverse=True,
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for overlap, i, j in pairs:
        if overlap > 0 and i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched


def judge_faults(
    labels: ClipLabels, found: Sequence[Rep], scored: set[str], tolerance_s: float
) -> tuple[dict[str, dict[str, int]], dict[str, int], int]:
    """Per fault: true/false positives and misses; the labelled faults not scored; false faults on
    clean reps. Found reps are matched to labelled ones by time overlap."""
    matched = match_reps(labels.reps, found)
    fault_counts: dict[str, dict[str, int]] = {}
    unchecked: dict[str, int] = {}

    def count(rule: str, key: str) -> None:
        fault_counts.setdefault(rule, {"tp": 0, "fp": 0, "fn": 0})[key] += 1

    # recall: every labelled fault must be flagged on the matching predicted rep, near its frames
    for i, lab in enumerate(labels.reps):
        rep = found[matched[i]] if i in matched else None
        for fault in lab.faults:
            if fault not in scored:
                unchecked[fault] = unchecked.get(fault, 0) + 1
                continue
            window = lab.fault_windows.get(fault, (lab.start_s, lab.end_s))
            near = (window[0] - tolerance_s, window[1] + tolerance_s)
            hit = rep is not None and any(
                f.rule == fault and (fault == "hold_short" or (f.start_t <= near[1] and f.end_t >= near[0]))
                for f in rep.faults
            )
            count(fault, "tp" if hit else "fn")
    # precision: every flagged fault must be a labelled fault of the matching labelled rep
    # (a rep the clip cut off is matched to its partial label: a fault labelled there is right,
    # though not required, since the cut may come before the fault would show)
    label_of = {j: i for i, j in matched.items()}
    unmatched = [j for j in range(len(found)) if j not in label_of]
    cut = match_reps(labels.partial_reps, [found[j] for j in unmatched])
    partial_of = {unmatched[k]: i for i, k in cut.items()}
    false_on_clean = 0
    for j, rep in enumerate(found):
        lab = labels.reps[label_of[j]] if j in label_of else None
        for fault in {f.rule for f in rep.faults} & scored:
            if lab is None and j in partial_of and fault in labels.partial_reps[partial_of[j]].faults:
                continue
            if lab is None or fault not in lab.faults:
                count(fault, "fp")
                if lab is not None and lab.clean:
                    false_on_clean += 1
    return fault_counts, unchecked, false_on_clean


def score_clip(
    spec: ExerciseSpec, labels: ClipLabels, landmarks: LandmarkSequence, tolerance_s: float
) -> dict:
    checker = Checker(spec)
    checker.process(landmarks)
    result = checker.finish()
    # Score only faults the spec checks and the clip's maker could have put in: a labelled fault
    # the spec cannot check is listed as unchecked, not as a miss.
    scored = {rule.id for rule in spec.rules} | {"hold_short"}
    if labels.vocabulary is not None:
        scored &= labels.vocabulary
    fault_counts, unchecked, false_on_clean = judge_faults(labels, result.reps, scored, tolerance_s)
    clean_reps = sum(lab.clean for lab in labels.reps)
    score: dict[str, Any] = {
        "clip": labels.name,
        "exercise": labels.exercise_id,
        "view": labels.view,
        "frames": len(landmarks),
        "real": labels.real,
        "reps_true": labels.count_range[0],
        "reps_true_max": labels.count_range[1],
        "reps_found": len(result.reps),
        "rep_error": count_error(len(result.reps), labels.count_range),
        "good_reps_true": clean_reps,
        "good_reps_found": result.good_reps,
        "faults": fault_counts,
        "unchecked_label_faults": unchecked,
        "false_faults_on_clean_reps": false_on_clean,
        "clean_reps": clean_reps,
        "frames_without_verdict": result.frames_not_visible,
    }
    if labels.keypoints is not None:
        score["landmarks"] = landmark_error(landmarks, labels.keypoints)
    return score


def landmark_error(landmarks: LandmarkSequence, keypoints_file: Path) -> dict[str, float]:
    """Mean pixel error and PCK of the body landmarks against ground truth keypoints."""
    with np.load(keypoints_file) as data:
        truth = data["kp2d"].astype(float)
        inside = data["in_frame"].astype(bool) if "in_frame" in data.files else np.ones(truth.shape[:2], bool)
    n = min(len(truth), len(landmarks))
    truth, inside, found = truth[:n], inside[:n], landmarks.xy[:n]
    torso = np.linalg.norm(truth[:, [11, 12]].mean(axis=1) - truth[:, [23, 24]].mean(axis=1), axis=1)
    errors = np.linalg.norm(found[:, BODY_LANDMARKS] - truth[:, BODY_LANDMARKS], axis=2)
    valid = inside[:, BODY_LANDMARKS] & np.isfinite(errors)
    missed = inside[:, BODY_LANDMARKS] & ~np.isfinite(errors)
    correct = (errors < PCK_FRACTION * torso[:, None]) & valid
    considered = valid.sum() + missed.sum()
    return {
        "mean_px": round(float(errors[valid].mean()), 2) if valid.any() else float("nan"),
        "median_px": round(float(np.median(errors[valid])), 2) if valid.any() else float("nan"),
        "pck": round(float(correct.sum() / considered), 4) if considered else float("nan"),
    }


# --- summaries --------------------------------------------------------------------------------


def summarise(scores: list[dict]) -> dict[str, Any]:
    """Figures per kind of clip (`rendered`, `real`), per exercise and overall (README 'Accuracy').

    Real and rendered clips are never pooled: renders have exact labels and every fault, real
    clips are the world.
    """
    summary: dict[str, Any] = {}
    for kind in ("rendered", "real"):
        group = [s for s in scores if s["real"] == (kind == "real")]
        if not group:
            continue
        by_exercise: dict[str, list[dict]] = {}
        for score in group:
            by_exercise.setdefault(score["exercise"], []).append(score)
        summary[kind] = {name: _group_summary(g) for name, g in sorted(by_exercise.items())}
        summary[kind]["overall"] = _group_summary(group)
    return summary


def _group_summary(scores: list[dict]) -> dict[str, Any]:
    errors = [s["rep_error"] for s in scores]
    faults: dict[str, dict[str, int]] = {}
    for score in scores:
        for rule, counts in score["faults"].items():
            total = faults.setdefault(rule, {"tp": 0, "fp": 0, "fn": 0})
            for key in total:
                total[key] += counts[key]
    per_fault = {
        rule: {
            **c,
            "precision": round(c["tp"] / (c["tp"] + c["fp"]), 3) if c["tp"] + c["fp"] else None,
            "recall": round(c["tp"] / (c["tp"] + c["fn"]), 3) if c["tp"] + c["fn"] else None,
        }
        for rule, c in sorted(faults.items())
    }
    landmark_scores = [s["landmarks"] for s in scores if "landmarks" in s]
    clean = sum(s["clean_reps"] for s in scores)
    unchecked: dict[str, int] = {}
    for score in scores:
        for fault, n in score["unchecked_label_faults"].items():
            unchecked[fault] = unchecked.get(fault, 0) + n
    return {
        "clips": len(scores),
        "count_in_range": sum(e == 0 for e in errors),
        "count_in_range_rate": round(sum(e == 0 for e in errors) / len(scores), 3),
        "within_one_rate": round(sum(abs(e) <= 1 for e in errors) / len(scores), 3),
        "mean_abs_rep_error": round(float(np.mean(np.abs(errors))), 3),
        "off_by_one_rate": round(sum(abs(e) == 1 for e in errors) / len(scores), 3),
        "faults": per_fault,
        "unchecked_label_faults": dict(sorted(unchecked.items())),
        "false_faults_on_clean_reps": sum(s["false_faults_on_clean_reps"] for s in scores),
        "clean_reps": clean,
        "frames_without_verdict": sum(s["frames_without_verdict"] for s in scores),
        "frames": sum(s["frames"] for s in scores),
        "landmark_mean_px": round(float(np.mean([x["mean_px"] for x in landmark_scores])), 2)
        if landmark_scores
        else None,
        "landmark_pck": round(float(np.mean([x["pck"] for x in landmark_scores])), 4)
        if landmark_scores
        else None,
    }


def evaluate(
    paths: list[Path],
    specs: dict[str, ExerciseSpec],
    model: ModelInfo,
    cache_dir: Path,
    tolerance_s: float = 1.0,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Score every labelled clip found in `paths`; clips of exercises without a spec are listed as skipped."""
    label_files = find_clips(paths)
    scores, skipped = [], []
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), disable=not show_progress
    )
    with progress:
        task = progress.add_task("clips", total=len(label_files))
        for label_file in label_files:
            labels = load_labels(label_file)
            spec = specs.get(labels.exercise_id)
            if spec is None:
                skipped.append(
                    {"clip": labels.name, "reason": f"no spec for exercise {labels.exercise_id!r}"}
                )
            else:
                landmarks = cached_landmarks(labels, model, cache_dir, progress)
                scores.append(score_clip(spec, labels, landmarks, tolerance_s))
            progress.advance(task)
    if not scores:
        raise UserError("None of the clips is of an exercise posecheck has a spec for.")
    return {
        "schema_version": EVAL_SCHEMA_VERSION,
        "model": {"variant": model.variant, "sha256": model.sha256},
        "tolerance_s": tolerance_s,
        "clips": sorted(scores, key=lambda s: s["clip"]),
        "skipped": skipped,
        "summary": summarise(scores),
    }


KIND_TITLES = {
    "rendered": "Rendered clips (exact labels)",
    "real": "Real people (hand labels; a count is right anywhere in the labelled range)",
}


def print_tables(evaluation: dict[str, Any], console) -> None:
    """Per kind of clip (rendered, real): the per-exercise table and the per-clip table."""
    for kind, groups in evaluation["summary"].items():
        console.print(_exercise_table(KIND_TITLES[kind], groups))
        clips = [c for c in evaluation["clips"] if c["real"] == (kind == "real")]
        console.print(_clip_table(f"{kind.capitalize()} clips", clips))
        for name, s in groups.items():
            if s["unchecked_label_faults"] and name != "overall":
                faults = ", ".join(f"{f} ({n})" for f, n in s["unchecked_label_faults"].items())
                console.print(f"[dim]{name}: labelled faults the spec does not check: {faults}[/]")
    for item in evaluation["skipped"]:
        console.print(f"[yellow]skipped {item['clip']}: {item['reason']}[/]")


def _exercise_table(title: str, groups: dict[str, Any]):
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in (
        "exercise",
        "clips",
        "count right",
        "within 1",
        "mean |err|",
        "faults: precision / recall",
        "false faults on clean reps",
        "landmark px",
        "PCK",
        "no verdict",
    ):
        table.add_column(column)
    for name, s in groups.items():
        faults = (
            ", ".join(f"{rule} {_fmt(c['precision'])}/{_fmt(c['recall'])}" for rule, c in s["faults"].items())
            or "-"
        )
        table.add_row(
            name,
            str(s["clips"]),
            f"{s['count_in_range']}/{s['clips']}",
            f"{s['within_one_rate']:.0%}",
            f"{s['mean_abs_rep_error']:.2f}",
            faults,
            f"{s['false_faults_on_clean_reps']} of {s['clean_reps']}",
            _fmt(s["landmark_mean_px"]),
            _fmt(s["landmark_pck"]),
            f"{s['frames_without_verdict']}/{s['frames']}",
        )
    return table


def _clip_table(title: str, clips: list[dict]):
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in ("clip", "exercise", "reps found", "labelled", "good found/true", "faults (tp/fp/fn)"):
        table.add_column(column)
    for c in clips:
        faults = (
            ", ".join(f"{r} {v['tp']}/{v['fp']}/{v['fn']}" for r, v in sorted(c["faults"].items())) or "-"
        )
        low, high = c["reps_true"], c["reps_true_max"]
        found = str(c["reps_found"]) if c["rep_error"] == 0 else f"[red]{c['reps_found']}[/]"
        table.add_row(
            c["clip"],
            c["exercise"],
            found,
            str(low) if low == high else f"{low}-{high}",
            f"{c['good_reps_found']}/{c['good_reps_true']}",
            faults,
        )
    return table


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)
