"""The crisis and archive conventions of ``conventions.yaml``: names of codes, warning scales."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from psychanalytics.config import Settings

_KINDS = ("stages", "levels", "sources", "archive_categories")


@dataclass(frozen=True)
class WarningLevel:
    """How one severity is shown: label (Chinese, English), the colour's Chinese name, its hex code for
    areas and a darker one for lines."""

    severity: int
    label_zh: str
    label_en: str
    colour_zh: str
    colour: str
    line_colour: str


@dataclass(frozen=True)
class WarningScale:
    """A locality's way of labelling and colouring the three severities (``severity`` 3 = most severe).

    Examples
    --------
    >>> scale = warning_scale("first_most_severe")
    >>> scale.label(3), scale.label(1, english=True), scale.colour(3)
    ('一级预警（红色）', 'level 3 (yellow)', '#f03b20')
    """

    code: str
    name_zh: str
    name_en: str
    levels: tuple[WarningLevel, ...]

    def level(self, severity: int) -> WarningLevel:
        """The level of ``severity`` (1-3); ``KeyError`` naming the severities the scale has."""
        for level in self.levels:
            if level.severity == severity:
                return level
        raise KeyError(f"warning scale {self.code!r} has severities {[x.severity for x in self.levels]}")

    def label(self, severity: int, *, english: bool = False) -> str:
        """The label of ``severity`` in Chinese (or English)."""
        level = self.level(severity)
        return level.label_en if english else level.label_zh

    def colour(self, severity: int) -> str:
        """The hex colour of ``severity``."""
        return self.level(severity).colour


@cache
def _conventions() -> dict:
    text = resources.files(__package__).joinpath("conventions.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for kind in _KINDS:
        codes = [entry["code"] for entry in data[kind]]
        if len(set(codes)) != len(codes):
            raise ValueError(f"conventions.yaml: {kind} repeats a code: {codes}")
    for scale in data["warning_scales"]:
        if sorted(level["severity"] for level in scale["levels"]) != [1, 2, 3]:
            raise ValueError(
                f"conventions.yaml: warning scale {scale['code']!r} must label severities 1, 2, 3"
            )
    return data


def codes(kind: str) -> tuple[str, ...]:
    """The codes of ``kind`` (``stages``, ``levels``, ``sources``, ``archive_categories``), in order.

    >>> codes("stages")
    ('raised', 'confirmed', 'intervention', 'referred', 'closed')
    """
    if kind not in _KINDS:
        raise KeyError(f"unknown convention {kind!r}; one of {_KINDS}")
    return tuple(entry["code"] for entry in _conventions()[kind])


def name(kind: str, code: str, *, english: bool = False) -> str:
    """The Chinese (or English) name of a stage, level, source or archive category.

    >>> name("stages", "confirmed"), name("sources", "class_committee"), name("levels", "society", english=True)
    ('评估确认', '心理委员', 'society (family, guidance centre, hospital)')
    """
    for entry in _conventions()[kind] if kind in _KINDS else ():
        if entry["code"] == code:
            return entry["name_en" if english else "name_zh"]
    raise KeyError(f"{kind}: unknown code {code!r}; codes: {codes(kind)}")


def warning_scale(code: str | None = None) -> WarningScale:
    """The warning scale ``code`` of ``conventions.yaml``; default ``PSYCHANALYTICS_WARNING_SCALE``.

    >>> warning_scale().code
    'colours'
    >>> warning_scale("colours").label(2)
    '橙色预警'
    """
    code = Settings.from_env().warning_scale if code is None else code
    scales = {scale["code"]: scale for scale in _conventions()["warning_scales"]}
    if code not in scales:
        raise KeyError(f"unknown warning scale {code!r}; conventions.yaml has {sorted(scales)}")
    scale = scales[code]
    levels = tuple(
        WarningLevel(**level) for level in sorted(scale["levels"], key=lambda x: x["severity"], reverse=True)
    )
    return WarningScale(code, scale["name_zh"], scale["name_en"], levels)


def warning_scales() -> tuple[str, ...]:
    """Codes of the warning scales ``conventions.yaml`` defines.

    >>> warning_scales()
    ('colours', 'first_most_severe', 'first_least_severe')
    """
    return tuple(scale["code"] for scale in _conventions()["warning_scales"])
