"""The instrument registry: one declarative spec per screening instrument.

Each instrument is a YAML file in ``specs/`` (items and coding, scales with
their item numbers, reverse keys, missing-data rule, bands per informant and
norm, validity scale, flags, published screening accuracy of cut-offs, age
range, licence, sources, version). This package only loads and checks them;
:func:`psychanalytics.scoring.score` turns a spec into scores. The rules and
their sources are summarised in ``docs/instruments.md``.

Examples
--------
>>> from psychanalytics import instruments
>>> "phq9" in instruments.available()
True
>>> spec = instruments.get("sdq")
>>> spec.n_items, spec.item_values, spec.informants
(25, (0, 1, 2), ('self', 'parent', 'teacher'))
>>> spec.scale("emotional").items
(3, 8, 13, 16, 24)
>>> spec.licence.render_items
False
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from psychanalytics.instruments._spec import (
    Accuracy,
    Band,
    BandRange,
    BandSet,
    Condition,
    Flag,
    InstrumentSpec,
    Licence,
    LieScale,
    Scale,
    ScreenPositive,
    SpecError,
    UncertainRule,
    UncertainRuleWarning,
    spec_from_dict,
)

__all__ = [
    "Accuracy",
    "Band",
    "BandRange",
    "BandSet",
    "Condition",
    "Flag",
    "InstrumentSpec",
    "Licence",
    "LieScale",
    "Scale",
    "ScreenPositive",
    "SpecError",
    "UncertainRule",
    "UncertainRuleWarning",
    "available",
    "get",
]


# libyaml's loader when PyYAML was built with it: the same safe subset, ten times faster
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _registry() -> dict[str, InstrumentSpec]:
    specs = {}
    for path in sorted(resources.files(__package__).joinpath("specs").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".yaml"):
            continue
        spec = spec_from_dict(yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader))
        if f"{spec.code}.yaml" != path.name:
            raise SpecError(
                f"{path.name} declares code {spec.code!r}; the file must be named {spec.code}.yaml"
            )
        specs[spec.code] = spec
    return specs


def available() -> tuple[str, ...]:
    """Codes of the registered instruments, sorted.

    Examples
    --------
    >>> available()
    ('cesd', 'cesdc', 'dsrsc', 'gad7', 'mht', 'mssmhs', 'phq9', 'phqa', 'scared', 'scl90', 'sdq')
    """
    return tuple(sorted(_registry()))


def get(code: str) -> InstrumentSpec:
    """The spec registered as ``code`` (case-insensitive).

    Raises
    ------
    KeyError
        If no instrument has that code; the message lists the available codes.

    Examples
    --------
    >>> spec = get("PHQ9")
    >>> spec.code, spec.n_items, spec.item_values
    ('phq9', 9, (0, 1, 2, 3))
    >>> [s.code for s in spec.scales]
    ['total']
    """
    registry = _registry()
    key = str(code).strip().lower()
    if key not in registry:
        raise KeyError(f"unknown instrument {code!r}; available: {', '.join(sorted(registry))}")
    return registry[key]
