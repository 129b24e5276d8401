"""The 「心理普测」 page for district leaders: PHQ-9 bands, screen-positive trend, funnel of schools, coverage.

Every number comes from the published mart (:mod:`psychanalytics.mart.screening`:
each quantity at four levels — district, stage, urban / township, both — for
every wave, protected when published). The filters (wave, stage 学段,
urban / township 城乡) choose one level's rows; nothing is added up here.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd

from psychanalytics import instruments, viz
from psychanalytics.dashboards import _card
from psychanalytics.dashboards._page import LeaderPage, chart, chart_row, dropdown, english, leader_page
from psychanalytics.mart import Mart
from psychanalytics.mart import screening as ms
from psychanalytics.privacy import shown_text
from psychanalytics.screening import FunnelResult, TrendResult
from psychanalytics.screening._funnel import POSITIONS
from psychanalytics.screening._trends import STAGE_WORDS
from psychanalytics.viz import screening as vs

SCREENING_TITLE = ("心理普测", "Screening")
SLICE_WORDS = {"stage": ("全部学段", "all stages"), "location": ("城区与乡镇", "urban and township")}
"""What 「全部」 reads in each filter."""
LOCATION_ORDER = ("urban", "township")
DIMENSIONS = (("stage", "学段"), ("grade", "年级（全区）"), ("gender", "性别（全区）"))
"""The breakdowns within one wave, in the order of the chart's panels."""


QUANTITIES = {
    "bands": ms.BANDS,
    "grade_bands": ms.GRADE_BANDS,
    "gender_bands": ms.GENDER_BANDS,
    "positive": ms.POSITIVE,
    "coverage": ms.COVERAGE,
    "invalid": ms.INVALID,
}
"""What the page draws, each published at levels of :data:`psychanalytics.mart.screening.LEVELS` (grade and
gender: the district only)."""


def _views(mart: Mart) -> dict[str, pd.DataFrame]:
    """Every mart table the page shows, by its name."""
    names = [table.name for tables in QUANTITIES.values() for table in tables.values()]
    return {name: mart.table(name) for name in (*names, ms.FUNNEL.name, ms.FUNNEL_DISTRICT.name)}


def _rows(views: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each quantity's four level tables as one frame of rows to choose from (``stage``, ``location``: 「全部」
    where the table does not split by it), and the funnel's two tables; nothing is added up."""
    rows = {}
    for quantity, tables in QUANTITIES.items():
        rows[quantity] = pd.concat(
            [
                views[table.name].assign(**{c: ms.SLICE_ALL for c in ms.SLICE if c not in ms.LEVELS[suffix]})
                for suffix, table in tables.items()
            ],
            ignore_index=True,
        )
    return rows | {"funnel": views[ms.FUNNEL.name], "funnel_district": views[ms.FUNNEL_DISTRICT.name]}


def _slice(frame: pd.DataFrame, stage: str, location: str) -> pd.DataFrame:
    """The published rows of one slice, in wave order."""
    rows = frame[(frame["stage"] == stage) & (frame["location"] == location)]
    return rows.sort_values("window_start", kind="stable")


def _slice_name(stage: str, location: str) -> str:
    parts = [vs.group_name("stage", stage) if stage != ms.SLICE_ALL else ""]
    parts.append(vs.group_name("location", location) if location != ms.SLICE_ALL else "")
    return "·".join(p for p in parts if p) or "全区"


def _options(values, column: str) -> list[tuple[str, str]]:
    """A filter's choices: 「全部」 first, then the published values in the page's order (unknown left out)."""
    order = list(STAGE_WORDS) if column == "stage" else list(LOCATION_ORDER)
    present = [v for v in order if v in set(values)]
    return [(SLICE_WORDS[column][0], ms.SLICE_ALL)] + [(vs.group_name(column, v), v) for v in present]


def _cards(views: dict, wave: str | None, stage: str, location: str) -> widgets.HTML:
    spec = instruments.get(ms.SCREENING_INSTRUMENT)
    pick = {name: _slice(views[name], stage, location) for name in ("positive", "coverage", "invalid")}
    pick = {name: frame[frame["wave_id"] == wave] for name, frame in pick.items()}
    positive = pick["positive"][pick["positive"]["result"] == "positive"]

    def text(row, column, template="{:,}"):
        return shown_text(row[column], row["marker"], template=template)

    def card(label, label_en, frame, value, detail):
        if frame.empty:
            return _card(label, label_en, "—", "暂无数据 / no data")
        row = frame.iloc[0]
        return _card(label, label_en, value(row), detail(row))

    where = f"{vs.group_name('wave', wave) if wave else ''} · {_slice_name(stage, location)}"
    cards = (
        card(
            f"{spec.abbreviation} 筛查阳性率",
            f"{vs.screen_positive_rule(ms.SCREENING_INSTRUMENT)} · screen-positive rate (95% CI)",
            positive,
            lambda r: text(r, "proportion", "{:.1%}"),
            lambda r: (
                f"{text(r, 'count')} / {text(r, 'n')} 人 · 95%区间 {text(r, 'low', '{:.1%}')}–"
                f"{text(r, 'high', '{:.1%}')} · {where}"
            ),
        ),
        card(
            "受测覆盖率",
            "students screened of those enrolled",
            pick["coverage"],
            lambda r: text(r, "proportion", "{:.1%}"),
            lambda r: f"受测 {text(r, 'count')} / 应测 {text(r, 'n')} 人 · {where}",
        ),
        card(
            "无效问卷",
            "invalid or unscoreable sheets",
            pick["invalid"],
            lambda r: f"{text(r, 'count')} 份",
            lambda r: f"占交回问卷 {text(r, 'proportion', '{:.1%}')}（共 {text(r, 'n')} 份）· {where}",
        ),
    )
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:6px 0">{"".join(cards)}</div>')


def _within_wave(views: dict, wave: str | None, stage: str, location: str) -> pd.DataFrame:
    """The wave's bands by stage, grade and gender as one frame with a panel column (``dimension``)."""
    bands = views["bands"]
    by_stage = bands[(bands["wave_id"] == wave) & (bands["location"] == location)]
    by_stage = by_stage[~by_stage["stage"].isin([ms.SLICE_ALL, ms.UNKNOWN])]
    if stage != ms.SLICE_ALL:
        by_stage = by_stage[by_stage["stage"] == stage]
    order = {v: i for i, v in enumerate(STAGE_WORDS)}
    parts = [by_stage.assign(group=by_stage["stage"], rank=by_stage["stage"].map(order))]
    for column, name in (("grade", "grade_bands"), ("gender", "gender_bands")):
        rows = _slice(views[name], ms.SLICE_ALL, ms.SLICE_ALL)  # published for the district only
        rows = rows[(rows["wave_id"] == wave) & rows[column].notna()]
        parts.append(rows.assign(group=rows[column], rank=rows[column]))
    frames = []
    for (column, word), part in zip(DIMENSIONS, parts, strict=True):
        part = part.sort_values(["rank", "band_rank"], kind="stable")
        frames.append(part.assign(dimension=word, x=[vs.group_name(column, v) for v in part["group"]]))
    return pd.concat(frames, ignore_index=True)


def _trend(positive: pd.DataFrame, name: str) -> TrendResult:
    """The slice's published screen-positive rates per wave, as the trend figure draws them."""
    rows = positive[positive["result"] == "positive"]
    waves = pd.DataFrame(
        {
            "slice": name,
            "wave": rows["wave_label"].to_numpy(),
            "students": rows["n"].to_numpy(dtype=float, na_value=np.nan),
            "schools": np.nan,
            "estimate": rows["proportion"].to_numpy(dtype=float),
            "low": rows["low"].to_numpy(dtype=float),
            "high": rows["high"].to_numpy(dtype=float),
        }
    )
    return TrendResult(waves, pd.DataFrame(), "rate", "Wilson interval per wave, design effect of schools")


def _funnel(views: dict, wave: str | None, stage: str, location: str) -> FunnelResult:
    """The wave's published schools (of the chosen stage and location) around the district's centre line."""
    district = views["funnel_district"]
    district = district[district["wave_id"] == wave]
    schools = views["funnel"]
    schools = schools[schools["wave_id"] == wave]
    if stage != ms.SLICE_ALL:
        schools = schools[schools["stage"] == stage]
    if location != ms.SLICE_ALL:
        schools = schools[schools["location"] == location]
    position = {code: name for name, code in ms.OUTLIER.items()}
    table = pd.DataFrame(
        {
            "school": schools["school"].to_numpy(),
            "count": schools["count"].to_numpy(dtype=float, na_value=np.nan),
            "n": schools["n"].to_numpy(dtype=float, na_value=np.nan),
            "value": schools["proportion"].to_numpy(dtype=float),
            **{c: schools[c].to_numpy(dtype=float) for c in ms.LIMITS},
            "position": pd.Categorical(schools["outlier"].map(position), categories=POSITIONS),
            "suppressed": schools["suppressed"].to_numpy(dtype=bool),
        }
    )
    if district.empty or pd.isna(district["proportion"].iloc[0]):
        return FunnelResult(table.iloc[0:0], "proportion", np.nan, False, np.nan, 0.0, "")
    row = district.iloc[0]
    adjusted = bool(row["adjusted"])
    return FunnelResult(table, "proportion", float(row["proportion"]), adjusted, float(row["phi"]),
                        float(row["tau2"]), "")  # fmt: skip


def _charts(views: dict, wave: str | None, stage: str, location: str) -> list[widgets.Widget]:
    spec = instruments.get(ms.SCREENING_INSTRUMENT)
    name = _slice_name(stage, location)
    wave_name = vs.group_name("wave", wave) if wave else ""
    bands = _slice(views["bands"], stage, location)
    within = _within_wave(views, wave, stage, location)
    schools = views["funnel"]
    names = dict(zip(schools["school"], schools["school_name"], strict=True))
    band_fig = viz.band_bars(
        bands, title=viz.bilingual(f"{spec.abbreviation} 风险等级分布 · {name}", "score bands per wave")
    )
    within_fig = viz.band_bars(
        within, x="x", facet="dimension" if not within.empty else None, x_title=wave_name or None,
        title=viz.bilingual(f"{wave_name} 按学段、年级、性别的风险等级分布 · {name}",
                            "score bands by stage, grade and gender"),
    )  # fmt: skip
    within_fig.update_layout(legend_y=1.05)  # above the panels' 100% tick
    trend_fig = vs.trend_lines(
        _trend(_slice(views["positive"], stage, location), name),
        title=viz.bilingual(f"{spec.abbreviation} 筛查阳性率变化（含95%置信区间）· {name}",
                            "screen-positive rate per wave, 95% CI"),
    )  # fmt: skip
    funnel_fig = vs.funnel_plot(
        _funnel(views, wave, stage, location), names=names,
        title=viz.bilingual(f"{wave_name} 各校筛查阳性率漏斗图", "funnel plot of schools"),
    )  # fmt: skip
    coverage_fig = vs.share_bars(
        _slice(views["coverage"], stage, location), x="wave_label", unit="人", colour=vs.SERIES_COLOURS[2],
        title=viz.bilingual(f"受测覆盖率 · {name}", "students screened of those enrolled"),
        y_title=viz.bilingual("受测 / 应测", "coverage"),
    )  # fmt: skip
    invalid_fig = vs.share_bars(
        _slice(views["invalid"], stage, location), x="wave_label", unit="份", colour=vs.SERIES_COLOURS[3],
        template="{:.1f}%", title=viz.bilingual(f"无效问卷 · {name}", "invalid or unscoreable sheets"),
        y_title=viz.bilingual("无效 / 交回问卷", "share of sheets"),
    )  # fmt: skip
    return [
        chart_row(
            [
                chart(
                    band_fig,
                    "每根柱子是一次普测，颜色越深风险等级越高；柱顶留空的是人数少于10人而不显示的等级。",
                    "one column per wave; darker is higher risk",
                    width="50%",
                ),
                chart(
                    trend_fig,
                    "点是各次普测的筛查阳性率，阴影是95%置信区间；区间重叠时变化可能只是随机波动。",
                    "rate per wave with its 95% interval; overlapping intervals may be chance",
                    width="50%",
                ),
            ]
        ),  # fmt: skip
        chart(
            within_fig,
            "所选批次内，比较各学段、年级、性别深色部分的厚度；留空的等级人数过少，不显示。",
            "within the chosen wave: compare the dark parts across stages, grades and genders",
        ),
        chart(
            funnel_fig,
            "每个点是一所学校：越靠右学生越多；落在两条实线之外才值得进一步了解，这不是排名。",
            "each point a school; only a point outside the solid lines calls for a closer look — not a ranking",
        ),
        chart_row(
            [
                chart(
                    coverage_fig,
                    "应测学生中实际参加 PHQ-9 普测的比例；低于 90% 时结果可能偏离实际。",
                    "share of students enrolled in the grades screened who took PHQ-9",
                    width="50%",
                ),
                chart(
                    invalid_fig,
                    "交回的问卷中无法计分或判为无效的份数，与“未参加普测”分开统计。",
                    "invalid or unscoreable sheets, counted apart from students not screened",
                    width="50%",
                ),
            ]
        ),  # fmt: skip
    ]


def _notes() -> list[tuple[str, str]]:
    spec = ms.SCREENING_INSTRUMENT
    return [
        (
            f"筛查阳性：{vs.screen_positive_rule(spec)}。筛查阳性率是达到界值的学生占比，提示需要进一步访谈，"
            "不是患病率，也不是诊断。置信区间按学生在学校内聚集的设计效应放宽（Wilson 区间）。",
            f"Screen-positive: {vs.screen_positive_rule(spec, english=True)}. A screen-positive rate flags "
            "students for follow-up; it is not prevalence nor a diagnosis. Intervals: Wilson, widened by the "
            "design effect of students clustered in schools.",
        ),
        (
            "学校之间只用漏斗图比较，不排名次：控制限围绕全区筛查阳性率，学校越大限越窄；筛查阳性人数或筛查人数"
            "少于 10 人的学校不画点（仍计入中心线）。学段、城乡为学校属性，「乡镇」含乡镇中心校；"
            "应测人数为已施测年级的在册学生。",
            "Schools are compared on the funnel plot only, never ranked; a school is drawn only when its counts "
            "pass the policy. Stage and urban / township are the school's; coverage counts students enrolled in "
            "the grades screened.",
        ),
        (viz.band_legend(spec, ms.SCREENING_SCALE), viz.band_legend(spec, ms.SCREENING_SCALE, english=True)),
    ]


def _body(mart: Mart):
    published = _views(mart)
    views = _rows(published)
    waves = views["positive"].drop_duplicates("wave_id").sort_values("window_start", kind="stable")
    wave_options = [(vs.group_name("wave", w), w) for w in waves["wave_id"]][::-1]  # the latest first
    state = {
        "wave": wave_options[0][1] if wave_options else None,
        "stage": ms.SLICE_ALL,
        "location": ms.SLICE_ALL,
    }
    box = widgets.VBox(layout=widgets.Layout(width="100%"))

    def redraw(**change) -> None:
        state.update(change)
        box.children = (
            _cards(views, state["wave"], state["stage"], state["location"]),
            *_charts(views, state["wave"], state["stage"], state["location"]),
        )

    filters = (
        dropdown(wave_options or [("暂无数据", None)], "普测批次", lambda v: redraw(wave=v)),
        dropdown(_options(views["bands"]["stage"], "stage"), "学段", lambda v: redraw(stage=v)),
        dropdown(_options(views["bands"]["location"], "location"), "城乡", lambda v: redraw(location=v)),
    )
    if filters[0].value != state["wave"]:
        filters[0].value = state["wave"]  # draws the page, as every change of a filter does
    else:
        redraw()
    bar = widgets.HBox(
        [
            *filters,
            widgets.HTML(
                '<div style="font-size:13px;color:#555;padding-top:6px">选择批次、学段、城乡，下面的数字和图随之更新 '
                f"{english('the filters redraw the numbers and charts below')}</div>"
            ),
        ],
        layout=widgets.Layout(flex_flow="row wrap"),
    )
    return [bar, box], published, {"notes": _notes(), "specs": (ms.SCREENING_INSTRUMENT,), "filters": filters,
                               "charts": box}  # fmt: skip


def build_screening(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「心理普测」 page for district leaders, read from the published mart.

    Filters (wave, stage 学段, urban / township 城乡) above three headline
    numbers of the chosen wave and slice (PHQ-9 screen-positive rate with its
    95 % interval and denominator, coverage, invalid sheets) and six charts,
    each with its 「怎么看」 hint: PHQ-9 bands per wave; the screen-positive
    rate per wave with Wilson intervals; bands by stage, grade and gender
    within the wave; the funnel plot of schools (never a ranking; a school is
    drawn only when its counts pass the policy); coverage; invalid sheets.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        The published mart; default ``PSYCHANALYTICS_MART``.

    Returns
    -------
    LeaderPage
        ``views``: every mart table behind a number, by name (the four levels
        of ``screening_bands``, ``screening_grade_bands``,
        ``screening_gender_bands``, ``screening_positive``,
        ``screening_coverage``, ``screening_invalid``; ``screening_funnel``,
        ``screening_funnel_district``); ``filters``: the three dropdowns;
        ``charts``: the box they redraw. A mart that cannot be read gives the
        page saying so.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import mart, store
    >>> from psychanalytics.dashboards import build_screening
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = mart.publish(engine, folder / "mart.sqlite")
    >>> page = build_screening(folder / "mart.sqlite")
    >>> "心理普测" in page.children[0].value, [f.description for f in page.filters]
    (True, ['普测批次', '学段', '城乡'])
    """
    return leader_page(mart, *SCREENING_TITLE, _body)
