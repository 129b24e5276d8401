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
    """One band of a scale: ``code`` applies from ``lower`` (inclusive) up to the next band.

    ``name_zh`` is what a leader reads (e.g. 「无或极轻微」), ``name_en`` what a researcher reads.
    """

    code: str
    name_zh: str
    name_en: str
    lower: float


@dataclass(frozen=True)
class BandRange:
    """The scores a band covers, for legends and footnotes: ``text`` is e.g. ``"5–9"`` or ``"2–<3"``."""

    band: Band
    text: str


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

    def ranges(self, *, top: float | None, whole: bool) -> tuple[BandRange, ...]:
        """The score range of each band, lowest first.

        With ``whole`` scores (whole numbers only) a band runs from its lower
        bound to one below the next band's (``"5–9"``); otherwise up to, not
        including, the next band's (``"2–<3"``; the lowest ``"<2"``). The
        highest band ends at ``top`` (``None``: open, ``"≥20"``).

        >>> bands = BandSet((Band("low", "低", "Low", 0), Band("high", "高", "High", 10)), source="x")
        >>> [r.text for r in bands.ranges(top=27, whole=True)], [r.text for r in bands.ranges(top=None, whole=False)]
        (['0–9', '10–27'], ['<10', '≥10'])
        """

        def number(value: float) -> str:
            return f"{value:g}"

        def span(low: float, high: float) -> str:
            return number(low) if low == high else f"{number(low)}–{number(high)}"

        out = []
        for i, band in enumerate(self.bands):
            upper = self.bands[i + 1].lower if i + 1 < len(self.bands) else None
            if upper is None:
                text = f"≥{number(band.lower)}" if top is None else span(band.lower, top)
            elif whole:
                text = span(band.lower, upper - 1)
            else:
                text = f"<{number(upper)}" if i == 0 else f"{number(band.lower)}–<{number(upper)}"
            out.append(BandRange(band=band, text=text))
        return tuple(out)


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

    def band(self, code: str) -> Band:
        """The band called ``code`` in any of this scale's band sets (a code has one name per scale).

        Raises
        ------
        KeyError
            If no band set of the scale has that code; the message lists the codes it has.
        """
        for band_set in self.bands:
            for band in band_set.bands:
                if band.code == code:
                    return band
        known = sorted({b.code for bs in self.bands for b in bs.bands})
        raise KeyError(f"scale {self.code!r} has no band {code!r}; its bands: {', '.join(known) or 'none'}")


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
class Choice:
    """One answer option: the code it stands for and how forms write it (the published wording first)."""

    code: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Options:
    """The answer options of every item, in the order the published form asks them.

    Option text in a file maps to its code; an option *number* n (a survey
    platform's "download by option number") is the n-th choice, which is not the
    code when the form asks the higher code first (MHT: 是 = 1 before 不是 = 0).
    ``confidence`` grades the source as docs/instruments.md does (A/B/C).
    """

    choices: tuple[Choice, ...]
    source: str
    confidence: str

    @property
    def by_number(self) -> tuple[int, ...]:
        """The code of option number 1, 2, … K."""
        return tuple(c.code for c in self.choices)


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
class ScreenPositive:
    """What counts as screen-positive (筛查阳性) on an instrument, defined once.

    A sheet is screen-positive when ``scale`` falls in ``band`` or a higher band
    (of the band set it was scored with: the cut-off may depend on the informant
    or norm, the band code does not), or when any of ``flags`` is true (PHQ-9
    item 9 ≥ 1, however low the total). ``metric="standard"`` declares a cut-off
    on standard scores (MHT total ≥ 65), which scoring never computes from raw
    answers (DESIGN.md, decision 6): such an instrument has a definition but no
    computed screen-positive count. ``source`` says where the rule comes from.
    """

    source: str
    scale: str | None = None
    band: str | None = None
    flags: tuple[str, ...] = ()
    metric: str = "raw"
    note: str = ""


@dataclass(frozen=True)
class InstrumentSpec:
    """A declarative instrument spec: items, coding, scales, bands, validity, flags, provenance."""

    code: str
    version: str
    name_zh: str
    name_en: str
    abbreviation: str
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
    options: Options | None = None
    screen_positive: ScreenPositive | None = None

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

    def whole_scores(self, scale: str) -> bool:
        """Whether raw scores of ``scale`` are always whole numbers.

        True for counts, and for sums of whole item codes that are never
        prorated (every item required) or are rounded after prorating; a scale of
        scales when all of its scales are. Means are not.

        >>> from psychanalytics import instruments
        >>> instruments.get("phq9").whole_scores("total"), instruments.get("scl90").whole_scores("depression")
        (True, False)
        """
        s = self.scale(scale)
        if s.of_scales:
            return all(self.whole_scores(part) for part in s.of_scales)
        if s.aggregate == "count":
            return True
        return s.aggregate == "sum" and (s.min_answered == len(s.items) or s.rounding is not None)

    def band_ranges(
        self, scale: str, *, informant: str | None = None, norm: str | None = None, metric: str = "raw"
    ) -> tuple[BandRange, ...]:
        """The score range and names of each band of ``scale`` (lowest first), for legends and footnotes.

        The band set is chosen as in :meth:`Scale.band_set` (``norm`` defaults to
        the spec's default norm). Raw bands end at the scale's maximum; bands on
        standard scores, whose range the spec does not hold, end open.

        Raises
        ------
        KeyError
            If the scale has no band set for these options.

        Examples
        --------
        >>> from psychanalytics import instruments
        >>> phq9 = instruments.get("phq9")
        >>> [f"{r.text} {r.band.name_zh}" for r in phq9.band_ranges("total")][:2]
        ['0–4 无或极轻微', '5–9 轻度']
        >>> [r.text for r in instruments.get("scl90").band_ranges("depression")]
        ['<2', '2–5']
        """
        s = self.scale(scale)
        band_set = s.band_set(informant=informant, norm=norm or self.default_norm, metric=metric)
        if band_set is None:
            raise KeyError(
                f"{self.code}.{scale} has no {metric} bands for informant={informant!r}, norm={norm!r}"
            )
        if metric == "raw":
            return band_set.ranges(top=s.range[1], whole=self.whole_scores(scale))
        return band_set.ranges(top=None, whole=False)

    def positive_bands(self) -> tuple[str, ...]:
        """Band codes of the screen-positive scale that count as screen-positive, lowest first.

        The declared band and every band above it, in each band set of the
        scale on the declared metric (one per informant or norm); empty when
        screen-positive is defined by flags alone.

        Examples
        --------
        >>> from psychanalytics import instruments
        >>> instruments.get("phq9").positive_bands()
        ('moderate', 'moderately_severe', 'severe')
        >>> instruments.get("scl90").positive_bands(), instruments.get("scl90").screen_positive.flags
        ((), ('screen_positive',))
        """
        rule = self.screen_positive
        if rule is None or rule.scale is None:
            return ()
        codes: list[str] = []
        for band_set in self.scale(rule.scale).bands:
            if band_set.metric == rule.metric:
                above = band_set.codes[band_set.codes.index(rule.band) :]
                codes += [c for c in above if c not in codes]
        return tuple(codes)

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
        Band(**_take(b, f"{where}.bands[{i}]", ("code", "name_zh", "name_en", "lower"), ()))
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
        (
            "code",
            "version",
            "name_zh",
            "name_en",
            "abbreviation",
            "n_items",
            "item_values",
            "scales",
            "sources",
            "licence",
        ),
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
            "options",
            "screen_positive",
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
    if d.get("options") is not None:
        d["options"] = _options(d["options"], f"{where}.options")
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
    if d.get("screen_positive") is not None:
        rule = _take(
            d["screen_positive"],
            f"{where}.screen_positive",
            ("source",),
            ("scale", "band", "flags", "metric", "note"),
        )
        rule["flags"] = tuple(rule.get("flags", ()))
        d["screen_positive"] = ScreenPositive(**rule)
    spec = InstrumentSpec(**d)
    _check(spec)
    return spec


def _options(data: Mapping, where: str) -> Options:
    d = _take(data, where, ("choices", "source", "confidence"), ())
    choices = []
    for i, c in enumerate(d.pop("choices")):
        c = _take(c, f"{where}.choices[{i}]", ("code", "labels"), ())
        labels = tuple(str(label) for label in c["labels"])
        if not labels:
            raise SpecError(f"{where}.choices[{i}]: at least one label")
        choices.append(Choice(code=c["code"], labels=labels))
    return Options(choices=tuple(choices), **d)


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
        names: dict[str, tuple[str, str]] = {}
        for band in (b for bs in s.bands for b in bs.bands):
            named = (band.name_zh, band.name_en)
            if names.setdefault(band.code, named) != named:
                raise SpecError(f"{w}: band {band.code!r} is named both {names[band.code]} and {named}")
    for f in spec.flags:
        for c in f.any_of:
            if (c.item is None) == (not c.scales) or not set(c.scales) <= set(codes):
                raise SpecError(f"{where}.flag_{f.name}: each condition needs an item or known scales")
            items_used.extend([c.item] if c.item is not None else [])
    bad = sorted({i for i in items_used if not 1 <= i <= spec.n_items})
    if bad:
        raise SpecError(f"{where}: item numbers outside 1..{spec.n_items}: {bad}")
    if spec.options is not None:
        option_codes = [c.code for c in spec.options.choices]
        labels = [label for c in spec.options.choices for label in c.labels]
        if sorted(option_codes) != list(spec.item_values):
            raise SpecError(
                f"{where}: option codes {option_codes} must be the item values {spec.item_values}"
            )
        if len(set(labels)) != len(labels):
            raise SpecError(f"{where}: an option label stands for two codes: {labels}")
        if spec.options.confidence not in ("A", "B", "C"):
            raise SpecError(f"{where}: options confidence {spec.options.confidence!r} is A, B or C")
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
    if spec.screen_positive is not None:
        _check_screen_positive(spec)
    cutoffs = [(a.scale, a.at_least) for a in spec.accuracy]
    if len(set(cutoffs)) != len(cutoffs):
        raise SpecError(f"{where}: two accuracy entries for one cut-off in {cutoffs}")


def _check_screen_positive(spec: InstrumentSpec) -> None:
    """A band of a known scale present in every band set on its metric, and/or known flags; a source."""
    rule, where = spec.screen_positive, f"{spec.code}.screen_positive"
    if not str(rule.source).strip():
        raise SpecError(f"{where}: a source is required")
    if rule.metric not in METRICS:
        raise SpecError(f"{where}: metric {rule.metric!r} not in {METRICS}")
    if (rule.scale is None) != (rule.band is None):
        raise SpecError(f"{where}: scale and band go together (the band of that scale from which on)")
    if rule.scale is None and not rule.flags:
        raise SpecError(f"{where}: needs a scale and band, flags, or both")
    unknown = [f for f in rule.flags if f not in {flag.name for flag in spec.flags}]
    if unknown:
        raise SpecError(f"{where}: unknown flag(s) {unknown}; flags: {[f.name for f in spec.flags]}")
    if rule.scale is None:
        return
    if rule.scale not in spec.scale_codes:
        raise SpecError(f"{where}: unknown scale {rule.scale!r}")
    band_sets = [b for b in spec.scale(rule.scale).bands if b.metric == rule.metric]
    if not band_sets or any(rule.band not in b.codes for b in band_sets):
        raise SpecError(
            f"{where}: band {rule.band!r} must be in every {rule.metric} band set of {rule.scale!r}: "
            f"{[b.codes for b in band_sets]}"
        )
