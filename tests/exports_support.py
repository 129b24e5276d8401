"""Export files in the shapes schools and survey platforms really send, with the truth each one holds.

Issue #9 asks that the importer hold on the files schools really send; this module writes them,
deterministically from a seed, and returns what a test needs to know about each file: which records
are real students, each student's intended 学籍号 and item codes, what damage was done to which
number, on which line each record starts. Every name and number is synthetic.

==============================  ==================================================================
function                        writes
==============================  ==================================================================
:func:`make_students`           students with realistic 身份证号, 学籍号 (``G`` + 身份证号 or a local
                                number) and Chinese names (compound surnames, ``·``, spaces)
:func:`damaged`                 a 学籍号 as Excel or a careless hand leaves it (:data:`DAMAGES`)
:func:`school_export`           a school's roster or screening file: CSV in any encoding (UTF-16
                                with tabs too), line ending, title lines, two-row headers, 合计 and
                                signature lines, padding; or XLSX, legacy XLS, HTML saved as .xls
:func:`wjx_export`              a 问卷星 (wjx.cn) answer export: metadata columns, numbered
                                questions, answers as option text, option numbers or codes
:func:`staff_list`              a staff list and a rooms list, for the wrong kind of import
:func:`rooms_list`
:func:`bom_only`                a file holding only a UTF-8 BOM
:func:`large_roster`            200,000 short roster rows with ``"王\\n五"`` straddling a byte offset
==============================  ==================================================================

Tests run with ``tests/`` on ``sys.path``: ``from exports_support import school_export``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import openpyxl
import xlwt

from psychanalytics import instruments

# --- identity: 身份证号, 学籍号, names ---------------------------------------------------------------

REGIONS: dict[str, str] = {
    "320404": "钟楼区",
    "320402": "天宁区",
    "320411": "新北区",
    "320412": "武进区",
    "320413": "金坛区",
    "320481": "溧阳市",
    "320405": "戚墅堰区",
}
"""Changzhou's administrative division codes (GB/T 2260), the first six characters of a 身份证号.
戚墅堰区 was merged into 武进区 in 2015; children registered there before keep its code."""

_REGION_SHARES = (0.55, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05)  # in the order of REGIONS
_CHECK_WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)])
_CHECK_CHARACTERS = np.array(list("10X98765432"))

_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方", "慕容", "皇甫", "令狐", "尉迟")
_GIVEN = tuple("子涵浩然梓轩欣怡宇一诺思远雨桐佳俊杰若曦晨阳紫萱明诗博文嘉天佑梦琪泽雅志强静妍睿安宁悦辰")
_DOT_NAMES = ("阿依古丽·买买提", "迪丽拜尔·艾力", "古丽娜尔·吐尔逊", "艾克拜尔·热合曼", "帕丽达·阿不都")
_NAME_SHARES = {"compound": 0.04, "dot": 0.01, "spaced": 0.03}
"""Shares of compound surnames, ``·`` names (Uyghur names as the registry writes them) and names
written with a space or an ideographic space between surname and given name."""

_MOBILE_PREFIXES = ("139", "138", "137", "151", "152", "157", "187", "188", "133", "153", "180", "189")
_MOBILE_PREFIXES += ("130", "131", "132", "155", "156", "185", "186", "166", "177", "199")
_ROADS = ("延陵西路", "南大街", "西横街", "勤业路", "广化街", "怀德中路", "劳动西路", "玉龙南路", "星港路")


def id_check_characters(bodies: Sequence[str]) -> np.ndarray:
    """Check characters of 17-digit 身份证号 bodies (GB 11643-1999 §7, ISO 7064:1983 MOD 11-2).

    Each digit is weighted by ``2**(17 - i) mod 11`` (position ``i`` from 0); the sum modulo 11 indexes
    ``"10X98765432"``. Written by hand: no well-kept library computes it.

    Parameters
    ----------
    bodies : sequence of str
        The first 17 characters of each number, all digits.

    Returns
    -------
    numpy.ndarray
        One character (``"0"``–``"9"`` or ``"X"``) per body.

    Examples
    --------
    >>> id_check_characters(["11010519491231002", "44052418800101001"]).tolist()
    ['X', '4']
    """
    bodies = np.asarray(bodies, dtype=str)
    well_formed = np.array(
        [len(b) == 17 and b.isascii() and b.isdigit() for b in bodies.tolist()], dtype=bool
    )
    if not well_formed.all():
        raise ValueError(f"a 身份证号 body is 17 digits, not {bodies[~well_formed][0]!r}")
    return _check_characters(bodies.astype(np.int64))


def _check_characters(bodies: np.ndarray) -> np.ndarray:
    """:func:`id_check_characters` of bodies held as 17-digit integers."""
    total = np.zeros(len(bodies), dtype=np.int64)
    for power, weight in zip(range(16, -1, -1), _CHECK_WEIGHTS.tolist(), strict=True):
        total += bodies // 10**power % 10 * weight
    return _CHECK_CHARACTERS[total % 11]


def is_valid_id_number(text: str) -> bool:
    """True for an 18-character 身份证号 with a real birth date and the right check character.

    Parameters
    ----------
    text : str
        The number as written (upper-case ``X`` only).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_valid_id_number("11010519491231002X"), is_valid_id_number("110105194912310021")
    (True, False)
    >>> is_valid_id_number("110105194913310029")  # month 13
    False
    """
    if len(text) != 18 or not (text[:17].isascii() and text[:17].isdigit()):
        return False
    try:
        dt.datetime.strptime(text[6:14], "%Y%m%d")
    except ValueError:
        return False
    return text[17] == id_check_characters([text[:17]])[0]


def birth_range(grade: int, school_year: str) -> tuple[dt.date, dt.date]:
    """First and last birth date of a student of ``grade`` in ``school_year`` who started school on time.

    Children enter grade 1 in the September after they turn six (《义务教育法》第十一条; Jiangsu counts
    ages at 31 August), so grade ``g`` in school year ``Y-(Y+1)`` was born from 1 September ``Y-6-g``
    to 31 August ``Y-5-g``.

    Parameters
    ----------
    grade : int
        1 (primary) to 12 (senior high).
    school_year : str
        ``"2025-2026"``.

    Returns
    -------
    tuple of datetime.date

    Examples
    --------
    >>> birth_range(7, "2025-2026")
    (datetime.date(2012, 9, 1), datetime.date(2013, 8, 31))
    """
    start = int(school_year[:4])
    return dt.date(start - 6 - grade, 9, 1), dt.date(start - 5 - grade, 8, 31)


def _id_numbers(rng: np.random.Generator, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Distinct 身份证号: region, birth date, a sequence whose last digit is odd for boys, check character."""
    n = len(births)
    region = np.array(list(REGIONS), dtype=np.int64)[rng.choice(len(REGIONS), n, p=_REGION_SHARES)]
    month_start = births.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]").astype(np.int64) + 1970
    date = (
        year * 10_000
        + (month_start.astype(np.int64) % 12 + 1) * 100
        + (births - month_start).astype(np.int64)
        + 1
    )
    bodies = (region * 10**8 + date) * 1000 + rng.integers(1, 500, n) * 2 + male
    first = np.unique(bodies, return_index=True)[1]
    taken = set(bodies[first].tolist())
    for i in np.setdiff1d(np.arange(n), first).tolist():  # drawn twice: another sequence number
        while bodies[i] in taken:
            bodies[i] = bodies[i] // 1000 * 1000 + rng.integers(1, 500) * 2 + male[i]
        taken.add(int(bodies[i]))
    return np.char.add(bodies.astype(str), _check_characters(bodies))


def chinese_names(rng: np.random.Generator, n: int) -> list[str]:
    """Chinese names of 2–4 characters, some with a compound surname, a ``·`` or a space inside.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int

    Returns
    -------
    list of str
        Plain names (``王子涵``), compound surnames (``欧阳娜``), ``·`` names (``阿依古丽·买买提``) and
        names written with a space or an ideographic space (``王 五``, ``李\\u3000悦``), in the shares of
        ``_NAME_SHARES``.

    Examples
    --------
    >>> chinese_names(np.random.default_rng(3), 4)
    ['雷怡佑', '吴志琪', '高妍涵', '谢诗轩']
    """
    surname = rng.choice(_SURNAMES, n)
    given = np.char.add(rng.choice(_GIVEN, n), np.where(rng.random(n) < 0.5, rng.choice(_GIVEN, n), ""))
    compound = np.char.add(rng.choice(_COMPOUND_SURNAMES, n), rng.choice(_GIVEN, n))
    spaced = np.char.add(np.char.add(surname, rng.choice([" ", "\u3000"], n)), given)
    draw = rng.random(n)
    compound_below, dot_below, spaced_below = np.cumsum(list(_NAME_SHARES.values()))
    names = np.where(draw < spaced_below, spaced, np.char.add(surname, given))
    names = np.where(draw < dot_below, rng.choice(_DOT_NAMES, n), names)
    return np.where(draw < compound_below, compound, names).tolist()


def mobile_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Chinese mobile numbers ``1[3-9]X XXXX XXXX`` with real operators' prefixes.

    Examples
    --------
    >>> mobile_numbers(np.random.default_rng(1), 2)
    ['18075516750', '18995046369']
    """
    prefixes = rng.choice(_MOBILE_PREFIXES, n).tolist()
    return [p + f"{v:08d}" for p, v in zip(prefixes, rng.integers(0, 10**8, n).tolist(), strict=True)]


@dataclass(frozen=True)
class Student:
    """A synthetic student as the school registers them (what a file should have said)."""

    student_number: str
    """学籍号: ``"G"`` + 身份证号, or a local number (``"L…"`` or digits with leading zeros)."""
    id_number: str
    """身份证号 (18 characters, valid check character)."""
    name: str
    gender: str
    """``"男"`` or ``"女"`` (the 17th character of the 身份证号 is odd for boys)."""
    birth: dt.date
    school: str
    grade: int
    class_no: int


def _student_columns(
    rng: np.random.Generator,
    n: int,
    *,
    school_year: str,
    grades: Sequence[int],
    classes: int,
    local_share: float,
) -> dict[str, list]:
    """Students as columns of lists: the large roster's 200,000 rows never become objects."""
    if n < 1:
        raise ValueError(f"a file of students has at least one, not {n}")
    grade = rng.choice(np.asarray(grades), n)
    first_birth = {g: np.datetime64(birth_range(g, school_year)[0], "D") for g in set(grade.tolist())}
    births = np.array([first_birth[g] for g in grade.tolist()]) + rng.integers(0, 365, n)
    male = rng.random(n) < 0.51
    ids = _id_numbers(rng, births, male)
    numbers = ["G" + i for i in ids.tolist()]
    local = np.flatnonzero(rng.random(n) < local_share).tolist()
    serials = rng.choice(10**6, len(local), replace=False).tolist()
    school_digits = rng.choice(90_000, len(local), replace=False).tolist()
    l_style = (rng.random(len(local)) < 0.5).tolist()
    for i, serial, digits, l_number in zip(local, serials, school_digits, l_style, strict=True):
        birth = str(births[i]).replace("-", "")
        numbers[i] = f"L{birth}{serial:06d}" if l_number else f"00{digits + 10_000}"
    return {
        "student_number": numbers,
        "id_number": ids.tolist(),
        "name": chinese_names(rng, n),
        "gender": np.where(male, "男", "女").tolist(),
        "birth": births.astype(dt.date).tolist(),
        "grade": grade.tolist(),
        "class_no": rng.integers(1, classes + 1, n).tolist(),
    }


def _students(
    rng: np.random.Generator,
    n: int,
    *,
    school: str,
    school_year: str,
    grades: Sequence[int],
    classes: int = 6,
    local_share: float = 0.1,
) -> tuple[Student, ...]:
    columns = _student_columns(
        rng, n, school_year=school_year, grades=grades, classes=classes, local_share=local_share
    )
    return tuple(
        Student(**dict(zip(columns, values, strict=True)), school=school)
        for values in zip(*columns.values(), strict=True)
    )


def make_students(
    seed: int,
    n: int,
    *,
    school: str = "示例第一中学",
    school_year: str = "2025-2026",
    grades: Sequence[int] = (7, 8, 9),
    classes: int = 6,
    local_share: float = 0.1,
) -> tuple[Student, ...]:
    """Synthetic students of one school with realistic 身份证号, 学籍号 and names.

    Parameters
    ----------
    seed : int
        Same seed, same students.
    n : int
        How many.
    school, school_year : str
        The school's name and the school year the grades refer to.
    grades : sequence of int
        Grades drawn from; birth dates fit the grade (:func:`birth_range`).
    classes : int
        Classes per grade (class numbers 1 … ``classes``).
    local_share : float
        Share of students without a 身份证号-based 学籍号: half get ``"L"`` + birth date + 6 digits
        (the shape here is illustrative), half a school's own digits with leading zeros (``"0012345"``).

    Returns
    -------
    tuple of Student
        Distinct 学籍号; every 身份证号 has a valid check character.

    Examples
    --------
    >>> first = make_students(7, 3)[0]
    >>> first.student_number == "G" + first.id_number, is_valid_id_number(first.id_number)
    (True, True)
    """
    return _students(
        np.random.default_rng(seed),
        n,
        school=school,
        school_year=school_year,
        grades=grades,
        classes=classes,
        local_share=local_share,
    )


# --- damage to a 学籍号 ---------------------------------------------------------------------------


def _require_digits(text: str, damage: str) -> None:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{damage} happens to a number of digits only, not to {text!r}")


def excel_number(text: str) -> str:
    """A digit string as Excel keeps it once read as a number, written out in full.

    Excel stores 15 significant digits and changes every digit past the fifteenth to 0 (Microsoft
    KB 269370, "Last digits are changed to zeros when you type long numbers in cells of Excel");
    leading zeros go with the conversion to a number.

    Examples
    --------
    >>> excel_number("320404201201010129"), excel_number("0012345")
    ('320404201201010000', '12345')
    """
    _require_digits(text, "excel_number")
    kept = text.lstrip("0") or "0"
    return kept[:15] + "0" * max(0, len(kept) - 15)


def excel_scientific(text: str) -> str:
    """A digit string as Excel's General format shows it: scientific from 12 digits on (``3.20404E+17``).

    Examples
    --------
    >>> excel_scientific("320404201201010129"), excel_scientific("320000201201010123")
    ('3.20404E+17', '3.2E+17')
    >>> excel_scientific("0012345")
    '12345'
    """
    kept = excel_number(text)
    if len(kept) <= 11:
        return kept
    mantissa, exponent = f"{int(kept):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def with_dot_zero(text: str) -> str:
    """A number with the ``.0`` a float column leaves (``12345`` → ``12345.0``).

    Examples
    --------
    >>> with_dot_zero("12345")
    '12345.0'
    """
    return text + ".0"


def without_g(text: str) -> str:
    """The bare 身份证号 of a ``G`` 学籍号.

    Examples
    --------
    >>> without_g("G11010519491231002X")
    '11010519491231002X'
    """
    if text[:1] not in ("G", "g"):
        raise ValueError(f"without_g needs a 学籍号 starting with G, not {text!r}")
    return text[1:]


def with_apostrophe(text: str) -> str:
    """The apostrophe typed to keep Excel from reading digits as a number (``'G3204…``).

    Examples
    --------
    >>> with_apostrophe("G123")
    "'G123"
    """
    return "'" + text


def with_control(text: str, char: str = "\x01", *, at: int | None = None) -> str:
    """A control character (``\\x00`` … ``\\x1f`` or ``\\x7f``) at the end, or at position ``at``.

    Examples
    --------
    >>> with_control("G123"), with_control("G123", "\\x00", at=2)
    ('G123\\x01', 'G1\\x0023')
    """
    if len(char) != 1 or not (ord(char) < 0x20 or char == "\x7f"):
        raise ValueError(f"{char!r} is not a control character")
    at = len(text) if at is None else at
    return text[:at] + char + text[at:]


def with_zero_width(text: str, char: str = "\u200b", *, at: int = 1) -> str:
    """A zero-width character (``\\u200b``, ``\\u200c``, ``\\u200d``, ``\\u2060``, ``\\ufeff``) inside.

    Examples
    --------
    >>> with_zero_width("G123")
    'G\\u200b123'
    """
    if char not in "\u200b\u200c\u200d\u2060\ufeff":
        raise ValueError(f"{char!r} is not a zero-width character")
    return text[:at] + char + text[at:]


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (``Ｇ３２…``), as a Chinese IME types them.

    Examples
    --------
    >>> import unicodedata
    >>> full_width("G12x"), unicodedata.normalize("NFKC", full_width("G12x"))
    ('Ｇ１２ｘ', 'G12x')
    """
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def with_spaces(text: str, *, every: int = 6) -> str:
    """Spaces every ``every`` characters, as a number is read out and typed in groups.

    Examples
    --------
    >>> with_spaces("G11010519491231002X")
    'G11010 519491 231002 X'
    """
    return " ".join(text[i : i + every] for i in range(0, len(text), every))


def lower_case(text: str) -> str:
    """Lower-case letters (``g…x``).

    Examples
    --------
    >>> lower_case("G11010519491231002X")
    'g11010519491231002x'
    """
    return text.lower()


DAMAGES: dict[str, Callable[[str], str]] = {
    "excel_number": excel_number,
    "scientific": excel_scientific,
    "dot_zero": with_dot_zero,
    "without_g": without_g,
    "apostrophe": with_apostrophe,
    "trailing_control": with_control,
    "trailing_del": partial(with_control, char="\x7f"),
    "trailing_nul": partial(with_control, char="\x00"),
    "inner_nul": partial(with_control, char="\x00", at=5),
    "zero_width": with_zero_width,
    "full_width": full_width,
    "spaces": with_spaces,
    "lower_case": lower_case,
}
"""Damage by name. Excel's own damage needs the bare number first: ``("without_g", "excel_number")``
is an 18-digit 身份证号 typed into a number cell; ``"excel_number"`` alone drops the leading zeros of
``"0012345"``; ``("excel_number", "dot_zero")`` is ``"12345.0"``."""


def damaged(number: str, steps: str | Sequence[str]) -> str:
    """A 学籍号 after the named damage steps (:data:`DAMAGES`), applied in order.

    Parameters
    ----------
    number : str
        The intended 学籍号.
    steps : str or sequence of str
        Names from :data:`DAMAGES`.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unknown step, a step that cannot happen to this number (Excel's rounding of a
        ``G`` number) or steps that leave it unchanged.

    Examples
    --------
    >>> damaged("G320404201201010129", ("without_g", "scientific"))
    '3.20404E+17'
    >>> damaged("0012345", ("excel_number", "dot_zero"))
    '12345.0'
    """
    steps = (steps,) if isinstance(steps, str) else tuple(steps)
    text = number
    for step in steps:
        if step not in DAMAGES:
            raise ValueError(f"unknown damage {step!r}; known: {', '.join(DAMAGES)}")
        text = DAMAGES[step](text)
    if text == number:
        raise ValueError(f"{steps} leave {number!r} unchanged")
    return text


# --- answers: option text, option number, code ----------------------------------------------------

ANSWER_MODES = ("text", "number", "code")
"""How an item answer is written: the option's text (问卷星's download by option text, as in
reportgen's ``[问卷星数据]800_800_0.xls``), the option's number 1 … K in form order (the download by
option number, ``…800_800_2.xls``, in number cells), or the instrument's own code (a school that
recoded the answers)."""


@dataclass(frozen=True)
class AnswerOptions:
    """A single-choice item's options in form order, each with its instrument code and spellings."""

    codes: tuple[int, ...]
    """Instrument code of each option, in form order (MHT asks 是 before 否: codes ``(1, 0)``)."""
    spellings: tuple[tuple[str, ...], ...]
    """Option texts in form order; the first tuple is the published wording, the others variants seen
    on Chinese forms."""
    source: str

    def cell(self, code: int, answers: str, *, spelling: int = 0) -> str:
        """The cell an export writes for ``code``.

        Examples
        --------
        >>> [ANSWER_OPTIONS["mht"].cell(1, mode) for mode in ANSWER_MODES]
        ['是', '1', '1']
        >>> [ANSWER_OPTIONS["mht"].cell(0, mode) for mode in ANSWER_MODES]
        ['不是', '2', '0']
        """
        if code not in self.codes:
            raise ValueError(f"code {code} is not one of {self.codes}")
        position = self.codes.index(code)
        if answers == "text":
            return self.spellings[spelling][position]
        if answers == "number":
            return str(position + 1)
        if answers == "code":
            return str(code)
        raise ValueError(f"answers are written as one of {ANSWER_MODES}, not {answers!r}")

    def code_of(self, cell: str | float, answers: str) -> int:
        """The instrument code a cell written as ``answers`` stands for (the inverse of :meth:`cell`).

        Examples
        --------
        >>> ANSWER_OPTIONS["phq9"].code_of("一半以上时间", "text"), ANSWER_OPTIONS["scl90"].code_of(3.0, "number")
        (2, 3)
        """
        if answers == "text":
            return next(self.codes[s.index(cell)] for s in self.spellings if cell in s)
        if answers == "number":
            return self.codes[int(cell) - 1]
        return int(cell)


_FREQUENCY = AnswerOptions(
    codes=(0, 1, 2, 3),
    spellings=(
        ("完全不会", "好几天", "一半以上的天数", "几乎每天"),
        ("没有", "有几天", "一半以上时间", "几乎每一天"),
        ("完全没有", "有几天", "一半以上时间", "几乎每天"),
        ("完全没有", "好几天", "一半以上的天数", "几乎每天"),
    ),
    source="Pfizer's Simplified Chinese PHQ-9 and GAD-7 (phqscreeners.com; reproduction needs no "
    "permission); variants from a counselling centre's form (xtxinli.com/list_16/141.html), a "
    "hospital's form (max.book118.com/html/2023/1209/6052243103010020.shtm) and lxscale.xyz",
)
ANSWER_OPTIONS: dict[str, AnswerOptions] = {
    "phq9": _FREQUENCY,
    "gad7": _FREQUENCY,
    "mht": AnswerOptions(
        codes=(1, 0),
        spellings=(("是", "不是"), ("是", "否")),
        source="MHT (周步成): 是 = 1, 不是 = 0 (psychanalytics/instruments/specs/mht.yaml)",
    ),
    "scl90": AnswerOptions(
        codes=(1, 2, 3, 4, 5),
        spellings=(("没有", "很轻", "中等", "偏重", "严重"),),
        source="SCL-90 Chinese version (王征宇, 上海精神医学 1984), coded 1-5",
    ),
}
"""Option texts of the instruments platforms put on forms, keyed by instrument code."""

ITEM_TEXTS: dict[str, tuple[str, ...]] = {
    "phq9": (
        "做事时提不起劲或没有兴趣",
        "感到心情低落、沮丧或绝望",
        "入睡困难、睡不安稳或睡眠过多",
        "感觉疲倦或没有活力",
        "食欲不振或吃太多",
        "觉得自己很糟，或觉得自己很失败，或让自己或家人失望",
        "对事物专注有困难，例如阅读报纸或看电视时",
        "动作或说话速度缓慢到别人已经觉察？或正好相反，烦躁或坐立不安、动来动去的情况更胜于平常",
        "有不如死掉或用某种方式伤害自己的念头",
    ),
    "gad7": (
        "感觉紧张、焦虑或急切",
        "不能够停止或控制担忧",
        "对各种各样的事情担忧过多",
        "很难放松下来",
        "由于不安而无法静坐",
        "变得容易烦恼或急躁",
        "感到似乎将有可怕的事情发生而害怕",
    ),
}
"""Item wording of the instruments whose licence allows it (Pfizer's Simplified Chinese PHQ-9 and
GAD-7); other instruments' items are written ``题干``."""


def _draw_codes(rng: np.random.Generator, instrument: str, n: int) -> tuple[tuple[int, ...], ...]:
    """Item codes, lower codes more often (most students report few symptoms)."""
    spec = instruments.get(instrument)
    values = np.asarray(spec.item_values)
    weights = 0.5 ** np.arange(len(values))
    return tuple(map(tuple, rng.choice(values, (n, spec.n_items), p=weights / weights.sum()).tolist()))


# --- tables: layout and writers -------------------------------------------------------------------

NON_STUDENT_ROWS = ("blank", "total", "mean", "signature", "note", "header")
"""Lines that are not students: a blank line, a 合计 line (item sums), a 平均分 line, a signature
line (制表人：…, 审核：…), a 备注 line, and the header again (two exports pasted together)."""
FILE_FORMATS = ("csv", "xlsx", "xls", "html")
"""``"xls"`` is a real BIFF8 workbook in an OLE2 file (written by xlwt); ``"html"`` a table in an HTML
page, which some platforms save as ``.xls``. Any of them can be written under any file name."""
EXCEL_UNICODE_TEXT = {"encoding": "utf-16", "delimiter": "\t", "newline": "\r\n"}
"""What Excel's "Save as Unicode text (*.txt)" writes: UTF-16 little-endian with a BOM, tabs, CRLF."""

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HTML_TEXT_CELL = " style=\"mso-number-format:'\\@'\""


@dataclass(frozen=True)
class _Table:
    """A file's content as text, before it is written in a format."""

    columns: tuple[str, ...]
    title: tuple[str, ...]
    header: tuple[tuple[str, ...], ...]
    merges: tuple[tuple[int, int, int, int], ...]
    """Merged header cells: first row, first column, last row, last column (0-based, within header)."""
    rows: tuple[tuple[str, ...], ...]
    student_rows: tuple[int, ...]
    numeric: frozenset[int] = frozenset()
    """Columns a spreadsheet holds as numbers wherever the text is a plain number."""
    identifiers: frozenset[int] = frozenset()
    """Columns of 学籍号 / 身份证号: numbers in a spreadsheet only when asked (``numeric_ids``)."""

    @property
    def records(self) -> list[tuple[str, ...]]:
        return [(t,) if t else () for t in self.title] + [*self.header, *self.rows]

    @property
    def header_index(self) -> int:
        return len(self.title) + len(self.header) - 1


def _header(
    columns: tuple[str, ...], style: str, *, identity: int, label: str
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[int, int, int, int], ...]]:
    """One header row, or two: a group row above the names, or names split as merged cells leave them."""
    width, items = len(columns), len(columns) - identity
    if style == "one":
        return (columns,), ()
    if style == "group":
        top = ("基本信息",) + ("",) * (identity - 1) + ((label,) + ("",) * (items - 1) if items else ())
        merges = ((0, 0, 0, identity - 1),) + (((0, identity, 0, width - 1),) if items else ())
        return (top, columns), merges
    if style == "split":
        if not items:
            raise ValueError("a split header puts item numbers under the instrument; this file has no items")
        top = columns[:identity] + (label,) + ("",) * (items - 1)
        bottom = ("",) * identity + columns[identity:]
        return (top, bottom), tuple((0, c, 1, c) for c in range(identity)) + ((0, identity, 0, width - 1),)
    raise ValueError(f"header_rows is 'one', 'group' or 'split', not {style!r}")


def _non_student_row(
    kind: str,
    header: tuple[tuple[str, ...], ...],
    width: int,
    item_columns: Sequence[int],
    codes: Sequence[tuple[int, ...]],
) -> list[tuple[str, ...]]:
    row = [""] * width
    if kind == "blank":
        return [()]
    if kind == "header":
        return list(header)
    if kind == "signature":
        row[0], row[min(3, width - 1)] = "制表人：王老师", "审核：李主任"
    elif kind == "note":
        row[0] = "备注：本表由各班班主任核对"
    elif kind == "total" and not item_columns:
        row[0], row[1] = "合计", f"共{len(codes)}人"
    elif kind in ("total", "mean"):
        if not item_columns:
            raise ValueError("a mean line needs item columns; this file has none")
        sums = np.asarray(codes).sum(axis=0)
        row[0] = "合计" if kind == "total" else "平均分"
        for column, total in zip(item_columns, sums.tolist(), strict=True):
            row[column] = str(total) if kind == "total" else f"{total / len(codes):.2f}"
    else:
        raise ValueError(f"unknown non-student line {kind!r}; known: {', '.join(NON_STUDENT_ROWS)}")
    return [tuple(row)]


def _layout(
    columns: tuple[str, ...],
    student_rows: Sequence[tuple[str, ...]],
    *,
    identity: int,
    label: str = "",
    header_rows: str = "one",
    title_lines: Sequence[str] = (),
    non_students: Sequence[tuple[str, int]] = (),
    codes: Sequence[tuple[int, ...]] = (),
    numeric: Sequence[int] = (),
    identifiers: Sequence[int] = (),
) -> _Table:
    """Title lines, header row(s), and student rows with the non-student lines put before student ``at``."""
    header, merges = _header(columns, header_rows, identity=identity, label=label)
    n = len(student_rows)
    for kind, at in non_students:
        if not 0 <= at <= n:
            raise ValueError(f"a {kind} line goes before a student 0 … {n}, not {at}")
    item_columns = range(identity, len(columns))
    rows: list[tuple[str, ...]] = []
    students: list[int] = []
    for i in range(n + 1):
        for kind, at in non_students:
            if at == i:
                rows += _non_student_row(kind, header, len(columns), item_columns, codes)
        if i < n:
            students.append(len(rows))
            rows.append(student_rows[i])
    return _Table(
        columns=columns,
        title=tuple(title_lines),
        header=header,
        merges=merges,
        rows=tuple(rows),
        student_rows=tuple(students),
        numeric=frozenset(numeric),
        identifiers=frozenset(identifiers),
    )


def _encode(text: str, encoding: str) -> bytes:
    if encoding.lower().replace("_", "-") in ("utf-16", "utf16"):
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{error.object[error.start : error.end]!r} cannot be written in {encoding}"
        ) from None


def _csv_bytes(
    records: Sequence[tuple[str, ...]], *, encoding: str, delimiter: str, newline: str, final_newline: bool
) -> tuple[bytes, list[int]]:
    """CSV as Excel writes it, and the 1-based line on which each record starts.

    Records are written with CRLF so that the csv module quotes every value holding CR or LF (it
    quotes only the characters of its line terminator; Excel quotes both), then end in ``newline``.
    A line ends at CRLF, CR or LF.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    pieces, lines, line = [], [], 1
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(record)
        piece = buffer.getvalue()[:-2] + newline
        pieces.append(piece)
        lines.append(line)
        line += len(_LINE_BREAK.findall(piece))
    text = "".join(pieces)
    return _encode(text if final_newline else text[: -len(newline)], encoding), lines


def _sheet_value(text: str, column: int, table: _Table, numeric_ids: bool) -> str | int | float | None:
    """A data cell as a spreadsheet holds it: empty, a number, or text."""
    if text == "":
        return None
    if column in table.numeric and _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    if numeric_ids and column in table.identifiers and text.isascii() and text.isdigit():
        kept = excel_number(text)
        return int(kept) if len(kept) <= 15 else float(kept)
    return text


def _trimmed(values: Sequence) -> tuple:
    values = list(values)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


def _sheet_records(table: _Table, numeric_ids: bool) -> list[tuple]:
    """Every row as cell values (None for an empty cell), trailing empty cells left out."""
    head = [tuple(v or None for v in record) for record in table.records[: table.header_index + 1]]
    body = [tuple(_sheet_value(t, c, table, numeric_ids) for c, t in enumerate(row)) for row in table.rows]
    return [_trimmed(record) for record in head + body]


def _save_xlsx(path: Path, records: Sequence[tuple], table: _Table) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    for record in records:
        sheet.append(list(record))
    top = len(table.title) + 1
    for r1, c1, r2, c2 in table.merges:
        sheet.merge_cells(start_row=top + r1, start_column=c1 + 1, end_row=top + r2, end_column=c2 + 1)
    book.save(path)


def _save_xls(path: Path, records: Sequence[tuple], table: _Table) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, record in enumerate(records):
        for c, value in enumerate(record):
            if value is not None:
                sheet.write(r, c, value)
    top = len(table.title)
    for r1, c1, r2, c2 in table.merges:
        sheet.merge(top + r1, top + r2, c1, c2)
    book.save(str(path))


def _html_bytes(table: _Table, encoding: str) -> bytes:
    """An HTML table of text cells, 学籍号 columns formatted as text (``mso-number-format:'\\@'``)."""
    charset = "utf-8" if encoding.lower().replace("_", "-").startswith("utf-8") else encoding
    rows = []
    for record in table.records:
        cells = "".join(
            f"<td{_HTML_TEXT_CELL if c in table.identifiers else ''}>{html.escape(v)}</td>"
            for c, v in enumerate(record)
        )
        rows.append(f"<tr>{cells}</tr>")
    page = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
        f'<head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>\n'
        '<body>\n<table border="1">\n' + "\n".join(rows) + "\n</table>\n</body>\n</html>\n"
    )
    return _encode(page, encoding)


@dataclass(frozen=True)
class ExportTruth:
    """What a generated file holds, as a test needs it."""

    path: Path
    kind: str
    """``"roster"``, ``"screening"``, ``"staff"`` or ``"rooms"``: the import the file is made for."""
    records: tuple[tuple, ...]
    """Every record in file order. CSV and HTML: the text of each cell, as :mod:`csv` reads it (a blank
    line is ``()``). Workbooks: the cell values (None for an empty cell, a number where the file holds
    a number), trailing empty cells left out."""
    record_lines: tuple[int, ...]
    """1-based line (CSV: lines end at CRLF, CR or LF) or row on which each record starts."""
    header_index: int
    """Index in ``records`` of the header row (the lower one of a two-row header)."""
    columns: tuple[str, ...]
    """Column names a reader should end up with (both rows of a split header read together)."""
    student_records: tuple[int, ...] = ()
    """Indexes in ``records`` of the real students, in file order."""
    students: tuple[Student, ...] = ()
    """The students, as registered (intended 学籍号 and names), aligned with ``student_records``."""
    codes: tuple[tuple[int, ...], ...] = ()
    """Each student's intended item codes in the instrument's own coding (PHQ-9 0–3, SCL-90 1–5)."""
    damages: tuple[tuple[str, ...], ...] = ()
    """Damage steps (:data:`DAMAGES`) done to each student's 学籍号 as written; ``()`` for none."""
    item_columns: tuple[int, ...] = ()
    """Column positions of items 1 … K."""
    instrument: str | None = None
    choices: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """Column position → option texts in form order, for single-choice columns (items, 性别, 年级)."""

    @property
    def student_lines(self) -> tuple[int, ...]:
        """1-based line on which each student's record starts (the line numbers an importer reports)."""
        return tuple(self.record_lines[i] for i in self.student_records)

    def column(self, position: int) -> list:
        """The cells of column ``position`` in the students' records, as written."""
        return [self.records[i][position] for i in self.student_records]


def _write(
    path: str | Path,
    table: _Table,
    *,
    file_format: str,
    encoding: str,
    delimiter: str = ",",
    newline: str = "\n",
    final_newline: bool = True,
    numeric_ids: bool = False,
    **truth,
) -> ExportTruth:
    """Write ``table`` in ``file_format`` and return its truth (``truth``: the student fields)."""
    path = Path(path)
    if file_format == "csv":
        content, lines = _csv_bytes(
            table.records,
            encoding=encoding,
            delimiter=delimiter,
            newline=newline,
            final_newline=final_newline,
        )
        path.write_bytes(content)
        records = table.records
    elif file_format in ("xlsx", "xls"):
        records = _sheet_records(table, numeric_ids)
        (_save_xlsx if file_format == "xlsx" else _save_xls)(path, records, table)
        lines = list(range(1, len(records) + 1))
    elif file_format == "html":
        path.write_bytes(_html_bytes(table, encoding))
        records, lines = table.records, list(range(1, len(table.records) + 1))
    else:
        raise ValueError(f"file_format is one of {FILE_FORMATS}, not {file_format!r}")
    return ExportTruth(
        path=path,
        records=tuple(map(tuple, records)),
        record_lines=tuple(lines),
        header_index=table.header_index,
        columns=table.columns,
        student_records=tuple(table.header_index + 1 + r for r in table.student_rows),
        **truth,
    )


# --- exports --------------------------------------------------------------------------------------

ROSTER_COLUMNS = ("学籍号", "姓名", "性别", "学校", "年级", "班级")
"""The identity columns of a school's roster and screening export, in the importer's usual order."""
WJX_METADATA = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
"""The columns 问卷星 writes before the questions (the first six of the real exports in
gasongjian/reportgen ``example/datasets/[问卷星数据]800_800_{0,2}.xls``; read by name in
CollegesChat/wenjuanxing-parser ``src/wenjuanxing_parser/_models/dataframe.py``)."""
WJX_EXTRA_QUESTIONS = ("身份证号", "家长手机", "联系电话", "家长姓名", "家庭住址")
"""Personal questions a school's form adds, which an importer must not mistake for items."""

_WJX_SOURCES = ("微信", "手机提交", "链接")
_WJX_SOURCE_DETAILS = ("N/A", "直接访问")
_WJX_IP_PREFIXES = ("58.216", "58.217", "114.229", "221.231", "49.77")
_GRADE_WORDS = dict(enumerate("一二三四五六七八九", start=1)) | {10: "高一", 11: "高二", 12: "高三"}


def _grade_option(grade: int) -> str:
    """A grade as a form's option says it: ``七年级``, ``高一``."""
    return _GRADE_WORDS[grade] if grade > 9 else f"{_GRADE_WORDS[grade]}年级"


def _damage(
    students: Sequence[Student], damage: Mapping[int, str | Sequence[str]]
) -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    """The 学籍号 as written, and the damage steps of each student."""
    steps = {i: (s,) if isinstance(s, str) else tuple(s) for i, s in damage.items()}
    for i in steps:
        if not 0 <= i < len(students):
            raise ValueError(f"damage names student {i}; the file has students 0 … {len(students) - 1}")
    numbers = [
        damaged(s.student_number, steps[i]) if i in steps else s.student_number
        for i, s in enumerate(students)
    ]
    return numbers, tuple(steps.get(i, ()) for i in range(len(students)))


def _item_headers(style: str, n_items: int) -> tuple[str, ...]:
    styles = {"Q": "Q{}", "dot": "{}.题干", "number": "{}"}
    if style not in styles:
        raise ValueError(f"item_header is one of {tuple(styles)}, not {style!r}")
    return tuple(styles[style].format(i) for i in range(1, n_items + 1))


def school_export(
    path: str | Path,
    seed: int,
    *,
    kind: str = "screening",
    instrument: str = "phq9",
    n: int = 20,
    school: str = "示例第一中学",
    school_year: str = "2025-2026",
    grades: Sequence[int] = (7, 8, 9),
    local_share: float = 0.1,
    item_header: str = "Q",
    header_rows: str = "one",
    title_lines: Sequence[str] = (),
    non_students: Sequence[tuple[str, int]] = (),
    damage: Mapping[int, str | Sequence[str]] | None = None,
    line_break_in_name: Sequence[int] = (),
    trailing_empty: int = 0,
    full_width_items: bool = False,
    numeric_ids: bool = False,
    file_format: str = "csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
    final_newline: bool = True,
) -> ExportTruth:
    """A school's roster or screening export: ``学籍号,姓名,性别,学校,年级,班级`` (then items).

    Parameters
    ----------
    path : str or Path
        Where to write (any suffix: ``file_format`` decides the content).
    seed : int
        Same seed and options, same bytes.
    kind : {"screening", "roster"}
        A screening file has one column per item of ``instrument``, answered with its codes.
    instrument : str
        Instrument code (:func:`psychanalytics.instruments.get`).
    n : int
        Students.
    school, school_year, grades, local_share
        As :func:`make_students`.
    item_header : {"Q", "dot", "number"}
        Item columns named ``Q1``, ``1.题干`` or ``1``.
    header_rows : {"one", "group", "split"}
        One header row; a group row above it (``基本信息`` over the identity columns, the
        instrument's name over the items, each merged in a workbook); or names split over two rows as
        merged cells leave them (identity names in the top row, item names under the instrument's
        name in the second).
    title_lines : sequence of str
        Lines above the header (a platform title, ``导出时间：…``; ``""`` is a blank line).
    non_students : sequence of (str, int)
        Lines that are not students (:data:`NON_STUDENT_ROWS`), each put before student ``at``
        (``at = n``: at the end).
    damage : mapping of int to str or sequence of str, optional
        Student index → damage steps done to their 学籍号 (:func:`damaged`).
    line_break_in_name : sequence of int
        Students whose name holds a line break after the surname (Alt+Enter: ``"王\\n五"``).
    trailing_empty : int
        Empty cells added at the end of every other student line (``,,,``: Excel's used range).
    full_width_items : bool
        Item cells of every other student in full-width digits (``２``).
    numeric_ids : bool
        In a workbook, a 学籍号 of plain digits is a number cell as Excel makes it (15 significant
        digits, no leading zeros); otherwise every 学籍号 is text.
    file_format : {"csv", "xlsx", "xls", "html"}
        See :data:`FILE_FORMATS`.
    encoding : str
        For CSV and HTML: ``utf-8``, ``utf-8-sig``, ``gbk``, ``gb18030`` or ``utf-16`` (little-endian
        with a BOM; with ``**EXCEL_UNICODE_TEXT`` it is Excel's "Unicode text").
    delimiter, newline : str
        CSV only. ``newline`` is ``"\\n"``, ``"\\r\\n"`` or a bare ``"\\r"`` (Excel for Mac).
    final_newline : bool
        CSV only: whether the last line ends in ``newline``.

    Returns
    -------
    ExportTruth

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> truth = school_export(f"{folder.name}/phq9.csv", 1, n=2, non_students=[("total", 2)])
    >>> truth.records[0][:7], truth.student_records
    (('学籍号', '姓名', '性别', '学校', '年级', '班级', 'Q1'), (1, 2))
    >>> truth.records[3][0], truth.records[3][6:] == tuple(str(sum(item)) for item in zip(*truth.codes))
    ('合计', True)
    >>> folder.cleanup()
    """
    if kind not in ("roster", "screening"):
        raise ValueError(f"a school export is a roster or a screening file, not {kind!r}")
    rng = np.random.default_rng(seed)
    students = _students(
        rng, n, school=school, school_year=school_year, grades=grades, local_share=local_share
    )
    spec = instruments.get(instrument) if kind == "screening" else None
    codes = _draw_codes(rng, instrument, n) if spec else ((),) * n
    numbers, damages = _damage(students, damage or {})
    columns = ROSTER_COLUMNS + (_item_headers(item_header, spec.n_items) if spec else ())
    rows = []
    for i, s in enumerate(students):
        name = s.name[:1] + "\n" + s.name[1:] if i in line_break_in_name else s.name
        items = tuple(full_width(str(c)) if full_width_items and i % 2 else str(c) for c in codes[i])
        padding = ("",) * (trailing_empty if i % 2 == 0 else 0)
        rows.append((numbers[i], name, s.gender, s.school, str(s.grade), str(s.class_no), *items, *padding))
    item_columns = tuple(range(len(ROSTER_COLUMNS), len(columns)))
    table = _layout(
        columns,
        rows,
        identity=len(ROSTER_COLUMNS),
        label=spec.name_zh if spec else "",
        header_rows=header_rows,
        title_lines=title_lines,
        non_students=non_students,
        codes=codes,
        numeric=(4, 5, *item_columns),
        identifiers=(0,),
    )
    return _write(
        path,
        table,
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        newline=newline,
        final_newline=final_newline,
        numeric_ids=numeric_ids,
        kind=kind,
        students=students,
        codes=codes if spec else (),
        damages=damages,
        item_columns=item_columns,
        instrument=instrument if spec else None,
    )


def _wjx_metadata(
    rng: np.random.Generator, n: int, *, start: dt.datetime, n_items: int
) -> list[tuple[str, ...]]:
    """序号, 提交答卷时间 (``%Y/%m/%d %H:%M:%S``), 所用时间 (``325秒``), 来源, 来源详情, 来自IP
    (``58.217.xx.xx(江苏-常州)``) as the CollegesChat parser reads them; the values are illustrative."""
    submitted = start + np.cumsum(rng.integers(5, 120, n)).astype("timedelta64[s]").astype(dt.timedelta)
    seconds = rng.integers(6 * n_items + 40, 20 * n_items + 200, n).tolist()
    sources = rng.choice(_WJX_SOURCES, n).tolist()
    details = rng.choice(_WJX_SOURCE_DETAILS, n).tolist()
    prefixes = rng.choice(_WJX_IP_PREFIXES, n).tolist()
    hosts = rng.integers(1, 255, (n, 2)).tolist()
    return [
        (
            str(i + 1),
            f"{submitted[i]:%Y/%m/%d %H:%M:%S}",
            f"{seconds[i]}秒",
            sources[i],
            details[i],
            f"{prefixes[i]}.{hosts[i][0]}.{hosts[i][1]}(江苏-常州)",
        )
        for i in range(n)
    ]


def _extra_answers(rng: np.random.Generator, question: str, students: Sequence[Student]) -> list[str]:
    n = len(students)
    if question == "身份证号":
        return [s.id_number for s in students]
    if question in ("家长手机", "联系电话"):
        return mobile_numbers(rng, n)
    if question == "家长姓名":
        return chinese_names(rng, n)
    if question == "家庭住址":
        roads, numbers, rooms = (
            rng.choice(_ROADS, n).tolist(),
            rng.integers(1, 300, n),
            rng.integers(101, 1802, n),
        )
        return [
            f"江苏省常州市钟楼区{r}{k}号{m}室"
            for r, k, m in zip(roads, numbers.tolist(), rooms.tolist(), strict=True)
        ]
    raise ValueError(f"unknown extra question {question!r}; known: {', '.join(WJX_EXTRA_QUESTIONS)}")


def wjx_export(
    path: str | Path,
    seed: int,
    *,
    instrument: str = "phq9",
    n: int = 20,
    answers: str = "text",
    spelling: int = 0,
    name_question: str = "姓名",
    extra_questions: Sequence[str] = (),
    school: str = "示例第一中学",
    school_year: str = "2025-2026",
    grades: Sequence[int] = (7, 8, 9),
    local_share: float = 0.1,
    damage: Mapping[int, str | Sequence[str]] | None = None,
    non_students: Sequence[tuple[str, int]] = (),
    file_format: str = "csv",
    encoding: str = "utf-8-sig",
    newline: str = "\r\n",
) -> ExportTruth:
    """A 问卷星 (wjx.cn) answer export of a screening form.

    The shape follows the real 问卷星 exports in gasongjian/reportgen
    (``example/datasets/[问卷星数据]800_800_0.xls``, answers as option text, and ``…_2.xls``, as option
    numbers 1 … K in numeric cells): the six columns of :data:`WJX_METADATA`, then every question
    numbered ``1、<question>`` with no question-type suffix. CollegesChat/wenjuanxing-parser reads
    the same columns and the metadata formats used here (``325秒``; ``address(province-city)``). The
    form asks ``1、学籍号``, ``2、<name_question>``, ``3、性别``, ``4、学校``, ``5、年级``, ``6、班级``, then
    ``extra_questions``, then the instrument's items, so item 1 is question 7 or later. 性别 and 年级
    are single-choice questions: written as option numbers too when ``answers="number"``.

    Parameters
    ----------
    path : str or Path
    seed : int
    instrument : str
        One of :data:`ANSWER_OPTIONS`.
    n : int
    answers : {"text", "number", "code"}
        See :data:`ANSWER_MODES`.
    spelling : int
        Which spelling of the option texts (:attr:`AnswerOptions.spellings`).
    name_question : str
        The name question's wording (``姓名``, ``你的名字``, ``学生真实姓名``).
    extra_questions : sequence of str
        Personal questions from :data:`WJX_EXTRA_QUESTIONS`, asked after 班级.
    school, school_year, grades, local_share
        As :func:`make_students`.
    damage, non_students
        As :func:`school_export`.
    file_format : {"csv", "xlsx", "xls", "html"}
        问卷星 writes CSV as UTF-8 with a BOM (the default) and XLSX; ``encoding="gbk"`` is the CSV
        after Excel saved it again.
    encoding, newline : str
        CSV only (CRLF by default).

    Returns
    -------
    ExportTruth
        ``choices`` holds the options of 性别, 年级 and every item, in form order.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> truth = wjx_export(f"{folder.name}/wjx.csv", 2, n=1, extra_questions=["家长手机"])
    >>> truth.columns[:8], truth.columns[12:14]
    (('序号', '提交答卷时间', '所用时间', '来源', '来源详情', '来自IP', '1、学籍号', '2、姓名'), ('7、家长手机', '8、做事时提不起劲或没有兴趣'))
    >>> truth.records[1][:3], truth.records[1][12], truth.records[1][13:16], truth.codes[0][:3]
    (('1', '2025/10/13 08:01:09', '189秒'), '16677556394', ('完全不会', '完全不会', '好几天'), (0, 0, 1))
    >>> folder.cleanup()
    """
    if answers not in ANSWER_MODES:
        raise ValueError(f"answers are written as one of {ANSWER_MODES}, not {answers!r}")
    if instrument not in ANSWER_OPTIONS:
        raise ValueError(f"no option texts for {instrument!r}; known: {', '.join(ANSWER_OPTIONS)}")
    rng = np.random.default_rng(seed)
    spec = instruments.get(instrument)
    options = ANSWER_OPTIONS[instrument]
    students = _students(
        rng, n, school=school, school_year=school_year, grades=grades, local_share=local_share
    )
    codes = _draw_codes(rng, instrument, n)
    numbers, damages = _damage(students, damage or {})
    metadata = _wjx_metadata(rng, n, start=dt.datetime(int(school_year[:4]), 10, 13, 8), n_items=spec.n_items)
    extras = [_extra_answers(rng, q, students) for q in extra_questions]
    genders, grade_options = ("男", "女"), tuple(_grade_option(g) for g in sorted(set(grades)))

    def choice(labels: tuple[str, ...], label: str) -> str:
        return str(labels.index(label) + 1) if answers == "number" else label

    questions = ("学籍号", name_question, "性别", "学校", "年级", "班级", *extra_questions)
    texts = ITEM_TEXTS.get(instrument, ("题干",) * spec.n_items)
    columns = WJX_METADATA + tuple(f"{q}、{text}" for q, text in enumerate(questions + texts, start=1))
    rows = [
        (
            *metadata[i],
            numbers[i],
            s.name,
            choice(genders, s.gender),
            s.school,
            choice(grade_options, _grade_option(s.grade)),
            f"{s.class_no}班",
            *(answers_to[i] for answers_to in extras),
            *(options.cell(c, answers, spelling=spelling) for c in codes[i]),
        )
        for i, s in enumerate(students)
    ]
    gender_column, grade_column = len(WJX_METADATA) + 2, len(WJX_METADATA) + 4
    item_columns = tuple(range(len(WJX_METADATA) + len(questions), len(columns)))
    numeric = (
        [0]
        + (list(item_columns) if answers != "text" else [])
        + ([gender_column, grade_column] if answers == "number" else [])
    )
    table = _layout(
        columns,
        rows,
        identity=item_columns[0],
        label=spec.name_zh,
        non_students=non_students,
        codes=codes,
        numeric=numeric,
        identifiers=(len(WJX_METADATA),),
    )
    return _write(
        path,
        table,
        file_format=file_format,
        encoding=encoding,
        newline=newline,
        kind="screening",
        students=students,
        codes=codes,
        damages=damages,
        item_columns=item_columns,
        instrument=instrument,
        choices={gender_column: genders, grade_column: grade_options}
        | {c: options.spellings[spelling] for c in item_columns},
    )


STAFF_COLUMNS = ("工号", "姓名", "学校", "学年", "专兼职", "心理学专业", "证书", "实际从事心理工作", "周课时")
ROOM_COLUMNS = ("学校", "学年", "个别辅导室", "团体活动室", "办公接待区", "心理信箱", "面积", "每周开放时长")


def staff_list(
    path: str | Path,
    seed: int,
    *,
    n: int = 8,
    school: str = "示例第一中学",
    school_year: str = "2025-2026",
    file_format: str = "csv",
    encoding: str = "utf-8",
) -> ExportTruth:
    """A school's list of psychology staff (:data:`STAFF_COLUMNS`), e.g. given to the roster import.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> staff_list(f"{folder.name}/staff.csv", 1, n=1).records
    (('工号', '姓名', '学校', '学年', '专兼职', '心理学专业', '证书', '实际从事心理工作', '周课时'), ('T0001', '魏紫', '示例第一中学', '2025-2026', '专职', '是', '', '是', '5'))
    >>> folder.cleanup()
    """
    rng = np.random.default_rng(seed)
    names = chinese_names(rng, n)
    kinds = rng.choice(["专职", "兼职"], n).tolist()
    degrees = rng.choice(["是", "否"], n).tolist()
    certificates = rng.choice(["心理健康教育B证", "心理健康教育C证", ""], n).tolist()
    hours = rng.integers(2, 16, n).tolist()
    rows = [
        (
            f"T{i + 1:04d}",
            names[i],
            school,
            school_year,
            kinds[i],
            degrees[i],
            certificates[i],
            "是",
            str(hours[i]),
        )
        for i in range(n)
    ]
    table = _layout(STAFF_COLUMNS, rows, identity=len(STAFF_COLUMNS), numeric=(8,))
    return _write(path, table, file_format=file_format, encoding=encoding, kind="staff")


def rooms_list(
    path: str | Path,
    seed: int,
    *,
    schools: Sequence[str] = ("示例实验小学", "示例第一中学"),
    school_year: str = "2025-2026",
    file_format: str = "csv",
    encoding: str = "utf-8",
) -> ExportTruth:
    """Counselling rooms, one line per school (:data:`ROOM_COLUMNS`), e.g. given to the screening import.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> rooms_list(f"{folder.name}/rooms.csv", 1, schools=["示例实验小学"]).records[1]
    ('示例实验小学', '2025-2026', '是', '否', '是', '否', '51.2', '36')
    >>> folder.cleanup()
    """
    rng = np.random.default_rng(seed)
    n = len(schools)
    has = rng.choice(["是", "否"], (n, 4), p=[0.8, 0.2]).tolist()
    areas, hours = rng.uniform(20, 120, n).round(1).tolist(), rng.integers(10, 40, n).tolist()
    rows = [(s, school_year, *has[i], str(areas[i]), str(hours[i])) for i, s in enumerate(schools)]
    table = _layout(ROOM_COLUMNS, rows, identity=len(ROOM_COLUMNS), numeric=(6, 7))
    return _write(path, table, file_format=file_format, encoding=encoding, kind="rooms")


# --- damaged files --------------------------------------------------------------------------------


def bom_only(path: str | Path) -> Path:
    """A file holding only a UTF-8 BOM (an export of nothing, saved by a tool that writes the BOM first).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> bom_only(f"{folder.name}/empty.csv").read_bytes()
    b'\\xef\\xbb\\xbf'
    >>> folder.cleanup()
    """
    path = Path(path)
    path.write_bytes(codecs.BOM_UTF8)
    return path


@dataclass(frozen=True)
class StraddleTruth:
    """What :func:`large_roster` wrote."""

    path: Path
    numbers: tuple[str, ...]
    """Every row's 学籍号, in file order."""
    offset: int
    straddle_row: int
    """0-based data row whose name is ``"王\\n五"``."""
    line_feed_at: int
    """Byte position of the line feed inside the quoted name: ``offset - 1``."""
    closing_quote_at: int
    """Byte position of the quote closing the name: ``offset + 3`` (五 is three bytes)."""
    name: str = "王\n五"

    def line_of(self, row: int) -> int:
        """1-based line on which data row ``row`` starts (the header is line 1).

        Examples
        --------
        >>> truth = StraddleTruth(Path("x.csv"), ("G1", "G2", "G3"), 4096, 1, 4095, 4099)
        >>> [truth.line_of(row) for row in range(3)]
        [2, 3, 5]
        """
        return row + 2 + (row > self.straddle_row)


def large_roster(
    path: str | Path,
    *,
    rows: int = 200_000,
    offset: int = 2**20,
    seed: int = 0,
    school: str = "S02",
    school_year: str = "2025-2026",
) -> StraddleTruth:
    """A UTF-8 roster ``学籍号,姓名,性别,学校,年级,班级`` whose row crossing ``offset`` has the name
    ``"王\\n五"``, its line feed at byte ``offset - 1`` and its closing quote after ``offset``.

    Issue #9's reproduction: the importer cuts a file into pieces at line feeds, and a piece ending at
    the line feed inside the quotes splits the student in two. The bytes before the straddling row
    are made to fit by giving a few rows just above it a two-digit class (11–19) instead of one digit.
    Built as one join of short lines (200,000 rows, about 8 MB, in well under a second).

    Parameters
    ----------
    path : str or Path
    rows : int
        Data rows after the header.
    offset : int
        The byte position the quoted name straddles.
    seed : int
    school : str
        Written in every row (a short school code keeps the rows short).
    school_year : str
        Birth dates in the 身份证号 fit grades 7–9 of this school year.

    Returns
    -------
    StraddleTruth

    Raises
    ------
    ValueError
        When the rows end before ``offset``, or ``offset`` is too close to the header.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> truth = large_roster(f"{folder.name}/roster.csv", rows=300, offset=4096)
    >>> data = truth.path.read_bytes()
    >>> data[truth.line_feed_at - 4 : truth.closing_quote_at + 1].decode(), truth.straddle_row
    ('"王\\n五"', 100)
    >>> folder.cleanup()
    """
    rng = np.random.default_rng(seed)
    people = _student_columns(
        rng, rows, school_year=school_year, grades=(7, 8, 9), classes=9, local_share=0.05
    )
    numbers, classes = people["student_number"], people["class_no"]

    def line(i: int, name: str) -> str:
        return f"{numbers[i]},{name},{people['gender'][i]},{school},{people['grade'][i]},{classes[i]}\n"

    header = ",".join(ROSTER_COLUMNS) + "\n"
    lines = [line(i, name) for i, name in enumerate(people["name"])]
    line_ends = np.flatnonzero(np.frombuffer((header + "".join(lines)).encode(), dtype=np.uint8) == ord("\n"))
    starts = line_ends[:-1] + 1
    lead = np.fromiter(map(len, numbers), dtype=np.int64, count=rows) + len(',"王'.encode())
    fits = np.flatnonzero(starts + lead <= offset - 1)
    if len(fits) and fits[-1] == rows - 1:
        raise ValueError(f"{rows} rows of this roster do not reach past byte {offset}")
    row = int(fits[-1]) if len(fits) else 0
    gap = int(offset - 1 - lead[row] - starts[row])  # negative when even the first row starts too late
    if not 0 <= gap <= row:
        raise ValueError(f"byte {offset} is too close to the header to place the straddling row")
    for i in range(row - gap, row):
        classes[i] += 10
        lines[i] = line(i, people["name"][i])
    lines[row] = line(row, '"王\n五"')
    path = Path(path)
    path.write_bytes((header + "".join(lines)).encode())
    return StraddleTruth(
        path=path,
        numbers=tuple(numbers),
        offset=offset,
        straddle_row=row,
        line_feed_at=offset - 1,
        closing_quote_at=offset + 3,
    )
