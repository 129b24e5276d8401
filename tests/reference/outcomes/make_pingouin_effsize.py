"""Reference for psychanalytics.outcomes.effect_size: pingouin 0.7.0's documented examples.

The cases are the Examples of ``pingouin.compute_effsize`` (pingouin/effsize.py, 0.7.0;
https://pingouin-stats.org/build/html/generated/pingouin.compute_effsize.html); the script checks
that pingouin still prints the documented value and adds its paired ``"cohen"`` (d_av) for the same
data and for Lakens' (2013) movie ratings.

Run: .venv/bin/python tests/reference/outcomes/make_pingouin_effsize.py   (writes pingouin_effsize.json)
"""

import json
from pathlib import Path

import pingouin as pg

DOCUMENTED = [
    # (x, y, paired, eftype, documented value, our kind)
    ([1, 2, 3, 4], [3, 4, 5, 6, 7], False, "cohen", -1.707825127659933, "cohen_d"),
    ([1, 2, 3, 4, 5, 6, 7], [1, 3, 5, 7, 9, 11, 13], True, "hedges", -0.8222477210374874, "hedges_g"),
    ([1, 2, 3, 4, 5, 6, 7], [1, 3, 5, 7, 9, 11, 13], True, "cohen_dz", -1.3887301496588271, "cohen_dz"),
]
EXTRA = [
    ([1, 2, 3, 4, 5, 6, 7], [1, 3, 5, 7, 9, 11, 13], True, "cohen", "cohen_dav"),
    ([9, 7, 8, 9, 8, 9, 9, 10, 9, 9], [9, 6, 7, 8, 7, 9, 8, 8, 8, 7], True, "cohen", "cohen_dav"),
]


def main() -> None:
    assert pg.__version__ == "0.7.0", pg.__version__
    cases = []
    for x, y, paired, eftype, documented, kind in DOCUMENTED:
        value = pg.compute_effsize(x, y, paired=paired, eftype=eftype)
        assert value == documented, (eftype, value, documented)
        call = f"pg.compute_effsize({x}, {y}, paired={paired}, eftype={eftype!r})"
        cases.append(
            {"call": call, "x": x, "y": y, "paired": paired, "kind": kind, "value": value, "documented": True}
        )
    for x, y, paired, eftype, kind in EXTRA:
        call = f"pg.compute_effsize({x}, {y}, paired={paired}, eftype={eftype!r})"
        cases.append(
            {
                "call": call,
                "x": x,
                "y": y,
                "paired": paired,
                "kind": kind,
                "value": pg.compute_effsize(x, y, paired=paired, eftype=eftype),
                "documented": False,
            }
        )

    out = {
        "source": {
            "software": "pingouin 0.7.0",
            "function": "pingouin.compute_effsize",
            "where": "documented: the Examples of pingouin.compute_effsize (pingouin/effsize.py, 0.7.0); "
            "the others computed by this script with pingouin 0.7.0",
            "note": "pingouin's paired 'cohen' is d_av = (Mx - My) / sqrt((sx^2 + sy^2) / 2); its 'hedges' multiplies "
            "by the approximation 1 - 3 / (4 (nx + ny) - 9) of Hedges' J, ours by the exact J(nx + ny - 2)",
            "script": "make_pingouin_effsize.py",
        },
        "cases": cases,
    }
    Path(__file__).with_name("pingouin_effsize.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
