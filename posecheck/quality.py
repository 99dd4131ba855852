"""Quality scores: how well each rep and each set was done, from the form rules it broke.

Per rep, starting from 100 points:

* each fault (severity "fault") costs 30 points plus up to 40 more for how long it lasted:
  40 x (fault duration / rep duration), so a fault present through the whole rep costs 70;
* a hold shorter than the program asks (`hold_short`) costs 50 x (missing share of the hold),
  e.g. 2.5 s of a 5 s hold costs 25;
* each warning costs 10;
* the score never goes below 0.

Per set: the mean rep score times the share of the dose done (reps done / the program's lowest
rep count, capped at 1), so ten good reps of ten score 100 and five good reps of ten score 50.
"""

from __future__ import annotations

from typing import Any

FAULT_BASE = 30.0
FAULT_DURATION = 40.0
HOLD_SHORT = 50.0
WARNING = 10.0


def rep_quality(rep: dict[str, Any], hold_target_s: float | None) -> float:
    """Score (0-100) of one rep of a report (see the module docstring)."""
    duration = max(rep["end_s"] - rep["start_s"], 1e-6)
    score = 100.0
    for fault in rep["faults"]:
        if fault["rule"] == "hold_short":
            missing = 1.0 - rep["hold_s"] / hold_target_s if hold_target_s else 1.0
            score -= HOLD_SHORT * min(max(missing, 0.0), 1.0)
        elif fault["severity"] == "fault":
            share = min(max(fault["end_s"] - fault["start_s"], 0.0) / duration, 1.0)
            score -= FAULT_BASE + FAULT_DURATION * share
        else:
            score -= WARNING
    return round(max(score, 0.0), 1)


def set_quality(report: dict[str, Any]) -> dict[str, Any]:
    """Rep scores, the set score and whether the full dose was done, for one report."""
    dose = report["exercise"]["dose"]
    hold_target = dose["hold_s"][0] if dose["hold_s"] else None
    scores = [rep_quality(rep, hold_target) for rep in report["reps"]]
    low = dose["reps"][0]
    if dose["per_side"] or dose["alternating"]:
        by_side = report["summary"]["reps_by_side"]
        done = min(by_side["left"], by_side["right"])
    else:
        done = len(scores)
    completion = min(done / low, 1.0) if low else 1.0
    mean = sum(scores) / len(scores) if scores else 0.0
    return {
        "rep_scores": scores,
        "mean_rep_score": round(mean, 1),
        "completion": round(completion, 3),
        "score": round(mean * completion, 1),
        "full_dose": completion >= 1.0,
    }
