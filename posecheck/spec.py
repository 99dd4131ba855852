"""Exercise specs: one TOML file per exercise, read with `tomllib` and validated at load.

A spec never executes code: metrics are names from `posecheck.metrics.METRIC_FUNCTIONS`,
conditions are a metric with `below`/`above` bounds. Every error names the file, the field
and what is wrong. The format is documented in `exercise_specs/README.md`.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posecheck.errors import UserError
from posecheck.metrics import METRIC_FUNCTIONS, is_point_name

PHASES = ("align", "stabilize", "maintain")
VIEWS = ("side", "front", "either")
SIDE_MODES = ("facing_camera", "working_side")
SPACES = ("image", "world", "world_level")
RULE_PHASES = ("rest", "attempt", "moving", "hold", "counting", "deepest")
RELATIVE_TO = ("value", "peak", "trough", "start", "hold_start")
SEVERITIES = ("fault", "warning")


class SpecError(UserError):
    """A spec file is malformed."""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    function: str
    points: tuple[str, ...]
    space: str = "image"
    # Other points for the same measure when a point is outside the picture (the knee for a foot
    # cut off by the frame): used to count reps, never to judge form.
    fallback: tuple[str, ...] = ()
    # "min"/"max": the smaller/larger of the two sides' values, for both sides (the more bent
    # knee, the more upright thigh), whichever side MediaPipe calls left; "" = each side its own.
    both_sides: str = ""


@dataclass(frozen=True)
class Condition:
    """`metric` (optionally relative to its attempt peak/trough/start value) below/above bounds."""

    metric: str
    below: float | None = None
    above: float | None = None
    relative_to: str = "value"

    def holds(self, value: float) -> bool:
        if value != value:  # NaN: nothing can be said
            return False
        if self.below is not None and self.above is not None and self.above > self.below:
            return value < self.below or value > self.above  # outside a band
        ok = True
        if self.below is not None:
            ok = ok and value < self.below
        if self.above is not None:
            ok = ok and value > self.above
        return ok

    def describe(self) -> str:
        what = self.metric if self.relative_to == "value" else f"{self.metric} - its {self.relative_to}"
        parts = []
        if self.below is not None:
            parts.append(f"< {self.below:g}")
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        return f"{what} {' and '.join(parts)}"


@dataclass(frozen=True)
class RuleSpec:
    id: str
    message: str
    condition: Condition
    during: str = "hold"
    persist_s: float = 0.5
    severity: str = "fault"
    also: tuple[Condition, ...] = ()  # further conditions that must hold at the same time

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return (self.condition, *self.also)


@dataclass(frozen=True)
class RepSpec:
    """Rep logic on one metric: rest zone, active zone (hysteresis between them), hold timing."""

    metric: str
    rest: float
    active: float
    direction: str  # "up": the metric rises during a rep; "down": it falls
    min_active_s: float = 0.6
    min_rest_s: float = 0.3
    still_speed: float | None = None  # metric units per second; default: half the band per second
    timed_hold: bool = True
    from_start: bool = False  # measure the metric from its value in the start posture

    def toward_active(self, value: float) -> float:
        """The metric in rep direction: larger always means further into the rep."""
        return value if self.direction == "up" else -value

    @property
    def band(self) -> float:
        return abs(self.active - self.rest)


@dataclass(frozen=True)
class StartSpec:
    hold_s: float = 1.0
    require: tuple[Condition, ...] = ()
    message: str = "Get into the start position"


@dataclass(frozen=True)
class DoseSpec:
    reps: tuple[int, int]
    sets: int = 1
    hold_s: tuple[float, float] | None = None
    per_side: bool = False
    alternating: bool = False
    hold_tolerance_s: float = 0.5
    text: str = ""


@dataclass(frozen=True)
class GaugeSpec:
    metric: str
    label: str
    lo: float
    hi: float
    target: float
    good: str = "above"  # the side of the target that is good form

    def is_good(self, value: float) -> bool:
        return value >= self.target if self.good == "above" else value <= self.target


@dataclass(frozen=True)
class ExerciseSpec:
    id: str
    name: str
    phase: str
    order: int
    view: str
    summary: str
    cues: tuple[str, ...]
    not_checked: tuple[str, ...]
    dose: DoseSpec
    sides: str
    visible: tuple[str, ...]
    min_visibility: float
    metrics: dict[str, MetricSpec]
    start: StartSpec
    reps: RepSpec
    rules: tuple[RuleSpec, ...]
    gauge: GaugeSpec | None
    source: Path | None = None
    progression_of: str | None = None
    checked: tuple[str, ...] = field(default=())

    @property
    def rule_messages(self) -> dict[str, str]:
        return {rule.id: rule.message for rule in self.rules}


# --- reading ----------------------------------------------------------------------------------


class _Fields:
    """Typed access to one TOML table, raising SpecError with file and field on any problem."""

    def __init__(self, table: dict[str, Any], where: str, path: Path) -> None:
        if not isinstance(table, dict):
            raise SpecError(f"{path}: [{where}] must be a table, got {type(table).__name__}")
        self.table, self.where, self.path = table, where, path
        self.used: set[str] = set()

    def _field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> SpecError:
        return SpecError(f"{self.path}: field '{self._field(key)}': {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, choices: tuple = ()) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing (required)")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {names}, got {value!r}")
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        if isinstance(value, str):
            self._plain_text(key, value)
        return value

    def _plain_text(self, key: str, value: str) -> None:
        if "$" in value:  # matplotlib reads $...$ as a formula: the report's plots would fail
            raise self.fail(key, f"must not contain '$', got {value!r}")

    def number(self, key: str, default: Any = ..., minimum: float | None = None) -> float:
        """A finite number (never nan or inf), at least `minimum` when given."""
        value = self.get(key, (int, float), default)
        if value is None:
            return None
        if not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, got {value!r}")
        return float(value)

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        for item in value:
            self._plain_text(key, item)
        return tuple(value)

    def range(self, key: str, default: Any = ...) -> tuple[float, float] | None:
        """A number or a [low, high] pair."""
        value = self.get(key, (int, float, list), default)
        if value is None:
            return None
        if isinstance(value, list):
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            if len(value) != 2 or not numbers:
                raise self.fail(key, f"must be a number or [low, high], got {value!r}")
            if not all(math.isfinite(v) for v in value):
                raise self.fail(key, f"must be finite numbers, got {value!r}")
            if value[0] > value[1]:
                raise self.fail(key, f"low must not exceed high, got {value!r}")
            return float(value[0]), float(value[1])
        if not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}")
        return float(value), float(value)

    def no_unknown_keys(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown field (misspelt?)")


def _condition(f: _Fields, metrics: dict[str, MetricSpec]) -> Condition:
    metric = f.get("metric", str)
    if metric not in metrics:
        raise f.fail("metric", f"unknown metric {metric!r}; defined metrics: {', '.join(metrics)}")
    below = f.number("below", None)
    above = f.number("above", None)
    if below is None and above is None:
        raise f.fail("below", "a condition needs 'below', 'above' or both")
    relative_to = f.get("relative_to", str, "value", choices=RELATIVE_TO)
    return Condition(metric=metric, below=below, above=above, relative_to=relative_to)


def _metric(name: str, f: _Fields) -> MetricSpec:
    function = f.get("fn", str)
    if function not in METRIC_FUNCTIONS:
        raise f.fail("fn", f"unknown metric function {function!r}; known: {', '.join(METRIC_FUNCTIONS)}")
    points = f.strings("points")
    repeated = sorted({point for point in points if points.count(point) > 1})
    if repeated:
        raise f.fail("points", f"names the same landmark more than once ({', '.join(repeated)})")
    wanted = METRIC_FUNCTIONS[function].n_points
    if (wanted is None and len(points) < 3) or (wanted is not None and len(points) != wanted):
        raise f.fail("points", f"{function} takes {wanted or '3 or more'} points, got {len(points)}")
    for point in points:
        if not is_point_name(point):
            raise f.fail(
                "points",
                f"unknown landmark {point!r}; use a MediaPipe name (left_knee), a sided part "
                "(knee, opposite_knee) or mid_<part> (mid_hip)",
            )
    space = f.get("space", str, "image", choices=SPACES)
    fallback = f.strings("fallback", ())
    if fallback and len(fallback) != len(points):
        raise f.fail("fallback", f"must name as many points as 'points' ({len(points)}), got {len(fallback)}")
    for point in fallback:
        if not is_point_name(point):
            raise f.fail("fallback", f"unknown landmark {point!r}")
    both_sides = f.get("both_sides", str, "", choices=("", "min", "max"))
    f.no_unknown_keys()
    return MetricSpec(
        name=name, function=function, points=points, space=space, fallback=fallback, both_sides=both_sides
    )


def _reps(f: _Fields, metrics: dict[str, MetricSpec]) -> RepSpec:
    metric = f.get("metric", str)
    if metric not in metrics:
        raise f.fail("metric", f"unknown metric {metric!r}; defined metrics: {', '.join(metrics)}")
    rest_below, rest_above = f.number("rest_below", None), f.number("rest_above", None)
    active_above, active_below = f.number("active_above", None), f.number("active_below", None)
    if rest_below is not None and active_above is not None and rest_above is None and active_below is None:
        if not rest_below < active_above:
            raise f.fail(
                "active_above", f"must be greater than rest_below ({active_above:g} <= {rest_below:g})"
            )
        rest, active, direction = rest_below, active_above, "up"
    elif rest_above is not None and active_below is not None and rest_below is None and active_above is None:
        if not active_below < rest_above:
            raise f.fail("active_below", f"must be less than rest_above ({active_below:g} >= {rest_above:g})")
        rest, active, direction = rest_above, active_below, "down"
    else:
        raise f.fail(
            "rest_below",
            "give either rest_below + active_above (the metric rises in a rep) "
            "or rest_above + active_below (it falls)",
        )
    rep = RepSpec(
        metric=metric,
        rest=rest,
        active=active,
        direction=direction,
        min_active_s=f.number("min_active_s", 0.6),
        min_rest_s=f.number("min_rest_s", 0.3),
        still_speed=f.number("still_speed", None, minimum=0.0),
        timed_hold=f.get("timed_hold", bool, True),
        from_start=f.get("from_start", bool, False),
    )
    if rep.min_active_s < 0 or rep.min_rest_s < 0:
        raise f.fail("min_active_s", "times must not be negative")
    f.no_unknown_keys()
    return rep


def parse_spec(data: dict[str, Any], path: Path) -> ExerciseSpec:
    """Build and validate an ExerciseSpec from parsed TOML."""
    top = _Fields(data, "", path)
    spec_id = top.get("id", str)
    if not spec_id.isidentifier() or spec_id != spec_id.lower():
        raise top.fail("id", f"must be lower_case_with_underscores, got {spec_id!r}")

    metrics_table = _Fields(top.get("metrics", dict), "metrics", path)
    for name in metrics_table.table:
        metrics_table._plain_text(name, name)
    metrics = {
        name: _metric(name, _Fields(table, f"metrics.{name}", path))
        for name, table in metrics_table.table.items()
    }
    if not metrics:
        raise top.fail("metrics", "define at least one metric")

    dose_f = _Fields(top.get("dose", dict), "dose", path)
    reps_range = dose_f.range("reps")
    if reps_range[0] < 1 or any(v != int(v) for v in reps_range):
        raise dose_f.fail("reps", f"must be whole numbers of at least 1, got {dose_f.table['reps']!r}")
    hold_range = dose_f.range("hold_s", None)
    if hold_range is not None and hold_range[0] <= 0:
        raise dose_f.fail("hold_s", f"must be more than 0 seconds, got {dose_f.table['hold_s']!r}")
    dose = DoseSpec(
        reps=(int(reps_range[0]), int(reps_range[1])),
        sets=int(dose_f.number("sets", 1, minimum=1)),
        hold_s=hold_range,
        per_side=dose_f.get("per_side", bool, False),
        alternating=dose_f.get("alternating", bool, False),
        hold_tolerance_s=dose_f.number("hold_tolerance_s", 0.5, minimum=0.0),
        text=dose_f.get("text", str, ""),
    )
    dose_f.no_unknown_keys()

    start_f = _Fields(top.get("start", dict, {}), "start", path)
    start = StartSpec(
        hold_s=start_f.number("hold_s", 1.0, minimum=0.0),
        require=tuple(
            _condition(_Fields(c, f"start.require[{i}]", path), metrics)
            for i, c in enumerate(start_f.get("require", list, []))
        ),
        message=start_f.get("message", str, StartSpec.message),
    )
    start_f.no_unknown_keys()

    reps = _reps(_Fields(top.get("reps", dict), "reps", path), metrics)

    rules = []
    seen: set[str] = set()
    for i, table in enumerate(top.get("rules", list, [])):
        f = _Fields(table, f"rules[{i}]", path)
        rule_id = f.get("id", str)
        if rule_id in seen:
            raise f.fail("id", f"duplicate rule id {rule_id!r}")
        seen.add(rule_id)
        condition = _condition(f, metrics)
        rules.append(
            RuleSpec(
                id=rule_id,
                message=f.get("message", str),
                condition=condition,
                during=f.get("during", str, "hold", choices=RULE_PHASES),
                persist_s=f.number("persist_s", 0.5, minimum=0.0),
                severity=f.get("severity", str, "fault", choices=SEVERITIES),
                also=tuple(
                    _condition(_Fields(c, f"rules[{i}].also[{k}]", path), metrics)
                    for k, c in enumerate(f.get("also", list, []))
                ),
            )
        )
        f.no_unknown_keys()

    gauge = None
    if "gauge" in data:
        g = _Fields(top.get("gauge", dict), "gauge", path)
        metric = g.get("metric", str)
        if metric not in metrics:
            raise g.fail("metric", f"unknown metric {metric!r}")
        lo, hi = g.range("range")
        if not lo < hi:
            raise g.fail("range", f"must be [low, high] with low below high, got {g.table['range']!r}")
        gauge = GaugeSpec(
            metric=metric,
            label=g.get("label", str),
            lo=lo,
            hi=hi,
            target=g.number("target"),
            good=g.get("good", str, "above", choices=("above", "below")),
        )
        g.no_unknown_keys()

    visible = top.strings("visible")
    for point in visible:
        if not is_point_name(point):
            raise top.fail("visible", f"unknown landmark {point!r}")

    spec = ExerciseSpec(
        id=spec_id,
        name=top.get("name", str),
        phase=top.get("phase", str, choices=PHASES),
        order=int(top.number("order")),
        view=top.get("view", str, choices=VIEWS),
        summary=top.get("summary", str),
        cues=top.strings("cues"),
        checked=top.strings("checked", ()),
        not_checked=top.strings("not_checked"),
        dose=dose,
        sides=top.get("sides", str, "facing_camera", choices=SIDE_MODES),
        visible=visible,
        min_visibility=_fraction(top, "min_visibility", 0.5),
        metrics=metrics,
        start=start,
        reps=reps,
        rules=tuple(rules),
        gauge=gauge,
        source=path,
        progression_of=top.get("progression_of", str, None),
    )
    top.no_unknown_keys()
    return spec


def _fraction(f: _Fields, key: str, default: float) -> float:
    value = f.number(key, default, minimum=0.0)
    if value > 1.0:
        raise f.fail(key, f"must be between 0 and 1, got {value!r}")
    return value


def load_spec(path: Path) -> ExerciseSpec:
    """Read and validate one spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"Cannot read spec {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
            "save the spec file as UTF-8"
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise SpecError(f"{path}: not a spec (arrays or tables nested far too deeply)") from exc
    spec = parse_spec(data, path)
    if path.stem != spec.id:
        raise SpecError(f"{path}: field 'id': {spec.id!r} must match the file name ({path.stem}.toml)")
    return spec


def bundled_spec_dir() -> Path:
    """The exercise_specs folder: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "exercise_specs", here / "exercise_specs"):
        if candidate.is_dir():
            return candidate
    raise UserError("The exercise_specs folder is missing from this installation: reinstall posecheck.")


def load_specs(extra: list[Path] | None = None) -> dict[str, ExerciseSpec]:
    """All bundled specs plus the user's spec files or folders (which may override by id)."""
    paths = sorted(bundled_spec_dir().glob("*.toml"))
    for item in extra or []:
        item = Path(item)
        if item.is_dir():
            found = sorted(item.glob("*.toml"))
            if not found:
                raise UserError(f"No .toml spec files in {item}.")
            paths.extend(found)
        elif item.is_file():
            paths.append(item)
        else:
            raise UserError(f"Spec file or folder not found: {item}.")
    specs: dict[str, ExerciseSpec] = {}
    for path in paths:
        spec = load_spec(path)
        specs[spec.id] = spec
    return dict(sorted(specs.items(), key=lambda item: (PHASES.index(item[1].phase), item[1].order)))


def get_spec(exercise_id: str, extra: list[Path] | None = None) -> ExerciseSpec:
    specs = load_specs(extra)
    if exercise_id not in specs:
        raise UserError(
            f"Unknown exercise {exercise_id!r}. Run `posecheck exercises` to list them; known: "
            + ", ".join(specs)
        )
    return specs[exercise_id]
