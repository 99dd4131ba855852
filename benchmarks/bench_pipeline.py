"""Speed of posecheck's analysis pipeline on the sample clip (prints figures; not a test).

Measures, on the same frames:
  (a) the bare PoseLandmarker (VIDEO mode) on frames decoded beforehand,
  (b) the whole `analyze` pipeline: decode, pose, checker, overlay, encode, report,
  and the ratio b/a (target >= 0.85 on a 2-core machine), plus
  (c) the checker alone on cached landmarks (target >= 10,000 frames/s).

Usage: python benchmarks/bench_pipeline.py [--frames 300] [--variant full] [--clip PATH]
Shared machines are noisy: compare only figures measured together.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from posecheck.analysis import analyze
from posecheck.engine import Checker
from posecheck.landmarks import LandmarkSequence
from posecheck.model_store import resolve_model
from posecheck.pose import PoseEstimator
from posecheck.source import VideoFileSource
from posecheck.spec import get_spec

ROOT = Path(__file__).resolve().parents[1]


def trimmed_copy(clip: Path, n_frames: int, out: Path) -> Path:
    """The first n frames of the clip as a new MP4 (so decode costs are part of (b))."""
    source = VideoFileSource(clip)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, source.size)
    for frame in source:
        if frame.index >= n_frames:
            break
        writer.write(frame.image)
    writer.release()
    source.close()
    return out


def bare_model_fps(clip: Path, model_path: Path) -> tuple[float, LandmarkSequence]:
    source = VideoFileSource(clip)
    frames = list(source)
    source.close()
    poses = []
    with PoseEstimator(model_path) as estimator:
        estimator.estimate(frames[0].image, -1.0)  # warm-up, outside the timing
        start = time.perf_counter()
        for frame in frames:
            poses.append(estimator.estimate(frame.image, frame.t))
        elapsed = time.perf_counter() - start
    return len(frames) / elapsed, LandmarkSequence.stack(poses, source.size)


def pipeline_fps(clip: Path, model, spec, out_dir: Path, n_frames: int) -> float:
    start = time.perf_counter()
    analyze(spec, out_dir, video=clip, model=model, show_progress=False)
    return n_frames / (time.perf_counter() - start)


def checker_fps(spec, landmarks: LandmarkSequence, repeats: int = 20) -> float:
    long = LandmarkSequence.stack([landmarks] * 5, landmarks.image_size)
    long.t = np.arange(len(long)) / 30.0
    start = time.perf_counter()
    for _ in range(repeats):
        checker = Checker(spec)
        checker.process(long)
        checker.finish()
    return repeats * len(long) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clip", type=Path, default=ROOT / "sample_videos" / "bridge_side_demo.mp4")
    parser.add_argument("--frames", type=int, default=0, help="first N frames only (0 = whole clip)")
    parser.add_argument("--variant", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument("--exercise", default="segmental_bridge")
    args = parser.parse_args()

    model = resolve_model(None, args.variant)
    spec = get_spec(args.exercise)
    with tempfile.TemporaryDirectory() as tmp:
        clip = trimmed_copy(args.clip, args.frames, Path(tmp) / "clip.mp4") if args.frames else args.clip
        n = sum(1 for _ in VideoFileSource(clip))
        pipeline_fps(clip, model, spec, Path(tmp) / "warmup", n)  # warm caches
        a, landmarks = bare_model_fps(clip, model.path)
        b = pipeline_fps(clip, model, spec, Path(tmp) / "out", n)
        a2, _ = bare_model_fps(clip, model.path)  # again, to see the machine's drift
    c = checker_fps(spec, landmarks)
    a_mean = (a + a2) / 2
    width, height = landmarks.image_size
    print(f"clip: {args.clip.name}, {n} frames {width}x{height}, model {args.variant}")
    print(f"(a) bare PoseLandmarker, pre-decoded frames : {a_mean:7.1f} frames/s  (runs: {a:.1f}, {a2:.1f})")
    print(f"(b) whole analyze pipeline                 : {b:7.1f} frames/s")
    print(f"    ratio b/a                              : {b / a_mean:7.2f}   (target >= 0.85)")
    print(f"(c) checker only, cached landmarks         : {c:7.0f} frames/s  (target >= 10,000)")


if __name__ == "__main__":
    main()
