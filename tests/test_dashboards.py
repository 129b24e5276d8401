"""Leader dashboards: the policy on every page, the 「总览」 widget tree, files, and the live page in Chromium."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import ipywidgets as widgets
import pytest
import requests
import sqlalchemy as sa

from psychanalytics import dashboards, store, synth
from psychanalytics.privacy import PROTECTED_MARKER, small_marker
from psychanalytics.store import schema

PLOTLY = "application/vnd.plotly.v1+json"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _html(page) -> str:
    return "\n".join(w.value for w in _walk(page) if isinstance(w, widgets.HTML))


def _figures(page) -> list[dict]:
    return [
        output["data"][PLOTLY]
        for w in _walk(page)
        if isinstance(w, widgets.Output)
        for output in w.outputs
        if PLOTLY in output["data"]
    ]


# --- the policy on every leader page ---------------------------------------------------------

BUILDERS = sorted(
    (name, function)
    for name, function in inspect.getmembers(dashboards, inspect.isfunction)
    if name.startswith("build_") and function.__module__ == dashboards.__name__
)


def test_every_builder_is_checked():
    assert "build_overview" in dict(BUILDERS)


@pytest.fixture(scope="module")
def small_synthetic_district(tmp_path_factory) -> Path:
    """The smallest synthetic district (500 students a year): several PHQ-9 bands under 10 in every wave."""
    path = tmp_path_factory.mktemp("small") / "small.sqlite"
    engine = store.connect(path)
    synth.build_demo(engine, seed=3, students=synth.MIN_STUDENTS)
    engine.dispose()
    return path


def _shown_numbers(view) -> set[float]:
    """Every number a view lets a page show, as drawn (counts, and proportions as percentages)."""
    numbers = set()
    for frame in (view.cells, view.headline):
        if frame is None:
            continue
        for column in ("count", "n", "proportion", "low", "high"):
            if column in frame:
                scale = 100 if column in ("proportion", "low", "high") else 1
                numbers |= {round(float(v) * scale, 6) for v in frame[column].dropna()}
    return numbers


def _check_view(name: str, view) -> int:
    """The policy held in one view; returns how many values it blanked."""
    small, cells = small_marker(view.min_cell), view.cells
    if view.unit == "school":
        return 0
    for frame in (cells, view.headline):
        if frame is None:
            continue
        # no shown count or share resting on fewer than min_cell students
        assert (frame["count"].dropna() >= view.min_cell).all(), name
        assert (frame["n"].dropna() >= view.min_cell).all(), name
        if "proportion" in frame:
            rests = frame["proportion"].notna()
            assert frame.loc[rests, "count"].notna().all() and frame.loc[rests, "n"].notna().all(), name
        blanked = frame["count"].isna() | frame["n"].isna()
        assert frame.loc[blanked, "marker"].isin([small, PROTECTED_MARKER]).all(), name
    if view.by:
        for key, group in cells.groupby(list(view.by), dropna=False):
            blanks = group["count"].isna()
            if group["n"].notna().all() and blanks.any():
                # no blanked cell recoverable from the group's shown total: never one blank alone, and the
                # blanks hold min_cell or more together (n - shown cells is shown implicitly)
                assert blanks.sum() != 1, (name, key)
                assert group["n"].iloc[0] - group.loc[~blanks, "count"].sum() >= view.min_cell, (name, key)
    return int(cells["count"].isna().sum())


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=[name for name, _ in BUILDERS])
@pytest.mark.parametrize("district", ["small_synthetic_district", "hand_built_district"])
def test_every_leader_page_keeps_the_policy(name, build, district, request):
    db = request.getfixturevalue(district)
    page = build(db, min_cell=10)
    assert isinstance(page, dashboards.LeaderPage) and page.views, (
        f"{name} must return a LeaderPage with views"
    )
    blanked = sum(_check_view(view_name, view) for view_name, view in page.views.items())
    assert blanked > 0  # both districts have small cells: the check saw suppression at work
    # the page draws nothing but what its views allow: every bar height is a shown number
    allowed = set().union(*(_shown_numbers(view) for view in page.views.values()))
    for figure in _figures(page):
        for trace in figure["data"]:
            for value in trace.get("y", []):
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    assert round(float(value), 6) in allowed, (name, trace.get("name"), value)
    # and no headline card shows a value its view blanked
    text = _html(page)
    for view in page.views.values():
        if view.headline is not None and not view.headline.empty and view.headline["count"].isna().iloc[-1]:
            assert f"{view.headline['marker'].iloc[-1]} / " in text.replace("&lt;", "<")


# --- widget tree ----------------------------------------------------------------------------


def test_overview_on_demo_district(demo_db):
    page = dashboards.build_overview(demo_db)
    text = _html(page)
    assert "钟楼区学生心理健康总览" in text
    assert "演示数据" in page.children[0].value  # the banner comes first
    for label in ("最近一次普测人数", "PHQ-9 ≥10 占比", "专职心理教师配备率", "数据截至"):
        assert label in text
    figures = _figures(page)
    assert len(figures) == 3
    for figure in figures:
        assert any(v is not None for trace in figure["data"] for v in trace["y"])
    band_names = [trace["name"] for trace in figures[1]["data"]]
    assert band_names == ["无或极轻微", "轻度", "中度", "中重度", "重度"]  # the spec's names, not codes
    for cut_off_range in (
        "0–4 无或极轻微",
        "10–14 中度",
        "20–27 重度",
        "20–27 Severe",
    ):  # footnote, from phq9.yaml
        assert cut_off_range in text
    assert "PHQ-9 ≥10 占比" in text


def _small_district(engine: sa.Engine) -> None:
    """One real (not synthetic) school; 12 students screened: 10 minimal, 2 severe."""
    pids = [f"{i:032x}" for i in range(12)]
    with engine.begin() as conn:
        store.upsert(
            conn,
            schema.school,
            [dict(school_id="S1", name="示例中学", stage="junior", location="urban", is_synthetic=False)],
        )
        store.upsert(
            conn,
            schema.school_year_stats,
            [dict(school_id="S1", school_year="2024-2025", enrolment=12, n_classes=1)],
        )
        store.upsert(conn, schema.student, [dict(pid=p, gender="F") for p in pids])
        store.upsert(
            conn,
            schema.screening_wave,
            [
                dict(wave_id="W", school_year="2024-2025", season="autumn", window_start=dt.date(2024, 10, 8),
                     window_end=dt.date(2024, 10, 31), label="2024年秋季普测")
            ],
        )  # fmt: skip
        store.upsert(
            conn,
            schema.response,
            [
                dict(wave_id="W", pid=p, instrument="phq9", instrument_version="1", items=bytes(9))
                for p in pids
            ],
        )
        store.upsert(
            conn,
            schema.score,
            [
                dict(wave_id="W", pid=p, instrument="phq9", scale="total", raw=0.0 if i < 10 else 21.0,
                     band="minimal" if i < 10 else "severe", band_rank=0 if i < 10 else 4, spec_version="1")
                for i, p in enumerate(pids)
            ],
        )  # fmt: skip


@pytest.fixture
def hand_built_district(sqlite_engine) -> sa.Engine:
    _small_district(sqlite_engine)
    return sqlite_engine


def test_small_cells_never_reach_the_page(sqlite_engine):
    _small_district(sqlite_engine)
    page = dashboards.build_overview(sqlite_engine, min_cell=10)
    text = _html(page)
    assert "演示数据" not in text
    assert ">12<" in text  # 12 screened: shown, though no enrolment was imported (全区在册 <10)
    assert "全区在册 &lt;10 人" in text
    assert "&lt;10 / 12 人" in text  # 2 severe of 12 (PHQ-9 >= 10): suppressed on the headline card
    bands = _figures(page)[1]["data"]
    by_name = {trace["name"]: trace for trace in bands}
    assert by_name["重度"]["y"] == [None]
    assert by_name["重度"]["text"] == ["<10"]
    # 无或极轻微 (10 of 12) is blanked too: shown, it would give 重度 = 12 - 10 (complementary suppression);
    # it is marked 「*」, not 「<10」, since it holds 10
    assert by_name["无或极轻微"]["y"] == [None]
    assert by_name["无或极轻微"]["text"] == [PROTECTED_MARKER]
    assert "83.3" not in text and ">10 / 12" not in text
    assert "2 / 12" not in text and "16.7%" not in text


def test_empty_store_builds_a_page_saying_no_data(sqlite_engine):
    page = dashboards.build_overview(sqlite_engine)
    text = _html(page)
    assert "暂无普测数据" in text and "演示数据" not in text
    for empty_card in ("暂无普测 / no wave yet", "暂无 PHQ-9 数据 / no PHQ-9 scores", "暂无数据 / no data"):
        assert empty_card in text
    assert len(_figures(page)) == 3


def test_an_unreadable_database_gives_a_page_saying_so(tmp_path):
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a SQLite database" * 100)
    text = _html(dashboards.build_overview(broken))
    assert "暂时无法读取数据" in text and "cannot be read" in text and "暂无普测数据" not in text
    assert "broken.sqlite" not in text and "database disk image" not in text and "<10" not in text


def test_missing_database_is_an_error_and_is_not_created(tmp_path, capsys):
    missing = tmp_path / "nowhere.sqlite"
    text = _html(dashboards.build_overview(missing))  # the page, should the file go after serve started
    assert "暂时无法读取数据" in text and "nowhere" not in text
    assert dashboards.serve(db=missing, port=_free_port()) == 2
    assert "database not found" in capsys.readouterr().err
    assert not missing.exists()


# --- files ----------------------------------------------------------------------------------


def test_voila_configuration():
    config = json.loads((DASHBOARDS / "voila.json").read_text())["VoilaConfiguration"]
    assert config["strip_sources"] is True
    assert config["show_tracebacks"] is False
    assert config["file_allowlist"] == []
    template = DASHBOARDS / "share" / "jupyter" / "voila" / "templates" / config["template"]
    assert (template / "index.html.j2").is_file()


# --- the live page ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    """``psychanalytics serve`` on a copy of the demo district; always terminated."""
    db = tmp_path_factory.mktemp("serve") / "demo.sqlite"
    shutil.copy(demo_db, db)
    port = _free_port()
    log = (db.parent / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "psychanalytics.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"serve exited with {process.returncode}: {(db.parent / 'serve.log').read_text()}"
                )
            try:
                if requests.get(url + "/", timeout=60).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("Voila did not answer within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.mark.slow
@pytest.mark.browser
def test_page_in_headless_chromium(server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    external = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on(
                "request",
                lambda r: (
                    external.append(r.url) if not r.url.startswith((server, "blob:", "data:")) else None
                ),
            )
            page.goto(server + "/", timeout=120_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')]"
                ".filter(p => p.data && p.data.some(t => (t.y || []).some(v => v !== null))).length >= 3",
                timeout=120_000,
            )
            page.screenshot(path=tmp_path / "overview.png")
            body = page.inner_text("body")
            content = page.content()
        finally:
            browser.close()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
    assert "钟楼区学生心理健康总览" in body
    assert "演示数据" in body
    assert "专职心理教师配备率" in body
    assert "Traceback" not in body and "Traceback" not in content
    assert "import psychanalytics" not in content and "build_overview(db)" not in content
    assert external == []  # nothing from a CDN or any other host


@pytest.mark.slow
def test_served_html_has_no_source_and_no_external_url(server):
    html = requests.get(server + "/", timeout=60).content.decode("utf-8")
    assert "钟楼区学生心理健康" in html
    for leak in ("https://", "http://cdn", "import psychanalytics", "build_overview", "Traceback"):
        assert leak not in html


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    ["/api/kernels", "/api/contents", "/voila/tree", "/voila/api/contents", "/voila/files/overview.ipynb"],
)
def test_jupyter_apis_are_closed(server, path):
    assert requests.get(server + path, timeout=30).status_code in (403, 404)


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.slow
def test_server_listens_on_loopback_only(server):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp to list listening sockets")
    port = int(server.rsplit(":", 1)[1])
    assert _listening(port) == {"0100007F"}  # 127.0.0.1 only: no 0.0.0.0, no external or IPv6 address


@pytest.mark.slow
@pytest.mark.browser
def test_a_failing_kernel_shows_no_traceback(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a SQLite database" * 100)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "psychanalytics.cli", "serve", "--db", str(broken), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(url, timeout=120_000)
                page.wait_for_function("() => document.body.innerText.includes('无法读取')", timeout=120_000)
                body = page.inner_text("body")
                content = page.content()
            finally:
                browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert "暂时无法读取数据" in body and "data administrator" in body and "error" not in body
    for leak in ("Traceback", "DatabaseError", "broken.sqlite", "sqlalchemy", "build_overview"):
        assert leak not in body and leak not in content
