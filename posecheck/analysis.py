"""The pipeline for a recorded video: source -> pose -> checker -> overlay and report.

`analyze` is what `posecheck analyze` and `posecheck demo` call. Ctrl-C (and SIGTERM, SIGHUP)
stops it early and still writes the report (and video) of what was analysed so far. A failure
in any thread (decoding, drawing, encoding) stops it too: the report of what was analysed is
written, then `RunStopped` says what failed; a full disk ends in `DiskFull` the same way.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from posecheck import stop_signals
from posecheck.disk_space import disk_full_error, is_disk_full
from posecheck.engine import Checker
from posecheck.errors import BackgroundFailure, RunStopped, UserError
from posecheck.guidance import brightness, setup_advice
from posecheck.landmark_store import LandmarkRecorder
from posecheck.landmarks import LandmarkSequence
from posecheck.model_store import ModelInfo
from posecheck.orientation import rotation_hint
from posecheck.overlay import OverlayView, default_annotators, draw_overlay
from posecheck.person_lock import PeopleWatch, PersonLock
from posecheck.report import RunInfo, SeriesRecorder, build_report, frame_series, write_json_atomic
from posecheck.source import VideoFileSource
from posecheck.spec import ExerciseSpec
from posecheck.video_io import BackgroundVideoWriter, PrefetchingReader

PEOPLE_CHECK_EVERY_S = 5.0  # how often the picture is searched for a second person (~2 % of the model time)


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
        console=Console(file=stop_signals.HangupSafeStream(sys.stdout)),  # a closed terminal is a hangup
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
    estimator = people = None
    if cached is None:
        if model is None:
            raise UserError("No pose model given.")
        from posecheck.pose import PeopleCounter, PoseEstimator

        estimator = PoseEstimator(model.path)
        people = PeopleCounter(model.path)
    writer = None
    if write_video:
        files["annotated video"] = out_dir / f"{stem}.annotated.mp4"
        annotators = default_annotators(spec.start.hold_s)
        try:
            writer = BackgroundVideoWriter(
                files["annotated video"],
                source.fps,
                source.size,
                render=lambda item: draw_overlay(item[0], item[1], annotators),
            )
        except BaseException:
            if estimator is not None:
                estimator.close()
                people.close()
            source.close()
            raise
    checker = Checker(spec, side=side)
    lock, watch, next_people_check = PersonLock(), PeopleWatch(), 0.0
    # per-frame data in bounded memory, whatever the video's length (landmarks spooled to disk
    # only when they are to be saved)
    keep_all = save_landmarks and cached is None
    recorder = LandmarkRecorder(source.size, spool_dir=out_dir if keep_all else None)
    series = SeriesRecorder()
    # Hand the GIL back quickly when the model returns, so helper threads never delay it.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    reader = PrefetchingReader(source)
    interrupted = False
    failure: BaseException | None = None
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
                    if frame.t >= next_people_check:
                        watch.record(frame.t, people.count(frame.image))
                        next_people_check = frame.t + PEOPLE_CHECK_EVERY_S
                pose = lock.follow(pose)  # never another person's landmarks
                state = checker.process(pose)[0]
                if writer is not None:
                    advice = None
                    if state.phase in ("not_visible", "setup"):
                        advice = setup_advice(pose, brightness(frame.image), spec)
                    writer.write((frame.image, OverlayView(pose, state, spec, advice=advice)), frame.t)
                # recorded once written: a stop that comes while the writer's queue is full (the
                # likeliest moment) leaves the report and the video with the same frames
                recorder.add(pose)
                series.add(state)
                progress.advance(task)
    except KeyboardInterrupt:
        interrupted = True
    except UserError:
        recorder.close()
        raise
    except Exception as exc:  # a thread (or this loop) failed: keep what was analysed
        failure = exc
    finally:
        with stop_signals.finishing():
            sys.setswitchinterval(switch_interval)
            reader.close()
            if writer is not None:
                writer.close()
            if estimator is not None:
                estimator.close()
                people.close()
            source.close()
    with stop_signals.finishing():  # a second signal must not cost the report
        if writer is not None and failure is None and writer.error is not None:
            failure = BackgroundFailure(writer.failed_task, writer.error)
        if writer is not None and writer.error is not None:
            files.pop("annotated video", None)  # close() removed it: never a broken file
        frame_count = recorder.frames
        model_dict = _model_dict(model) if cached is None else {"cached_landmarks": str(landmarks_file)}
        run = RunInfo(
            source=str(video),
            frames=frame_count,
            fps=source.fps,
            image_size=source.size,
            model=model_dict,
            side_option=side,
            interrupted=interrupted or failure is not None,
            source_stopped_early=source.stopped_early,
        )
        report = build_report(spec, checker.finish(), run, checker.side)
        report["series"] = series.series()
        report["warnings"] = list(source.warnings)
        hints = (watch.warning(lock.left_out), rotation_hint(recorder.sample(), spec))
        report["warnings"] += [hint for hint in hints if hint]
        stopped_by = stop_signals.interrupt_name() if interrupted else None
        report["stopped_by"] = "error" if failure is not None else stopped_by
        if failure is not None:
            report["error"] = str(failure)
        note = f"The report of the {frame_count} frames analysed was written to {files['report']}."
        report_written = False
        try:
            write_json_atomic(report, files["report"])
            report_written = True
            if keep_all:
                files["landmarks"] = out_dir / f"{stem}.landmarks.npz"
                _save_atomic(recorder, files["landmarks"], model=json.dumps(model_dict), source=str(video))
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            if not report_written:
                note = "Not even the JSON report could be written."
            needed = len(json.dumps(report)) + (_landmarks_bytes(frame_count) if keep_all else 0)
            raise disk_full_error(out_dir, needed, note) from exc
        finally:
            recorder.close()
    if failure is not None:
        _raise_stopped(failure, writer, source.frame_count or frame_count, note, out_dir)
    outputs = AnalysisOutputs(report, files)
    if frame_count and not recorder.any_detected:
        _no_person(video, files)
    return outputs


def _raise_stopped(
    failure: BaseException, writer: BackgroundVideoWriter | None, total_frames: int, note: str, out_dir: Path
) -> None:
    """One line: what failed, and where the report of the frames analysed before it is."""
    if is_disk_full(failure):
        per_frame = writer.bytes_per_frame if writer is not None else 0.0
        needed = int(per_frame * total_frames) if per_frame else None
        video_note = "The annotated video was not kept. " if writer is not None else ""
        raise disk_full_error(out_dir, needed, video_note + note) from failure
    drawing = isinstance(failure, BackgroundFailure) and failure.task == "drawing the overlay"
    hint = " (or --no-video to skip the annotated video)" if drawing else ""
    raise RunStopped(
        f"posecheck stopped: {failure}. {note} Run again with --debug for the details{hint}."
    ) from failure


def _save_atomic(recorder: LandmarkRecorder, path: Path, **metadata: str) -> None:
    """Save landmarks under a temporary name first, so a full disk never leaves half a file."""
    tmp = path.with_name(f".{path.stem}.partial.npz")
    try:
        recorder.save(tmp, **metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _landmarks_bytes(frames: int) -> int:
    return int(frames * (33 * 7 + 1) * 4)


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


def _no_person(video: Path, files: dict[str, Path]) -> None:
    raise UserError(
        f"No person was detected in any frame of {video}. Make sure your whole body is in the "
        f"picture and well lit, then record again. (The empty report is in {files['report']}.)"
    )
