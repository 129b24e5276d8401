"""Leader dashboards: the policy on every page, the 「总览」 widget tree, files, and the live page in Chromium."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
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

from psychanalytics import dashboards, instruments, mart, store, synth
from psychanalytics.privacy import PROTECTED_MARKER, small_marker
from psychanalytics.privacy.shapes import looks_personal
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
    (name, getattr(dashboards, name)) for name in dashboards.__all__ if name.startswith("build_")
)


def test_every_page_has_a_builder_and_a_notebook():
    built = {name.removeprefix("build_") for name, _ in BUILDERS}
    assert {page.notebook for page in dashboards.PAGES} <= built
    for page in dashboards.PAGES:
        notebook = DASHBOARDS / f"{page.notebook}.ipynb"
        assert notebook.is_file() and (DASHBOARDS / f"{page.notebook}.py").is_file(), page.notebook
        assert f"build_{page.notebook}(mart)" in notebook.read_text("utf-8")


def _publish(db, folder: Path, *, min_cell: int = 10) -> Path:
    target = folder / "mart.sqlite"
    target.unlink(missing_ok=True)
    mart.publish(db, target, min_cell=min_cell)
    return target


@pytest.fixture(scope="module")
def small_synthetic_mart(tmp_path_factory) -> Path:
    """The smallest synthetic district (500 students a year), published: several bands under 10 in every wave."""
    folder = tmp_path_factory.mktemp("small")
    engine = store.connect(folder / "small.sqlite")
    synth.build_demo(engine, seed=3, students=synth.MIN_STUDENTS)
    engine.dispose()
    return _publish(folder / "small.sqlite", folder)


@pytest.fixture
def hand_built_mart(sqlite_engine, tmp_path) -> Path:
    _small_district(sqlite_engine)
    return _publish(sqlite_engine, tmp_path)


def _table(view_name: str) -> mart.MartTable:
    return mart.TABLES[view_name.removesuffix("__headline")]


def _shown_numbers(frame) -> set[float]:
    """Every number a view lets a page show, as drawn (counts, and proportions as percentages).

    A table holding no number of people (teachers still needed, targets), or counting schools, lets every
    number of it be drawn.
    """
    numbers, policy = set(), _table(frame.attrs["mart_table"]).policy
    if policy is None or policy.get("unit") == "school":
        for column in frame.select_dtypes("number").columns:
            numbers |= {round(float(v), 6) for v in frame[column].dropna()}
    for column in ("count", "n", "proportion", "low", "high"):
        if column in frame:
            scale = 100 if column in ("proportion", "low", "high") else 1
            numbers |= {round(float(v) * scale, 6) for v in frame[column].dropna()}
    return numbers


def _check_view(name: str, frame, min_cell: int) -> int:
    """The policy held in one published table; returns how many values it blanked."""
    table = _table(name)
    if table.policy is None or table.policy.get("unit") == "school":
        return 0
    small = small_marker(min_cell)
    # no shown count or share resting on fewer than min_cell students
    assert (frame["count"].dropna() >= min_cell).all(), name
    assert (frame["n"].dropna() >= min_cell).all(), name
    if "proportion" in frame:
        rests = frame["proportion"].notna()
        assert frame.loc[rests, "count"].notna().all() and frame.loc[rests, "n"].notna().all(), name
    blanked = frame["count"].isna() | frame["n"].isna()
    assert frame.loc[blanked, "marker"].isin([small, PROTECTED_MARKER]).all(), name
    by = table.policy.get("by")
    if by and not name.endswith("__headline"):
        for key, group in frame.groupby(list(by), dropna=False):
            blanks = group["count"].isna()
            if group["n"].notna().all() and blanks.any():
                # no blanked cell recoverable from the group's shown total: never one blank alone, and the
                # blanks hold min_cell or more together (n - shown cells is shown implicitly)
                assert blanks.sum() != 1, (name, key)
                assert group["n"].iloc[0] - group.loc[~blanks, "count"].sum() >= min_cell, (name, key)
    return int(frame["count"].isna().sum())


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=[name for name, _ in BUILDERS])
@pytest.mark.parametrize("district", ["small_synthetic_mart", "hand_built_mart"])
def test_every_leader_page_keeps_the_policy(name, build, district, request):
    published = request.getfixturevalue(district)
    page = build(published)
    assert isinstance(page, dashboards.LeaderPage) and page.views, (
        f"{name} must return a LeaderPage with views"
    )
    tables = {view: frame.attrs.get("mart_table") for view, frame in page.views.items()}
    assert all(tables.values()), (
        f"{name}: views not read from the mart: {[v for v, t in tables.items() if not t]}"
    )
    blanked = sum(_check_view(frame.attrs["mart_table"], frame, 10) for frame in page.views.values())
    assert not looks_personal(_html(page))
    if name == "build_overview":
        assert blanked > 0  # both districts have small cells: the check saw suppression at work
    # the page draws nothing but what its views allow: every bar height is a shown number
    allowed = set().union(*(_shown_numbers(frame) for frame in page.views.values()))
    for figure in _figures(page):
        for trace in figure["data"]:
            if trace.get("type", "bar") != "bar":
                continue
            for value in trace.get("y", []) if trace.get("orientation") != "h" else trace.get("x", []):
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    assert round(float(value), 6) in allowed, (name, trace.get("name"), value)


# --- widget tree ----------------------------------------------------------------------------


def test_overview_on_demo_district(demo_mart):
    page = dashboards.build_overview(demo_mart)
    text = _html(page)
    assert "钟楼区学生心理健康总览" in text
    assert "演示数据" in page.children[0].value  # the banner comes first
    for label in ("最近一次普测人数", "PHQ-9 ≥10 占比", "专职心理教师配备率", "数据截至", "怎么看"):
        assert label in text
    figures = _figures(page)
    assert len(figures) == 3
    for figure in figures:
        assert any(v is not None for trace in figure["data"] for v in trace["y"])
    band_names = [trace["name"] for trace in figures[1]["data"]]
    assert band_names == ["无或极轻微", "轻度", "中度", "中重度", "重度"]  # the spec's names, not codes
    for cut_off_range in ("0–4 无或极轻微", "10–14 中度", "20–27 重度", "20–27 Severe"):  # from phq9.yaml
        assert cut_off_range in text
    version = instruments.get("phq9").version
    assert f"计分规则版本：PHQ-9 {version}" in text and "审计记录第" in text  # the footer names the snapshot


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


def test_small_cells_never_reach_the_page(hand_built_mart):
    page = dashboards.build_overview(hand_built_mart)
    text = _html(page)
    assert "演示数据" not in text
    assert ">12<" in text  # 12 screened: shown, though no enrolment was imported (全区在册 <10)
    assert "全区在册 &lt;10 人" in text
    # 2 severe of 12 (PHQ-9 >= 10): hidden on the headline card; so is its n (12 less the hidden minimal >= 10
    # would narrow the 2 below its marker: privacy.linked)
    assert "&lt;10 / &lt;10 人" in text
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


def test_the_mart_holds_no_student_row(hand_built_mart):
    engine = sa.create_engine(f"sqlite:///{hand_built_mart}")
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        columns = {c["name"] for t in tables for c in sa.inspect(conn).get_columns(t)}
    engine.dispose()
    assert "pid" not in columns and "student_number" not in columns
    assert not {"score", "response", "student", "enrolment"} & set(tables)


def test_empty_store_builds_a_page_saying_no_data(sqlite_engine, tmp_path):
    page = dashboards.build_overview(_publish(sqlite_engine, tmp_path))
    text = _html(page)
    assert "暂无普测数据" in text and "演示数据" not in text
    for empty_card in ("暂无普测 / no wave yet", "暂无 PHQ-9 数据 / no PHQ-9 scores", "暂无数据 / no data"):
        assert empty_card in text
    assert len(_figures(page)) == 3


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=[name for name, _ in BUILDERS])
def test_an_unreadable_mart_gives_a_page_saying_so(name, build, tmp_path):
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a SQLite database" * 100)
    for target in (broken, tmp_path / "nowhere.sqlite"):
        text = _html(build(target))
        assert "暂时无法读取数据" in text and "cannot be read" in text and "暂无普测数据" not in text
        assert "broken.sqlite" not in text and "nowhere" not in text and "database disk image" not in text
        assert "<10" not in text
    assert not (tmp_path / "nowhere.sqlite").exists()


def test_serve_refuses_a_missing_store_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere.sqlite"
    assert dashboards.serve(db=missing, port=_free_port()) == 2
    assert "database not found" in capsys.readouterr().err
    assert not missing.exists()
    assert dashboards.serve(mart=tmp_path / "no-mart.sqlite", port=_free_port()) == 2
    assert "mart not found" in capsys.readouterr().err


def test_landing_page_links_every_dashboard_and_nothing_else():
    page = dashboards.landing_html(base_url="/")
    links = re.findall(r'href="([^"]+)"', page)
    assert links == [f"/page/{p.notebook}" for p in dashboards.PAGES]  # the static views
    for p in dashboards.PAGES:
        assert p.title_zh in page and p.about_zh in page
    assert "http" not in page and "<script" not in page


# --- files ----------------------------------------------------------------------------------


def test_voila_configuration():
    config = json.loads((DASHBOARDS / "voila.json").read_text())["VoilaConfiguration"]
    assert config["strip_sources"] is True
    assert config["show_tracebacks"] is False
    assert config["file_allowlist"] == [r".*\.(png|jpe?g|gif|svg|webp)$"]  # images only
    template = DASHBOARDS / "share" / "jupyter" / "voila" / "templates" / config["template"]
    assert (template / "index.html.j2").is_file()


# --- the live page ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Served(str):
    """The server's URL, with its ``process`` (the ``psychanalytics serve`` process group leader), the store
    ``db`` it was given and the ``mart`` it published beside it."""


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
        served = _Served(url)
        served.process, served.db, served.mart = process, db, db.with_name("demo-mart.sqlite")
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
"""Where the browser tests keep their 1366×768 screenshots (a test artefact, not committed)."""
FIGURES_DRAWN = (
    "() => [...document.querySelectorAll('.js-plotly-plot')]"
    ".some(p => p.data && p.data.some(t => (t.y || t.x || []).some(v => v !== null)))"
)


@pytest.fixture(scope="module")
def chromium():
    """One headless Debian Chromium for the module's browser tests."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(chromium, url: str, server: str):
    """A 1366×768 page at ``url``, recording every request that leaves ``server``."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.external = []
    page.on(
        "request",
        lambda r: page.external.append(r.url) if not r.url.startswith((server, "blob:", "data:")) else None,
    )
    page.goto(url, timeout=180_000)
    return page


@pytest.mark.slow
@pytest.mark.browser
def test_landing_page_in_headless_chromium(server, chromium):
    page = _open(chromium, server + "/", server)
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "landing.png")
        links = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
        body = page.inner_text("body")
    finally:
        page.close()
    assert links == [f"/page/{p.notebook}" for p in dashboards.PAGES]
    assert all(p.title_zh in body for p in dashboards.PAGES) and "overview.py" not in body
    assert page.external == []


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("dashboard", dashboards.PAGES, ids=[p.notebook for p in dashboards.PAGES])
def test_dashboard_renders_offline_in_chinese(server, chromium, dashboard):
    page = _open(chromium, f"{server}/voila/render/{dashboard.notebook}.ipynb", server)
    try:
        page.wait_for_function(FIGURES_DRAWN, timeout=180_000)
        page.wait_for_timeout(500)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{dashboard.notebook}.png")
        body, content = page.inner_text("body"), page.content()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        selects = page.locator("select")
        if selects.count():  # a filter redraws a chart
            before = page.evaluate(
                "JSON.stringify([...document.querySelectorAll('.js-plotly-plot')].map(p => p.data))"
            )
            options = selects.first.locator("option")
            selects.first.select_option(index=options.count() - 1 if options.count() > 1 else 0)
            page.wait_for_function(
                f"JSON.stringify([...document.querySelectorAll('.js-plotly-plot')].map(p => p.data)) !== {json.dumps(before)}",
                timeout=60_000,
            )
    finally:
        page.close()
    assert dashboard.title_zh in body and "演示数据" in body and "怎么看" in body
    assert not looks_personal(body)  # nothing shaped like a 学籍号, an ID card, a phone or an address
    assert "Traceback" not in body and "Traceback" not in content
    assert "import psychanalytics" not in content and f"build_{dashboard.notebook}(mart)" not in content
    assert overflow <= 0, f"{dashboard.notebook}: {overflow} px wider than a 1366 px screen"
    assert page.external == []  # nothing from a CDN or any other host


@pytest.mark.slow
def test_served_html_has_no_source_and_no_external_url(server):
    html = requests.get(server + "/", timeout=60).content.decode("utf-8")
    assert "钟楼区学生心理健康" in html
    for leak in ("https://", "http://cdn", "import psychanalytics", "build_overview", "Traceback"):
        assert leak not in html


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [
        "/api/kernels",
        "/api/contents",
        "/voila/api/contents",
        "/voila/files/overview.ipynb",
        "/voila/files/overview.py",
        "/voila/files/voila.json",
        "/voila/files/share/jupyter/voila/templates/zhonglou/conf.json",
    ],
)
def test_jupyter_apis_are_closed(server, path):
    assert requests.get(server + path, timeout=30).status_code in (403, 404)


@pytest.mark.slow
def test_static_files_are_images_only(server):
    assert requests.get(server + "/voila/files/voila.json", timeout=30).status_code == 403  # not on the list
    assert (
        requests.get(server + "/voila/files/no-such-logo.png", timeout=30).status_code == 404
    )  # listed, absent


def _kernel_messages(url: str, kernel_id: str, sent: list[dict], wait: float) -> list[str]:
    """Send ``sent`` over the kernel's websocket and return the types of the messages that come back in ``wait`` s."""
    import asyncio

    from tornado.websocket import websocket_connect

    async def talk() -> list[str]:
        ws = await websocket_connect(f"ws{url.removeprefix('http')}/api/kernels/{kernel_id}/channels")
        for message in sent:
            await ws.write_message(json.dumps(message))
        received, deadline = [], time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = await asyncio.wait_for(ws.read_message(), timeout=left)
            except TimeoutError:
                break
            if reply is None:
                break
            if isinstance(reply, str):
                received.append(json.loads(reply)["header"]["msg_type"])
        ws.close()
        return received

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: Playwright's loop may be running in this one
        return pool.submit(asyncio.run, talk()).result()


def _request(msg_type: str, content: dict) -> dict:
    import uuid

    header = {"msg_id": uuid.uuid4().hex, "session": uuid.uuid4().hex, "username": "test", "msg_type": msg_type,
              "version": "5.3", "date": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    return {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


@pytest.mark.slow
def test_the_kernel_websocket_refuses_code(server):
    page = requests.get(server + "/voila/render/overview.ipynb", timeout=180).content.decode("utf-8")
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page).group(1)
    code = "open('/tmp/psychanalytics-websocket-probe', 'w').write('ran')"
    execute = _request("execute_request", {"code": code, "silent": False, "store_history": False,
                                           "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})  # fmt: skip
    received = _kernel_messages(server, kernel_id, [_request("kernel_info_request", {}), execute], wait=8)
    assert (
        "kernel_info_reply" in received
    )  # the channel works: the refusal below is Voila's, not a dead socket
    assert "execute_reply" not in received and "execute_input" not in received
    assert not Path("/tmp/psychanalytics-websocket-probe").exists()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/", "/voila/tree", "/voila/tree/share", "/voila/tree/share/jupyter"])
def test_no_folder_is_listed(server, path):
    html = requests.get(server + path, timeout=30).content.decode("utf-8")
    assert "钟楼区学生心理健康数据看板" in html  # every folder shows the landing page, never its files
    for name in ("overview.py", "voila.json", "share", "templates", "jupyter"):
        assert name not in html


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
def test_a_failing_kernel_shows_no_traceback(demo_mart, chromium, tmp_path):
    damaged = tmp_path / "mart.sqlite"
    shutil.copy(demo_mart, damaged)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "psychanalytics.cli", "serve", "--mart", str(damaged), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/", timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        damaged.write_bytes(b"this is not a SQLite database" * 100)  # the mart goes bad while served
        page = _open(chromium, url + "/voila/render/overview.ipynb", url)
        try:
            page.wait_for_function("() => document.body.innerText.includes('无法读取')", timeout=120_000)
            body, content = page.inner_text("body"), page.content()
        finally:
            page.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert "暂时无法读取数据" in body and "data administrator" in body and "error" not in body
    for leak in ("Traceback", "DatabaseError", "mart.sqlite", "sqlalchemy", "build_overview"):
        assert leak not in body and leak not in content


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _descendants(root: int) -> list[int]:
    """Process ids below ``root`` in the process tree (from /proc)."""
    parents = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                status = (proc / "status").read_text()
            except OSError:
                continue
            parents[int(proc.name)] = int(
                next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
            )

    def below(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return [pid for pid in parents if below(pid)]


def _kernels_of(server_pid: int) -> list[int]:
    """Process ids of the kernels a server started (``ipykernel_launcher`` among its descendants)."""
    return [pid for pid in _descendants(server_pid) if b"ipykernel_launcher" in _cmdline(pid)]


@pytest.mark.slow
@pytest.mark.browser
def test_a_closed_page_releases_its_kernel_within_a_minute(server, chromium):
    if not Path("/proc").is_dir():
        pytest.skip("needs Linux /proc to list the server's kernels")
    pid = server.process.pid
    page = _open(chromium, server + "/voila/render/overview.ipynb", server)
    page.wait_for_function(FIGURES_DRAWN, timeout=180_000)
    assert _kernels_of(pid), "the open page has a kernel"
    page.close()
    deadline = time.monotonic() + 60
    while _kernels_of(pid) and time.monotonic() < deadline:
        time.sleep(2)
    assert _kernels_of(pid) == [], "a kernel outlived its closed page by a minute (voila.json culling)"


@pytest.mark.slow
def test_beyond_loopback_the_pages_ask_for_a_token(demo_mart):
    port, token = _free_port(), "a-test-token-0123456789"
    process = subprocess.Popen(
        [sys.executable, "-m", "psychanalytics.cli", "serve", "--mart", str(demo_mart), "--port", str(port),
         "--ip", "0.0.0.0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "PSYCHANALYTICS_SERVE_TOKEN": token},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                anonymous = requests.get(url + "/", timeout=60, allow_redirects=False)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        with_token = requests.get(url + f"/?token={token}", timeout=60)
        static_anonymous = requests.get(url + "/page/overview", timeout=60, allow_redirects=False)
        static = requests.get(url + f"/page/overview?token={token}", timeout=180)
        page = requests.get(url + f"/voila/render/overview.ipynb?token={token}", timeout=180)
        voila = [p for p in _descendants(process.pid) if b"_voila_app" in _cmdline(p)]
        command_lines = b" ".join(_cmdline(p) for p in voila)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert anonymous.status_code in (302, 403) and "钟楼区" not in anonymous.text
    assert with_token.status_code == 200 and "钟楼区学生心理健康数据看板" in with_token.text
    assert page.status_code == 200
    assert static_anonymous.status_code in (302, 403) and "钟楼区" not in static_anonymous.text
    assert static.status_code == 200 and "Plotly.newPlot" in static.text
    assert f"?token={token}" in output  # printed once, for the operator to hand to leaders
    assert voila and token.encode() not in command_lines  # never in the process list


# --- the static views (DESIGN.md, decision 95) ----------------------------------------------------


def test_the_static_view_draws_a_pages_widgets_and_refuses_any_other(demo_mart):
    page = dashboards.build_screening(demo_mart)
    document = dashboards.static_html(
        page, title="心理普测", live_url="../voila/render/screening.ipynb", plotly_js="plotly.min.js"
    )
    assert document.count("Plotly.newPlot") == len(_figures(page))
    assert document.count("<select disabled>") == len(page.filters)
    for control in page.filters:  # each filter shows what the live page first shows
        assert f"<option selected>{control.label}</option>" in document
    assert document.count('href="../voila/render/screening.ipynb"') == 1
    assert "调整筛选（启动交互页面）" in document and '<script src="plotly.min.js">' in document
    page.children = (*page.children, widgets.IntSlider())
    with pytest.raises(dashboards.StaticViewError, match="IntSlider"):
        dashboards.static_html(page, title="x", live_url="x", plotly_js="x")


DRAWN_ALL = (
    "() => { const p = [...document.querySelectorAll('.js-plotly-plot')]; return p.length > 0 && "
    "p.every(d => d.data && d.querySelector('.main-svg')) && "
    "p.some(d => d.data.some(t => (t.y || t.x || []).some(v => v !== null))) }"
)
"""Every chart on the page drawn by plotly.js, and at least one with a number in it."""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("dashboard", dashboards.PAGES, ids=[p.notebook for p in dashboards.PAGES])
def test_static_view_renders_offline_in_chinese(server, chromium, dashboard):
    started = requests.get(f"{server}/page/{dashboard.notebook}", timeout=180)  # drawn, or waits for it
    assert started.status_code == 200 and "Plotly.newPlot" in started.text
    page = _open(chromium, f"{server}/page/{dashboard.notebook}", server)
    try:
        page.wait_for_function(DRAWN_ALL, timeout=60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"static-{dashboard.notebook}.png")
        body, content = page.inner_text("body"), page.content()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        selects = page.eval_on_selector_all("select", "s => s.map(x => [x.disabled, x.value])")
        links = page.eval_on_selector_all("a.live", "a => a.map(x => x.href)")
    finally:
        page.close()
    assert dashboard.title_zh in body and "演示数据" in body and "怎么看" in body and "数据快照" in body
    assert not looks_personal(body) and "Traceback" not in content
    assert "application/vnd.jupyter.widget-view+json" not in content  # no widget needing a kernel
    assert overflow <= 0, f"{dashboard.notebook}: {overflow} px wider than a 1366 px screen"
    assert page.external == []  # plotly.js from our server; nothing from a CDN or any other host
    assert all(disabled and value for disabled, value in selects)
    assert links == ([f"{server}/voila/render/{dashboard.notebook}.ipynb"] if selects else [])


@pytest.mark.slow
@pytest.mark.browser
def test_the_filter_link_opens_the_live_page(server, chromium):
    page = _open(chromium, f"{server}/page/crisis", server)
    try:
        page.wait_for_function(DRAWN_ALL, timeout=60_000)
        page.click("text=调整筛选（启动交互页面）")
        page.wait_for_url(f"{server}/voila/render/crisis.ipynb", timeout=60_000)
        page.wait_for_function(FIGURES_DRAWN, timeout=180_000)
        live = page.locator("select").first
        assert live.is_enabled()  # a real filter now, served by a kernel
        assert "危机预警" in page.inner_text("body")
    finally:
        page.close()
    assert page.external == []


@pytest.mark.slow
def test_a_republished_mart_is_drawn_again(server):
    def published() -> str:
        text = requests.get(f"{server}/page/overview", timeout=180).text
        return re.search(r"发布于 ([0-9: -]+)（UTC）", text).group(1)

    before = published()
    time.sleep(1.1)  # the manifest's time is to the second
    mart.publish(server.db, server.mart)  # moved into place: a new file, as every publication
    after = published()
    assert after != before
    assert after == mart.open_mart(server.mart).manifest["published_utc"].replace("T", " ")
