"""Peak memory of `posecheck analyze` against the video's length (prints figures; not a test).

Builds a short and a long clip by looping the sample clip (default 1 and 10 minutes, at 320x240
so decoding and encoding stay cheap), runs the real `posecheck analyze` on each in its own
process and reports each process's peak resident memory (ru_maxrss). Target: the long clip's
peak within 10 % of the short one's, i.e. memory does not grow with the video's length.

Usage: python benchmarks/bench_memory.py [--minutes 1 10] [--variant lite] [--save-landmarks]
Shared machines are noisy for time, not for memory; the two runs are still best made together.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
SIZE = (320, 240)

# Runs `posecheck analyze ARGS` as a child and prints the child's peak RSS in KB (Linux: ru_maxrss).
MEASURE = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "posecheck.cli", *sys.argv[1:]], capture_output=True, text=True)
if done.returncode != 0:
    sys.exit(done.stderr[-2000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def looped_clip(minutes: float, out: Path) -> Path:
    """The sample clip looped to `minutes`, at 320x240."""
    source = cv2.VideoCapture(str(DEMO))
    fps = source.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, image = source.read()
        if not ok:
            break
        frames.append(cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA))
    source.release()
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, SIZE)
    for i in range(int(minutes * 60 * fps)):
        writer.write(frames[i % len(frames)])
    writer.release()
    return out


def peak_rss_mb(clip: Path, out: Path, variant: str, save_landmarks: bool) -> tuple[float, float]:
    args = ["analyze", str(clip), "--out", str(out), "--model-variant", variant, "--no-history"]
    if save_landmarks:
        args.append("--save-landmarks")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, "POSECHECK_DATA_DIR": str(out / "data")},
    )  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--variant", default="lite", choices=["lite", "full", "heavy"])
    parser.add_argument("--save-landmarks", action="store_true")
    options = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in options.minutes:
            clip = looped_clip(minutes, Path(tmp) / f"loop_{minutes:g}min.mp4")
            peak, seconds = peak_rss_mb(
                clip, Path(tmp) / f"out_{minutes:g}", options.variant, options.save_landmarks
            )
            results.append({"minutes": minutes, "peak_rss_mb": round(peak, 1), "seconds": round(seconds, 1)})
            print(f"{minutes:g} min: peak RSS {peak:.1f} MB ({seconds:.0f} s)", flush=True)
    growth = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"] - 1
    print(json.dumps({"runs": results, "growth": round(growth, 3), "target": "<= 0.10"}, indent=2))


if __name__ == "__main__":
    main()
