"""Whole-process speed: `posecheck analyze` against the bare PoseLandmarker, both as whole processes.

Times, on the same clip (60+ seconds; by default the sample clip twice over, 67 s, encoded as
H.264 like a phone video), each as a fresh process from start to exit:
  (a) the bare model: a minimal script that decodes the clip with PyAV and runs the PoseLandmarker
      (VIDEO mode, same model) on every frame, nothing else;
  (b) `posecheck analyze CLIP`: decode, pose, checker, overlay, H.264 encode, JSON and HTML reports;
and prints frames/s of each, the ratio b/a (target >= 0.9), and start-up times: `posecheck --help`
and `posecheck analyze` from process start to the first frame handed to the model (target < 1.5 s).
Runs alternate a, b, a, b... so that the machine's drift falls on both.

Usage: python benchmarks/bench_whole_process.py [--clip PATH] [--rounds 2] [--variant full]
Shared machines are noisy: compare only figures measured together.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from posecheck.av_video import H264Writer, VideoFileReader
from posecheck.model_store import resolve_model

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"

BARE_MODEL = """
import sys
import av
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

model, clip = sys.argv[1], sys.argv[2]
options = vision.PoseLandmarkerOptions(
    base_options=BaseOptions(model_asset_path=model), running_mode=vision.RunningMode.VIDEO, num_poses=1
)
frames, last_ms = 0, -1
with vision.PoseLandmarker.create_from_options(options) as landmarker, av.open(clip) as container:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    for frame in container.decode(stream):
        ms = max(int(round(frame.time * 1000)), last_ms + 1)
        last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.to_ndarray(format="rgb24"))
        landmarker.detect_for_video(image, ms)
        frames += 1
print(frames)
"""


def long_clip(out: Path, repeats: int = 2) -> Path:
    """The sample clip `repeats` times over, as one H.264 MP4 with continuous times."""
    with VideoFileReader(DEMO) as first:
        fps, size = first.fps, first.size
    with H264Writer(out, fps, size) as writer:
        for _ in range(repeats):
            with VideoFileReader(DEMO) as reader:
                for image, _ in reader:
                    writer.write(image)
    return out


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(seconds from start to exit, CPU seconds it used (all its threads), the finished process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:4])}... failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed, cpu, result


def startup_to_first_frame(clip: Path, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from the start of `posecheck analyze` to its first frame handed to
    the model; the process is stopped there. CPU time is what the start-up costs on an idle machine."""
    command = [sys.executable, "-m", "posecheck.cli", "analyze", str(clip), "--out", str(out), "--no-history"]
    started_at = time.time()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if line.startswith("posecheck-timing first-frame "):
                _, _, at, cpu = line.split()
                return float(at) - started_at, float(cpu)
        sys.exit(f"posecheck analyze ended before its first frame (exit {process.wait()})")
    finally:
        process.kill()
        process.wait()


def _seconds(times: list[float]) -> str:
    return ", ".join(f"{t:.1f} s" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clip", type=Path, help="a 60+ s clip (default: the sample clip twice over)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variant", default="full", choices=["lite", "full", "heavy"])
    args = parser.parse_args()

    model = resolve_model(None, args.variant)
    env = {**os.environ, "POSECHECK_TIMING": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.clip or long_clip(Path(tmp) / "long.mp4")
        with VideoFileReader(clip) as reader:
            frames = sum(1 for _ in reader)
            size, fps = reader.size, reader.fps
        bare_cmd = [sys.executable, "-c", BARE_MODEL, str(model.path), str(clip)]
        analyze_cmd = [
            sys.executable, "-m", "posecheck.cli", "analyze", str(clip), "--out", str(Path(tmp) / "out"),
            "--no-history", "--model-variant", args.variant,
        ]  # fmt: skip
        help_cmd = [sys.executable, "-m", "posecheck.cli", "--help"]
        bare, whole, bare_cpu, whole_cpu = [], [], [], []
        for _ in range(args.rounds):
            elapsed, cpu, result = timed(bare_cmd, env)
            assert int(result.stdout.split()[-1]) == frames
            bare.append(elapsed)
            bare_cpu.append(cpu)
            elapsed, cpu, _ = timed(analyze_cmd, env)
            whole.append(elapsed)
            whole_cpu.append(cpu)
        helps = [timed(help_cmd, env)[0] for _ in range(5)]
        starts = [startup_to_first_frame(DEMO, Path(tmp) / "start", env) for _ in range(5)]

    a = frames / statistics.mean(bare)
    b = frames / statistics.mean(whole)
    print(f"clip: {clip.name if args.clip else 'sample clip x2'}, {frames} frames {size[0]}x{size[1]} "
          f"at {fps:.0f} fps ({frames / fps:.0f} s), model {args.variant}, {args.rounds} rounds")  # fmt: skip
    print(f"(a) bare model, whole process     : {a:6.1f} frames/s  (runs: {_seconds(bare)})")
    print(f"(b) posecheck analyze, whole      : {b:6.1f} frames/s  (runs: {_seconds(whole)})")
    print(f"    ratio b/a                     : {b / a:6.2f}   (target >= 0.9)")
    a_cpu = statistics.mean(bare_cpu) / frames * 1000
    b_cpu = statistics.mean(whole_cpu) / frames * 1000
    cpu_ratio = a_cpu / b_cpu
    print(f"CPU a frame, all threads : (a) {a_cpu:5.1f} ms, (b) {b_cpu:5.1f} ms, a/b {cpu_ratio:.2f}")
    print("    (CPU time is disturbed less than wall time by other processes on a shared machine)")
    help_s = statistics.median(helps)
    print(f"start-up: posecheck --help        : {help_s:6.2f} s  (median of 5; target < 1.5 s)")
    wall = statistics.median(s[0] for s in starts)
    cpu = statistics.median(s[1] for s in starts)
    print(f"start-up: analyze to first frame  : {wall:6.2f} s  (median of 5; CPU {cpu:.2f} s; target 1.5 s)")
    print(f"load average at the end           : {os.getloadavg()[0]:6.2f}  (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
