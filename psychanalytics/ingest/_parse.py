"""Cell parsers: one text cell in, one typed value out, or :class:`Bad` with a reason code.

Every parser receives text already passed through :func:`clean_text` and never
receives an empty string (empty cells are handled by the caller).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from psychanalytics.ingest._problems import Bad
from psychanalytics.privacy.shapes import CHECK_CHARACTERS, CHECK_WEIGHTS, id_card_check_character

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_STAGE_OFFSET = {"初": 6, "高": 9}


def integer(text: str, lo: int | None = None, hi: int | None = None) -> int:
    """Whole number (``"3"``, ``"3.0"``), optionally within ``lo..hi``.

    >>> integer("12", 1, 12)
    12
    """
    m = re.fullmatch(r"([+-]?\d+)(?:\.0+)?", text)
    if not m:
        raise Bad("not_integer")
    value = int(m.group(1))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise Bad("out_of_range")
    return value


def age(text: str) -> int:
    """Age in whole years, 5-20 (school age); anything else is ``impossible_age``.

    >>> age("13")
    13
    """
    try:
        value = integer(text)
    except Bad:
        raise Bad("impossible_age") from None
    if not 5 <= value <= 20:
        raise Bad("impossible_age")
    return value


def number(text: str, lo: float | None = None, hi: float | None = None) -> float:
    """Decimal number, optionally within ``lo..hi``.

    >>> number("36.5")
    36.5
    """
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise Bad("not_number")
    value = float(text)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise Bad("out_of_range")
    return value


@lru_cache(maxsize=64)
def gender(text: str) -> str:
    """``F`` or ``M`` from 女/男, F/M, female/male.

    >>> gender("女"), gender("male")
    ('F', 'M')
    """
    value = {"女": "F", "f": "F", "female": "F", "男": "M", "m": "M", "male": "M"}.get(text.lower())
    if value is None:
        raise Bad("bad_gender")
    return value


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return _CN_DIGITS.get(text)


@lru_cache(maxsize=256)
def grade(text: str) -> int:
    """年级 1-12 from ``7``, ``七年级``, ``初一``, ``高三``, ``3年级``.

    >>> [grade(t) for t in ("7", "七年级", "初一", "高三", "3年级")]
    [7, 7, 7, 12, 3]
    """
    m = re.fullmatch(r"([初高])([一二三])(?:年级)?", text)
    if m:
        return _STAGE_OFFSET[m.group(1)] + _CN_DIGITS[m.group(2)]
    m = re.fullmatch(r"(\d{1,2}|[一二三四五六七八九]|十[一二]?)\s*(?:年级)?", text)
    if not m:
        raise Bad("impossible_grade")
    token = m.group(1)
    value = 10 + (_CN_DIGITS.get(token[1:], 0)) if token.startswith("十") else _cn_number(token)
    if value is None or not 1 <= value <= 12:
        raise Bad("impossible_grade")
    return value


_REWRITTEN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)|\d+\.\d*")
_ID_CARD = re.compile(r"(G?)(\d{17}[\dX])")
_CHECK_WEIGHTS = np.array(CHECK_WEIGHTS, dtype=np.int64)
_EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number: a longer one typed into a number cell ends in zeros."""


def identifier(text: str) -> str:
    """A 学籍号 or 工号 in canonical form, refused when a spreadsheet has rewritten it.

    What a spreadsheet or a keyboard adds is taken away
    (:func:`~psychanalytics.privacy.pseudonym.normalise_student_number`: full-width
    letters, spaces, zero-width and control characters, a leading apostrophe,
    lower case). Excel turns a long number into ``1.23456789012345E+17`` or
    ``123456.0``: the digits it dropped cannot be recovered, and the rewritten
    form would become a different pseudonym, splitting one student in two.

    >>> identifier("G320402201201010012"), identifier("00123"), identifier("'ｇ123 ")
    ('G320402201201010012', '00123', 'G123')
    >>> identifier("1.23456789012345E+17")
    Traceback (most recent call last):
    ...
    psychanalytics.ingest._problems.Bad: bad_number_format
    """
    from psychanalytics.privacy.pseudonym import normalise_student_number

    if _REWRITTEN_NUMBER.fullmatch(text):
        raise Bad("bad_number_format")
    try:
        return normalise_student_number(text)
    except ValueError:
        raise Bad("missing_required") from None


def student_number(text: str) -> str:
    """A 学籍号 (:func:`identifier`), refused when it has lost digits.

    A national 学籍号 is ``G`` + the student's 18-character ID-card number (or a
    number the locality assigns). An ID card's last character checks the other
    17 (GB 11643-1999); a number that fails it was mistyped, or rounded by Excel
    to 15 significant digits (``320404201201010000``), which any long number of
    digits ending in zeros after the 15th shows too. A bare ID-card number without
    its ``G`` is returned as it is: the import decides (``bare_id_card``).

    >>> student_number("G320404201201010014"), student_number("320404201201010014")
    ('G320404201201010014', '320404201201010014')
    >>> for bad in ("G320404201201010000", "G320404201201010013", "3204042012010100000"):
    ...     try:
    ...         student_number(bad)
    ...     except Bad as refused:
    ...         print(refused.reason)
    precision_lost
    bad_check_digit
    precision_lost
    """
    number = identifier(text)
    card = _ID_CARD.fullmatch(number)
    if card is not None and id_card_check_character(card.group(2)[:17]) != card.group(2)[17]:
        raise Bad("precision_lost" if card.group(2)[_EXCEL_DIGITS:-1] == "00" else "bad_check_digit")
    if (
        card is None
        and number.isdigit()
        and len(number) > _EXCEL_DIGITS
        and not number[_EXCEL_DIGITS:].strip("0")
    ):
        raise Bad("precision_lost")
    return number


def bare_id_card(number: str) -> bool:
    """True for an ID-card number written without the ``G`` of its 学籍号.

    >>> bare_id_card("320404201201010014"), bare_id_card("G320404201201010014"), bare_id_card("0012345")
    (True, False, False)
    """
    card = _ID_CARD.fullmatch(number)
    return card is not None and not card.group(1)


def _check_digits_valid(cards: pa.Array) -> bool:
    """True when every cell of ``cards`` (18 ASCII characters each) ends in its ID-card check character."""
    if not len(cards):
        return True
    _, offsets, data = cards.buffers()
    start = int(np.frombuffer(offsets, dtype=np.int32, count=1, offset=cards.offset * 4)[0])
    table = np.frombuffer(data, dtype=np.uint8, count=18 * len(cards), offset=start).reshape(len(cards), 18)
    sums = (table[:, :17].astype(np.int64) - ord("0")) @ _CHECK_WEIGHTS
    expected = np.frombuffer(CHECK_CHARACTERS.encode(), dtype=np.uint8)[sums % 11]
    return bool(np.array_equal(expected, table[:, 17]))


def identifiers_as_written(column: pa.Array) -> bool:
    """True when :func:`identifier` would keep every cell of ``column`` as it is (checked at once, in Arrow).

    >>> identifiers_as_written(pa.array(["G1", "00123"])), identifiers_as_written(pa.array(["G1", "1.2E+17"]))
    (True, False)
    """
    return (
        pc.all(pc.match_substring_regex(column, "^[0-9A-Z]+$")).as_py()
        and not pc.any(pc.match_substring_regex(column, f"^(?:{_REWRITTEN_NUMBER.pattern})$")).as_py()
    )


def student_numbers_as_written(column: pa.Array) -> bool:
    """True when :func:`student_number` would keep every cell of ``column`` as it is, and none is a bare
    ID-card number (checked at once: a million 学籍号 skip the per-cell parse).

    >>> student_numbers_as_written(pa.array(["G320404201201010014", "L0012"]))
    True
    >>> [student_numbers_as_written(pa.array([n])) for n in ("G320404201201010013", "320404201201010014")]
    [False, False]
    """
    if not identifiers_as_written(column):
        return False
    if pc.any(pc.match_substring_regex(column, r"^\d{16,}$|^\d{17}X$")).as_py():
        return False
    cards = pc.filter(column, pc.match_substring_regex(column, r"^G\d{17}[\dX]$"))
    return _check_digits_valid(pc.utf8_slice_codeunits(cards, 1))


def text(value: str, *, max_length: int) -> str:
    """Free text (an activity code, a certificate) kept as written, refused when its column cannot hold it.

    SQLite would store the long text and PostgreSQL refuse the whole file: the
    row is refused on both, with its reason.

    >>> text("心理健康教育C证", max_length=32)
    '心理健康教育C证'
    >>> text("X" * 33, max_length=32)
    Traceback (most recent call last):
    ...
    psychanalytics.ingest._problems.Bad: too_long
    """
    if len(value) > max_length:
        raise Bad("too_long")
    return value


@lru_cache(maxsize=1024)
def class_no(text: str) -> int:
    """班级 number from ``3``, ``3班``, ``(3)班``, ``初一(3)班``, ``七年级3班``.

    >>> [class_no(t) for t in ("3", "3班", "(3)班", "初一(12)班", "七年级3班", "（3）班")]
    [3, 3, 3, 12, 3, 3]

    Anything else (``1001``, ``3.5``, ``A3``) is refused, never cut down to a number.
    """
    m = re.fullmatch(
        r"(?:[初高][一二三]|[一二三四五六七八九十]{1,2}年级|\d{1,2}年级)?\s*[(（]?(\d{1,2})[)）]?\s*班?", text
    )
    if not m or int(m.group(1)) < 1:
        raise Bad("bad_class")
    return int(m.group(1))


def entry_cohort(school_year: str, grade: int) -> int:
    """The year a student in ``grade`` during ``school_year`` entered grade 1 (``student.cohort``).

    Files write 届 (usually the year of graduating from the current stage) or
    级 (the year of entering it); both depend on the stage, so the stored
    cohort is derived from 年级 and 学年 instead.

    >>> entry_cohort("2025-2026", 7)
    2019
    """
    return int(school_year[:4]) - grade + 1


@lru_cache(maxsize=256)
def year(text: str) -> int:
    """A calendar year from ``2023``, ``2023届``, ``2023级``, ``2023年``.

    >>> year("2023届")
    2023
    """
    m = re.fullmatch(r"((?:19|20)\d{2})\s*[届级年]?", text)
    if not m:
        raise Bad("bad_year")
    return int(m.group(1))


def birth_year(text: str) -> int:
    """Birth year from ``2012``, ``2012-05-03``, ``2012年5月``.

    >>> birth_year("2012-05-03"), birth_year("2012年5月")
    (2012, 2012)
    """
    m = re.match(r"((?:19|20)\d{2})(?:$|[-/.年])", text)
    if not m:
        raise Bad("bad_year")
    return int(m.group(1))


@lru_cache(maxsize=64)
def school_year(text: str) -> str:
    """``2024-2025`` from ``2024-2025``, ``2024—2025学年``, ``2024/2025``.

    >>> school_year("2024—2025学年")
    '2024-2025'
    """
    m = re.fullmatch(r"((?:19|20)\d{2})\s*[-—–~/至]\s*((?:19|20)\d{2})\s*(?:学年)?", text)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise Bad("bad_school_year")
    return f"{m.group(1)}-{m.group(2)}"


_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def day(text: str) -> date:
    """A date from ``2024-09-01``, ``2024/9/1``, ``2024.9.1``, ``2024年9月1日``.

    >>> day("2024年9月1日")
    datetime.date(2024, 9, 1)
    """
    m = _DATE.fullmatch(text)
    if not m:
        raise Bad("bad_date")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise Bad("bad_date") from None


def moment(text: str) -> datetime:
    """A date and time from ``2024-09-01 08:30[:00]`` or a date alone (midnight).

    >>> moment("2024/9/1 8:30")
    datetime.datetime(2024, 9, 1, 8, 30)
    """
    m = re.fullmatch(r"(.+?)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", text)
    when = day(m.group(1))
    if m.group(2) is None:
        return datetime(when.year, when.month, when.day)
    try:
        return datetime(
            when.year, when.month, when.day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        )
    except ValueError:
        raise Bad("bad_date") from None


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "合格", "通过"}
_FALSE = {"否", "无", "没有", "n", "no", "false", "0", "×", "不合格", "未通过"}


@lru_cache(maxsize=64)
def boolean(text: str) -> bool:
    """是/否, 有/无, 合格/不合格, yes/no, true/false, 1/0.

    >>> boolean("是"), boolean("无"), boolean("TRUE")
    (True, False, True)
    """
    key = text.lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise Bad("bad_boolean")


@lru_cache(maxsize=4096)
def seconds(text: str) -> int:
    """作答用时 in seconds from ``325``, ``5分25秒``, ``00:05:25``, ``5:25``.

    >>> [seconds(t) for t in ("325", "5分25秒", "00:05:25", "5:25", "12分")]
    [325, 325, 325, 325, 720]
    """
    if re.fullmatch(r"\d+(?:\.0+)?", text):
        return int(float(text))
    m = re.fullmatch(r"(?:(\d+)\s*(?:小时|时))?\s*(?:(\d+)\s*分(?:钟)?)?\s*(?:(\d+)\s*秒)?", text)
    if m and any(m.groups()):
        h, mi, s = (int(g or 0) for g in m.groups())
        return h * 3600 + mi * 60 + s
    m = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2})", text)
    if m:
        return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    raise Bad("bad_duration")


def instrument_code(text: str) -> str:
    """A registered instrument code from ``phq9``, ``PHQ-9`` or ``PHQ 9``.

    >>> instrument_code("PHQ-9")
    'phq9'
    """
    from psychanalytics import instruments

    code = re.sub(r"[\s_\-]", "", text).lower()
    if code not in instruments.available():
        raise Bad("unknown_instrument")
    return code


def choice(text: str, options: dict[str, str]) -> str:
    """Map Chinese or English labels (lower-cased keys) to a stored code.

    >>> choice("对照组", {"对照组": "comparison", "comparison": "comparison"})
    'comparison'
    """
    value = options.get(text.lower())
    if value is None:
        raise Bad("bad_choice")
    return value
