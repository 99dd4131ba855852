"""Latency and frame rate of the live trainer, with the sample clip played as a camera (prints figures).

Latency is the time from a frame becoming available (captured) to its overlay being ready.
Target: latency <= the model's own time per frame + one frame interval.

Usage: python benchmarks/bench_live.py [--clip PATH] [--variant full] [--seconds 20]
Shared machines are noisy: compare only figures measured together.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from posecheck.live import LiveSession
from posecheck.model_store import resolve_model
from posecheck.pose import PoseEstimator
from posecheck.source import VideoFileSource
from posecheck.spec import get_spec

ROOT = Path(__file__).resolve().parents[1]


def model_ms_per_frame(clip: Path, model_path: Path, n: int = 200) -> float:
    source = VideoFileSource(clip)
    frames = [f for f, _ in zip(source, range(n), strict=False)]
    source.close()
    with PoseEstimator(model_path) as estimator:
        estimator.estimate(frames[0].image, -1.0)
        start = time.perf_counter()
        for frame in frames:
            estimator.estimate(frame.image, frame.t)
        return (time.perf_counter() - start) / len(frames) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clip", type=Path, default=ROOT / "sample_videos" / "bridge_side_demo.mp4")
    parser.add_argument("--variant", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop after this long (default: whole clip)"
    )
    args = parser.parse_args()

    model = resolve_model(None, args.variant)
    spec = get_spec("segmental_bridge")
    with tempfile.TemporaryDirectory() as tmp:
        session = LiveSession(
            [spec], str(args.clip), model, Path(tmp), headless=True, max_seconds=args.seconds
        )
        outcome = session.run()
    model_ms = model_ms_per_frame(args.clip, model.path)
    fps = VideoFileSource(args.clip).fps
    latencies = np.array(session.latencies)
    budget = model_ms + 1000.0 / fps
    print(f"clip {args.clip.name} played as a {fps:.0f} fps camera, model {args.variant}")
    print(f"live frame rate           : {outcome.mean_fps:6.1f} frames/s ({outcome.frames} frames processed)")
    print(
        f"latency capture->overlay  : mean {latencies.mean():5.1f} ms, median {np.median(latencies):5.1f}, "
        f"p95 {np.percentile(latencies, 95):5.1f}"
    )
    print(f"model alone               : {model_ms:5.1f} ms/frame")
    verdict = "met" if np.median(latencies) <= budget else "NOT met"
    print(f"target (model + 1 frame)  : {budget:5.1f} ms -> {verdict}")


if __name__ == "__main__":
    main()
