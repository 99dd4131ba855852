"""CLI: render one labelled clip. `python -m posecheck.synth --help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """example:
  python -m posecheck.synth --exercise segmental_bridge --reps none,hips_not_high,none \\
      --view side --seed 7 --out /tmp/clips --name bridge_demo

Writes NAME.mp4 (mp4v), NAME.json (labels) and NAME.npz (ground-truth keypoints) in --out.
Faults per exercise:
  segmental_bridge  hips_not_high, hips_sag, knees_drift, hold_short
  bird_dog          leg_high, leg_low, arm_low, hip_rotation, back_sag (reps alternate sides)
  hip_hinge_dowel   rounded_spine, squat, knees_too_bent
  plank_elbows_knees  hips_sag, hips_pike, hold_short (holds 7-9 s; --hold-s 30 for the program's)
  dead_bug          leg_not_straight, other_knee_drift, other_leg_moves (reps alternate legs)
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m posecheck.synth",
        description="Render one labelled synthetic exercise clip.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--exercise", "-e", required=True, help="the program's exercise id, e.g. segmental_bridge"
    )
    ap.add_argument(
        "--reps",
        default="none,none,none",
        help="one entry per rep: 'none' (clean) or a fault id, comma-separated",
    )
    ap.add_argument("--view", default="side", choices=["side", "three_quarter"])
    ap.add_argument(
        "--seed", type=int, default=0, help="sets everything random: body, outfit, tempo, room, camera"
    )
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--name", required=True, help="file name stem of the clip")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument(
        "--hold-s", type=float, default=None, help="hold of each rep in seconds (default: per exercise)"
    )
    ap.add_argument(
        "--camera-side",
        choices=["left", "right", "random"],
        default="random",
        help="the subject's side that faces the camera",
    )
    ap.add_argument(
        "--first-side",
        choices=["left", "right"],
        default=None,
        help="alternating exercises: the working leg of the first rep",
    )
    ap.add_argument("--supersample", type=int, default=2, help="anti-aliasing factor (1 = faster)")
    ap.add_argument(
        "--preview-dir", type=Path, default=None, help="also write a few PNG frames with the keypoints"
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from posecheck.synth.clip import ClipSpec, make_clip, parse_reps
    except ImportError as exc:  # the heavy extra is missing
        print(f"posecheck.synth needs the 'synth' extra (pip install -e '.[synth]'): {exc}", file=sys.stderr)
        return 2
    try:
        reps = parse_reps(args.reps, args.exercise)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.hold_s is not None and args.hold_s <= 0:
        print("error: --hold-s must be positive", file=sys.stderr)
        return 2
    spec = ClipSpec(
        exercise=args.exercise,
        reps=reps,
        out=args.out,
        name=args.name,
        view=args.view,
        seed=args.seed,
        fps=args.fps,
        width=args.width,
        height=args.height,
        hold_s=args.hold_s,
        camera_side=None if args.camera_side == "random" else args.camera_side,
        first_side={"left": "l", "right": "r"}.get(args.first_side or ""),
        supersample=args.supersample,
        preview_dir=args.preview_dir,
    )
    make_clip(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
