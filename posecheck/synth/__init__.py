"""posecheck.synth: labelled synthetic clips of a parametric human body doing the program's
exercises, rendered on the CPU, with exact ground truth (reps, holds, faults, keypoints).

Needs the ``synth`` extra (``pip install -e ".[synth]"``: anny, torch, numba). The core
package never imports this subpackage.

    python -m posecheck.synth --exercise segmental_bridge --reps none,hips_not_high,none \\
        --view side --seed 1 --out clips/ --name bridge_demo
    python -m posecheck.synth.batch --out sample_videos      # the sample set
    python -m posecheck.synth.mpcheck sample_videos/synth_*.mp4  # what MediaPipe sees (core env)

Exercises (the program's ids) and their faults (the specs' rule ids): segmental_bridge
(hips_not_high, hips_sag, knees_drift, hold_short), bird_dog (leg_high, leg_low, arm_low,
hip_rotation, back_sag; alternating), hip_hinge_dowel (rounded_spine, squat, knees_too_bent;
a dowel is drawn), plank_elbows_knees (hips_sag, hips_pike, hold_short), dead_bug
(leg_not_straight, other_knee_drift, other_leg_moves; alternating). Label format:
sample_videos/README.md.

The pieces: `body` (anny posed from joint angles, MediaPipe's 33 landmarks), `timeline`
(keyframes, easing, labelled spans), `exercises` (scripts and contact solvers), `labels`,
`appearance` (outfits), `raster` and `render` (camera, room, shading), `clip` (one clip),
`batch` (the sample set), `mpcheck` (MediaPipe against the ground truth).
"""

GENERATOR_VERSION = "1.0"

__all__ = ["GENERATOR_VERSION"]
