"""Frozen dataclasses describing an instrument, and the YAML loader that builds them.

The specs themselves are data in ``specs/<code>.yaml``; this module only gives
them a typed, validated shape. Unknown keys in a YAML file are an error, so a
misspelt rule cannot be silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

AGGREGATES = ("sum", "mean", "count")
METRICS = ("raw", "standard")
ROUNDING = ("half_up",)


class UncertainRuleWarning(UserWarning):
    """A scoring rule the sources leave uncertain was applied (see the spec's ``uncertain``)."""


class SpecError(ValueError):
    """An instrument spec file is malformed."""


@dataclass(frozen=True)
class Band:
    """One band of a scale: ``code`` applies from ``lower`` (inclusive) up to the next band."""

    code: str
    name_zh: str
    lower: float


@dataclass(frozen=True)
class BandSet:
    """The bands of a scale for one informant and/or norm (``None`` = any).

    ``metric="raw"`` bands apply to the raw score :func:`psychanalytics.scoring.score`
    computes. ``metric="standard"`` bands apply only to a standard score read
    from a platform or a manual's norm table (MHT); scoring never applies them
    to raw scores.
    """

    bands: tuple[Band, ...]
    source: str
    informant: str | None = None
    norm: str | None = None
    metric: str = "raw"

    @property
    def codes(self) -> tuple[str, ...]:
        """Band codes, lowest first."""
        return tuple(b.code for b in self.bands)

    @property
    def lowers(self) -> tuple[float, ...]:
        """Inclusive lower bounds, lowest first."""
        return tuple(b.lower for b in self.bands)


@dataclass(frozen=True)
class Scale:
    """A scale (subscale, factor or total) and how its raw score is formed.

    ``items`` are 1-based item numbers. A scale with ``of_scales`` is the sum of
    those scales' scores (missing if any of them is). ``min_answered`` is the
    missing-data rule: with fewer answered items the score is missing; with at
    least that many but not all, the sum is prorated (sum × n / answered) and,
    for ``rounding="half_up"``, rounded half up. ``aggregate="mean"`` divides the
    (prorated) sum by the number of items; ``aggregate="count"`` counts items
    coded ``>= count_at_least`` (after reverse keying).
    """

    code: str
    name_zh: str
    name_en: str
    items: tuple[int, ...]
    range: tuple[float, float]
    aggregate: str = "sum"
    min_answered: int = 0
    rounding: str | None = None
    count_at_least: float | None = None
    of_scales: tuple[str, ...] = ()
    bands: tuple[BandSet, ...] = ()
    note: str = ""

    def band_set(
        self, *, informant: str | None = None, norm: str | None = None, metric: str = "raw"
    ) -> BandSet | None:
        """The bands on ``metric`` that apply for ``informant`` and ``norm``, or ``None`` if there are none."""
        matches = [
            b
            for b in self.bands
            if b.metric == metric and b.informant in (None, informant) and b.norm in (None, norm)
        ]
        if not matches:
            return None
        return max(matches, key=lambda b: (b.informant is not None) + (b.norm is not None))


@dataclass(frozen=True)
class Condition:
    """``item`` (1-based, as answered) or any of ``scales`` (raw score) is ``>= at_least``."""

    at_least: float
    item: int | None = None
    scales: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A flag kept apart from bands: true when any of its conditions holds."""

    name: str
    name_zh: str
    any_of: tuple[Condition, ...]
    source: str


@dataclass(frozen=True)
class LieScale:
    """A validity (lie) scale: sum of ``items``; the sheet is invalid when it reaches ``invalid_at``."""

    items: tuple[int, ...]
    invalid_at: float
    source: str


@dataclass(frozen=True)
class Licence:
    """Licence status; ``render_items`` is False when items must never be shown electronically."""

    status: str
    render_items: bool
    note: str = ""


@dataclass(frozen=True)
class UncertainRule:
    """A rule the sources leave uncertain; scoring warns with :class:`UncertainRuleWarning`.

    With ``norm`` set, the warning is raised only when scoring under that norm.
    """

    rule: str
    detail: str
    source: str
    norm: str | None = None


@dataclass(frozen=True)
class Accuracy:
    """Published screening accuracy of one cut-off: a student screens positive when ``scale >= at_least``.

    ``sensitivity`` and ``specificity`` are against ``condition`` as the
    ``reference_standard`` found it, in ``population``. ``n_cases`` and
    ``n_noncases`` (the validation study's students with and without the
    condition) are given when the source states them: they carry the
    uncertainty of the published values into a true-prevalence interval.
    """

    scale: str
    at_least: float
    sensitivity: float
    specificity: float
    condition: str
    reference_standard: str
    population: str
    source: str
    n_cases: int | None = None
    n_noncases: int | None = None


@dataclass(frozen=True)
class InstrumentSpec:
    """A declarative instrument spec: items, coding, scales, bands, validity, flags, provenance."""

    code: str
    version: str
    name_zh: str
    name_en: str
    n_items: int
    item_values: tuple[int, ...]
    scales: tuple[Scale, ...]
    sources: tuple[str, ...]
    licence: Licence
    age_range: tuple[int | None, int | None] | None = None
    population: str = ""
    item_keys: tuple[str, ...] = ()
    reverse_items: tuple[int, ...] = ()
    lie: LieScale | None = None
    flags: tuple[Flag, ...] = ()
    informants: tuple[str, ...] = ()
    norms: tuple[str, ...] = ()
    default_norm: str | None = None
    uncertain: tuple[UncertainRule, ...] = ()
    accuracy: tuple[Accuracy, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def item_columns(self) -> tuple[str, ...]:
        """Input column names ``("q1", …, "qK")``."""
        return tuple(f"q{i}" for i in range(1, self.n_items + 1))

    @property
    def scale_codes(self) -> tuple[str, ...]:
        """Scale codes in spec order."""
        return tuple(s.code for s in self.scales)

    def scale(self, code: str) -> Scale:
        """The scale called ``code``."""
        for s in self.scales:
            if s.code == code:
                return s
        raise KeyError(f"{self.code} has no scale {code!r}; scales: {', '.join(self.scale_codes)}")

    def accuracy_at(self, scale: str, at_least: float) -> Accuracy:
        """The published accuracy of the cut-off ``scale >= at_least``.

        Raises
        ------
        KeyError
            If the spec records none for that cut-off; the message lists those it has.
        """
        for a in self.accuracy:
            if a.scale == scale and a.at_least == at_least:
                return a
        known = ", ".join(f"{a.scale} >= {a.at_least:g}" for a in self.accuracy) or "none"
        raise KeyError(
            f"{self.code}: no published sensitivity and specificity for {scale} >= {at_least:g} (recorded: {known})"
        )


def _take(data: Mapping[str, Any], where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
    if not isinstance(data, Mapping):
        raise SpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = set(data) - set(required) - set(optional)
    missing = [k for k in required if k not in data]
    if unknown or missing:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}, missing keys {missing}")
    return dict(data)


def _items(spec: Any, where: str) -> tuple[int, ...]:
    """Item numbers from a list that may hold ``[first, last]`` or ``[first, last, step]`` ranges."""
    out: list[int] = []
    for entry in spec:
        if isinstance(entry, int):
            out.append(entry)
        elif isinstance(entry, list) and len(entry) in (2, 3) and all(isinstance(v, int) for v in entry):
            first, last, *step = entry
            out.extend(range(first, last + 1, step[0] if step else 1))
        else:
            raise SpecError(f"{where}: item entry {entry!r} is neither an int nor [first, last(, step)]")
    return tuple(out)


def _band_set(data: Mapping, where: str) -> BandSet:
    d = _take(data, where, ("bands", "source"), ("informant", "norm", "metric"))
    bands = tuple(
        Band(**_take(b, f"{where}.bands[{i}]", ("code", "name_zh", "lower"), ()))
        for i, b in enumerate(d.pop("bands"))
    )
    return BandSet(bands=bands, **d)


def _scale(data: Mapping, where: str) -> Scale:
    d = _take(
        data,
        where,
        ("code", "name_zh", "name_en", "range"),
        ("items", "aggregate", "min_answered", "rounding", "count_at_least", "of_scales", "bands", "note"),
    )
    d["items"] = _items(d.get("items", ()), where)
    if d.get("of_scales") and d["items"]:
        raise SpecError(f"{where}: a scale of scales takes its items from those scales; do not list items")
    d.setdefault("min_answered", len(d["items"]))
    d["range"] = tuple(d["range"])
    d["of_scales"] = tuple(d.get("of_scales", ()))
    d["bands"] = tuple(_band_set(b, f"{where}.bands[{i}]") for i, b in enumerate(d.get("bands", ())))
    return Scale(**d)


def _flag(data: Mapping, where: str) -> Flag:
    d = _take(data, where, ("name", "name_zh", "any_of", "source"), ())
    conditions = []
    for i, c in enumerate(d.pop("any_of")):
        c = _take(c, f"{where}.any_of[{i}]", ("at_least",), ("item", "scales"))
        conditions.append(
            Condition(at_least=c["at_least"], item=c.get("item"), scales=tuple(c.get("scales", ())))
        )
    return Flag(any_of=tuple(conditions), **d)


def _with_derived_items(scales: list[Scale]) -> tuple[Scale, ...]:
    """Give each scale of scales the union of its components' items."""
    items = {}
    for i, s in enumerate(scales):
        if s.of_scales:
            union = sorted({n for code in s.of_scales for n in items.get(code, ())})
            scales[i] = s = replace(s, items=tuple(union))
        items[s.code] = s.items
    return tuple(scales)


def spec_from_dict(data: Mapping[str, Any]) -> InstrumentSpec:
    """Build and check an :class:`InstrumentSpec` from parsed YAML."""
    where = str(data.get("code", "<spec>")) if isinstance(data, Mapping) else "<spec>"
    d = _take(
        data,
        where,
        ("code", "version", "name_zh", "name_en", "n_items", "item_values", "scales", "sources", "licence"),
        (
            "age_range",
            "population",
            "item_keys",
            "reverse_items",
            "lie",
            "flags",
            "informants",
            "norms",
            "default_norm",
            "uncertain",
            "accuracy",
            "notes",
        ),
    )
    d["version"] = str(d["version"])
    d["item_values"] = tuple(d["item_values"])
    d["scales"] = _with_derived_items([_scale(s, f"{where}.scales[{i}]") for i, s in enumerate(d["scales"])])
    d["licence"] = Licence(**_take(d["licence"], f"{where}.licence", ("status", "render_items"), ("note",)))
    if d.get("age_range") is not None:
        d["age_range"] = tuple(d["age_range"])
    for key in ("item_keys", "informants", "norms", "notes", "sources"):
        d[key] = tuple(d.get(key, ()))
        if not all(isinstance(v, str) for v in d[key]):
            raise SpecError(f"{where}.{key}: every entry must be a string (quote entries containing ': ')")
    d["reverse_items"] = _items(d.get("reverse_items", ()), f"{where}.reverse_items")
    if d.get("lie") is not None:
        lie = _take(d["lie"], f"{where}.lie", ("items", "invalid_at", "source"), ())
        d["lie"] = LieScale(
            items=_items(lie["items"], f"{where}.lie"), invalid_at=lie["invalid_at"], source=lie["source"]
        )
    d["flags"] = tuple(_flag(f, f"{where}.flags[{i}]") for i, f in enumerate(d.get("flags", ())))
    d["uncertain"] = tuple(
        UncertainRule(**_take(u, f"{where}.uncertain[{i}]", ("rule", "detail", "source"), ("norm",)))
        for i, u in enumerate(d.get("uncertain", ()))
    )
    d["accuracy"] = tuple(
        Accuracy(
            **_take(
                a,
                f"{where}.accuracy[{i}]",
                (
                    "scale",
                    "at_least",
                    "sensitivity",
                    "specificity",
                    "condition",
                    "reference_standard",
                    "population",
                    "source",
                ),
                ("n_cases", "n_noncases"),
            )
        )
        for i, a in enumerate(d.get("accuracy", ()))
    )
    spec = InstrumentSpec(**d)
    _check(spec)
    return spec


def _check(spec: InstrumentSpec) -> None:
    """Internal consistency: item numbers, scale references, band order, variants."""
    where = spec.code
    codes = spec.scale_codes
    if len(set(codes)) != len(codes):
        raise SpecError(f"{where}: duplicate scale codes in {codes}")
    if spec.item_keys and len(spec.item_keys) != spec.n_items:
        raise SpecError(f"{where}: {len(spec.item_keys)} item_keys for {spec.n_items} items")
    if list(spec.item_values) != sorted(set(spec.item_values)):
        raise SpecError(f"{where}: item_values must be distinct and ascending: {spec.item_values}")
    items_used = [*spec.reverse_items, *(spec.lie.items if spec.lie else ())]
    for s in spec.scales:
        w = f"{where}.{s.code}"
        items_used.extend(s.items)
        if s.aggregate not in AGGREGATES:
            raise SpecError(f"{w}: aggregate {s.aggregate!r} not in {AGGREGATES}")
        if s.rounding not in (None, *ROUNDING):
            raise SpecError(f"{w}: rounding {s.rounding!r} not in {ROUNDING}")
        if (s.aggregate == "count") != (s.count_at_least is not None):
            raise SpecError(f"{w}: count_at_least is required with, and only with, aggregate 'count'")
        if s.of_scales:
            if s.aggregate != "sum":
                raise SpecError(f"{w}: a scale of scales has aggregate 'sum'")
            earlier = codes[: codes.index(s.code)]
            if not set(s.of_scales) <= set(earlier):
                raise SpecError(f"{w}: of_scales {s.of_scales} must name scales listed before it")
        elif not s.items or not 0 < s.min_answered <= len(s.items):
            raise SpecError(f"{w}: needs items and 0 < min_answered <= {len(s.items)}")
        for bs in s.bands:
            lowers = bs.lowers
            if bs.metric not in METRICS:
                raise SpecError(f"{w}: band metric {bs.metric!r} not in {METRICS}")
            if list(lowers) != sorted(set(lowers)):
                raise SpecError(f"{w}: band lowers {lowers} must rise")
            if bs.metric == "raw" and (lowers[0] != s.range[0] or lowers[-1] > s.range[1]):
                raise SpecError(f"{w}: raw band lowers {lowers} must start at the scale minimum {s.range[0]}")
            if bs.informant is not None and bs.informant not in spec.informants:
                raise SpecError(f"{w}: band informant {bs.informant!r} not in {spec.informants}")
            if bs.norm is not None and bs.norm not in spec.norms:
                raise SpecError(f"{w}: band norm {bs.norm!r} not in {spec.norms}")
    for f in spec.flags:
        for c in f.any_of:
            if (c.item is None) == (not c.scales) or not set(c.scales) <= set(codes):
                raise SpecError(f"{where}.flag_{f.name}: each condition needs an item or known scales")
            items_used.extend([c.item] if c.item is not None else [])
    bad = sorted({i for i in items_used if not 1 <= i <= spec.n_items})
    if bad:
        raise SpecError(f"{where}: item numbers outside 1..{spec.n_items}: {bad}")
    if spec.default_norm is not None and spec.default_norm not in spec.norms:
        raise SpecError(f"{where}: default_norm {spec.default_norm!r} not in {spec.norms}")
    for u in spec.uncertain:
        if u.norm is not None and u.norm not in spec.norms:
            raise SpecError(f"{where}: uncertain rule norm {u.norm!r} not in {spec.norms}")
    for a in spec.accuracy:
        w = f"{where}.accuracy[{a.scale} >= {a.at_least}]"
        if a.scale not in codes:
            raise SpecError(f"{w}: unknown scale {a.scale!r}")
        if not (0 < a.sensitivity <= 1 and 0 < a.specificity <= 1 and a.sensitivity + a.specificity > 1):
            raise SpecError(f"{w}: sensitivity and specificity must be in (0, 1] and add up to more than 1")
        for count in (a.n_cases, a.n_noncases):
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise SpecError(f"{w}: n_cases and n_noncases must be whole numbers >= 1, got {count!r}")
    cutoffs = [(a.scale, a.at_least) for a in spec.accuracy]
    if len(set(cutoffs)) != len(cutoffs):
        raise SpecError(f"{where}: two accuracy entries for one cut-off in {cutoffs}")
