"""The pipeline for a recorded video: source -> pose -> checker -> overlay and report.

`analyze` is what `posecheck analyze` and `posecheck demo` call. Ctrl-C stops it early and
still writes the report (and video) of what was analysed so far.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from posecheck.engine import Checker, FrameState
from posecheck.errors import UserError
from posecheck.guidance import brightness, setup_advice
from posecheck.landmarks import LandmarkSequence
from posecheck.model_store import ModelInfo
from posecheck.overlay import OverlayView, default_annotators, draw_overlay
from posecheck.report import RunInfo, build_report, frame_series, write_json_atomic
from posecheck.source import VideoFileSource
from posecheck.spec import ExerciseSpec
from posecheck.video_io import BackgroundVideoWriter, PrefetchingReader


@dataclass
class AnalysisOutputs:
    report: dict[str, Any]
    files: dict[str, Path]


def prepare_out_dir(out_dir: Path) -> Path:
    """Create the output folder or explain why it cannot be used."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file, not a folder. Choose a folder for the outputs.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".posecheck-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"Cannot write to the output folder {out_dir} ({exc.strerror or exc}). "
            "Choose another folder with --out."
        ) from exc
    return out_dir


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=True,
    )


def analyze(
    spec: ExerciseSpec,
    out_dir: Path,
    *,
    video: Path | None = None,
    landmarks_file: Path | None = None,
    model: ModelInfo | None = None,
    side: str = "auto",
    save_landmarks: bool = False,
    write_video: bool = True,
    show_progress: bool = True,
) -> AnalysisOutputs:
    """Analyse a video (running the pose model) or cached landmarks (no model needed).

    With both a video and a landmark file, the cached landmarks are drawn on the video.
    """
    out_dir = prepare_out_dir(out_dir)
    if video is None and landmarks_file is None:
        raise UserError("Give a video file or --landmarks FILE.npz to analyse.")
    cached = LandmarkSequence.load(landmarks_file) if landmarks_file is not None else None
    if video is None:
        assert cached is not None
        return _analyze_cached(spec, cached, out_dir, landmarks_file, side)

    source = VideoFileSource(video)
    stem = Path(video).stem
    files = {"report": out_dir / f"{stem}.report.json"}
    estimator = None
    if cached is None:
        if model is None:
            raise UserError("No pose model given.")
        from posecheck.pose import PoseEstimator

        estimator = PoseEstimator(model.path)
    writer = None
    if write_video:
        files["annotated video"] = out_dir / f"{stem}.annotated.mp4"
        annotators = default_annotators(spec.start.hold_s)
        writer = BackgroundVideoWriter(
            files["annotated video"],
            source.fps,
            source.size,
            render=lambda item: draw_overlay(item[0], item[1], annotators),
        )
    checker = Checker(spec, side=side)
    frames: list[LandmarkSequence] = []
    states: list[FrameState] = []
    # Hand the GIL back quickly when the model returns, so helper threads never delay it.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    reader = PrefetchingReader(source)
    interrupted = False
    try:
        with _progress(show_progress) as progress:
            task = progress.add_task(f"Analysing {Path(video).name}", total=source.frame_count)
            for frame in reader:
                if cached is not None:
                    if frame.index >= len(cached):
                        break
                    pose = cached[frame.index]
                else:
                    pose = estimator.estimate(frame.image, frame.t)
                frames.append(pose)
                state = checker.process(pose)[0]
                states.append(state)
                if writer is not None:
                    advice = None
                    if state.phase in ("not_visible", "setup"):
                        advice = setup_advice(pose, brightness(frame.image), spec)
                    writer.write((frame.image, OverlayView(pose, state, spec, advice=advice)), frame.t)
                progress.advance(task)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        sys.setswitchinterval(switch_interval)
        reader.close()
        if writer is not None:
            writer.close()
        if estimator is not None:
            estimator.close()
        source.close()

    sequence = LandmarkSequence.stack(frames, source.size)
    model_dict = _model_dict(model) if cached is None else {"cached_landmarks": str(landmarks_file)}
    run = RunInfo(
        source=str(video),
        frames=len(sequence),
        fps=source.fps,
        image_size=source.size,
        model=model_dict,
        side_option=side,
        interrupted=interrupted,
    )
    report = build_report(spec, checker.finish(), run, checker.side)
    report["series"] = frame_series(states)
    write_json_atomic(report, files["report"])
    if save_landmarks and cached is None:
        files["landmarks"] = out_dir / f"{stem}.landmarks.npz"
        sequence.save(files["landmarks"], model=json.dumps(model_dict), source=str(video))
    outputs = AnalysisOutputs(report, files)
    _check_person_seen(sequence, video, files)
    return outputs


def _analyze_cached(
    spec: ExerciseSpec, cached: LandmarkSequence, out_dir: Path, landmarks_file: Path, side: str
) -> AnalysisOutputs:
    checker = Checker(spec, side=side)
    states = checker.process(cached)
    fps = (len(cached) - 1) / (cached.t[-1] - cached.t[0]) if len(cached) > 1 else 0.0
    run = RunInfo(
        source=str(landmarks_file),
        frames=len(cached),
        fps=fps,
        image_size=cached.image_size,
        model={"cached_landmarks": str(landmarks_file)},
        side_option=side,
    )
    report = build_report(spec, checker.finish(), run, checker.side)
    report["series"] = frame_series(states)
    files = {"report": out_dir / f"{Path(landmarks_file).name.split('.')[0]}.report.json"}
    write_json_atomic(report, files["report"])
    return AnalysisOutputs(report, files)


def _model_dict(model: ModelInfo | None) -> dict[str, Any] | None:
    if model is None:
        return None
    data = asdict(model)
    data["path"] = str(model.path)
    return data


def _check_person_seen(sequence: LandmarkSequence, video: Path, files: dict[str, Path]) -> None:
    if len(sequence) and not sequence.detected.any():
        raise UserError(
            f"No person was detected in any frame of {video}. Make sure your whole body is in the "
            f"picture and well lit, then record again. (The empty report is in {files['report']}.)"
        )
