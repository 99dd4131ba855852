"""posecheck.synth: labelled synthetic clips of a parametric human body doing the program's
exercises, rendered on the CPU, with exact ground truth (reps, holds, faults, keypoints).

Needs the ``synth`` extra (``pip install -e ".[synth]"``: anny, torch, numba). The core
package never imports this subpackage.

    python -m posecheck.synth --exercise segmental_bridge --reps none,hips_not_high,none \\
        --view side --seed 1 --out clips/ --name bridge_demo
    python -m posecheck.synth.batch --out sample_videos      # the sample set

The pieces: `body` (anny posed from joint angles, MediaPipe's 33 landmarks), `timeline`
(keyframes, easing, labelled spans), `exercises` (scripts and contact solvers), `labels`,
`appearance` (outfits), `raster` and `render` (camera, room, shading), `clip` (one clip),
`batch` (the sample set).
"""

GENERATOR_VERSION = "1.0"

__all__ = ["GENERATOR_VERSION"]
