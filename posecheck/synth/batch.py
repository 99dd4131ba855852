"""The sample set in sample_videos/: a fixed list of clips with fixed seeds, rendered with at
most `--jobs` processes at once (default 2, one per core).

    python -m posecheck.synth.batch --out sample_videos            # all of them
    python -m posecheck.synth.batch --out /tmp/x --only synth_bird_dog_side_a
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# name -> CLI arguments of `python -m posecheck.synth` (besides --out and --name)
SAMPLE_SET: dict[str, list[str]] = {
    "synth_segmental_bridge_side_a": [
        "--exercise",
        "segmental_bridge",
        "--view",
        "side",
        "--seed",
        "101",
        "--hold-s",
        "5.5",
        "--reps",
        "none,knees_drift,hips_sag",
    ],
    "synth_segmental_bridge_3q_a": [
        "--exercise",
        "segmental_bridge",
        "--view",
        "three_quarter",
        "--seed",
        "102",
        "--hold-s",
        "5.6",
        "--reps",
        "hips_not_high,none,hold_short",
    ],
    "synth_bird_dog_side_a": [
        "--exercise",
        "bird_dog",
        "--view",
        "side",
        "--seed",
        "201",
        "--reps",
        "none,leg_high,arm_low",
    ],
    "synth_bird_dog_3q_a": [
        "--exercise",
        "bird_dog",
        "--view",
        "three_quarter",
        "--seed",
        "202",
        "--reps",
        "hip_rotation,none,leg_low",
    ],
    "synth_bird_dog_side_b": [
        "--exercise",
        "bird_dog",
        "--view",
        "side",
        "--seed",
        "203",
        "--reps",
        "none,back_sag,hip_rotation",
    ],
    "synth_hip_hinge_dowel_side_a": [
        "--exercise",
        "hip_hinge_dowel",
        "--view",
        "side",
        "--seed",
        "301",
        "--reps",
        "none,rounded_spine,none,squat,none",
    ],
    "synth_hip_hinge_dowel_3q_a": [
        "--exercise",
        "hip_hinge_dowel",
        "--view",
        "three_quarter",
        "--seed",
        "302",
        "--reps",
        "knees_too_bent,none,rounded_spine,none",
    ],
    "synth_dead_bug_side_a": [
        "--exercise",
        "dead_bug",
        "--view",
        "side",
        "--seed",
        "401",
        "--reps",
        "none,leg_not_straight,other_knee_drift,none,other_leg_moves",
    ],
}


def _one(name: str, args: list[str], out: str) -> tuple[str, float]:
    os.environ.setdefault("POSECHECK_SYNTH_THREADS", "1")
    from posecheck.synth.__main__ import main

    t = time.perf_counter()
    code = main([*args, "--out", out, "--name", name])
    if code:
        raise RuntimeError(f"{name} failed with exit code {code}")
    return name, time.perf_counter() - t


def make_sample_set(out: Path, jobs: int = 2, only: list[str] | None = None) -> dict[str, float]:
    """Render the sample set into `out`; returns seconds per clip."""
    names = only or list(SAMPLE_SET)
    unknown = [n for n in names if n not in SAMPLE_SET]
    if unknown:
        raise ValueError(f"not in the sample set: {', '.join(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, seconds in pool.map(_one, names, [SAMPLE_SET[n] for n in names], [str(out)] * len(names)):
            times[name] = seconds
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m posecheck.synth.batch", description="Render the sample clip set."
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=2, help="render processes at once (default 2)")
    ap.add_argument("--only", nargs="*", default=None, help="names from the set (default: all)")
    ap.add_argument("--list", action="store_true", help="print the set's commands and exit")
    a = ap.parse_args(argv)
    if a.list:
        for name, args in SAMPLE_SET.items():
            print("python -m posecheck.synth " + " ".join(args) + f" --out {a.out} --name {name}")
        return 0
    t = time.perf_counter()
    times = make_sample_set(a.out, a.jobs, a.only)
    for name, seconds in times.items():
        print(f"{name}: {seconds:.1f} s")
    print(f"total wall time {time.perf_counter() - t:.1f} s with {a.jobs} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
