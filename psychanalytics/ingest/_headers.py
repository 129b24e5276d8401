"""Header aliases: Chinese and English column names mapped to canonical field names.

Headers and names are compared after :func:`clean_text` (NFKC, so full-width
letters, digits, brackets and the ideographic space become ASCII; zero-width
characters removed; runs of spaces collapsed) and, for matching only, lower
case without spaces, underscores or hyphens.
"""

from __future__ import annotations

import re
import unicodedata

ALIASES: dict[str, tuple[str, ...]] = {
    "student_number": (
        "学籍号",
        "全国学籍号",
        "学籍编号",
        "学生学籍号",
        "学籍号码",
        "student_number",
        "student_no",
    ),
    "school_number": ("学号", "校内学号", "school_number"),
    "name": (
        "姓名",
        "学生姓名",
        "名字",
        "你的名字",
        "你的姓名",
        "真实姓名",
        "学生真实姓名",
        "name",
        "student_name",
    ),
    "gender": ("性别", "gender", "sex"),
    "age": ("年龄", "age"),
    "birth": ("出生日期", "出生年份", "出生年", "出生年月", "birth", "birth_year", "birth_date"),
    "grade": ("年级", "grade"),
    "class": ("班级", "班级名称", "班", "class", "class_no"),
    "cohort": ("届", "届别", "cohort"),
    "school": ("学校", "学校名称", "学校代码", "学校编号", "school", "school_id", "school_name"),
    "school_year": ("学年", "school_year"),
    "seconds": (
        "用时",
        "作答用时",
        "答题用时",
        "作答时长",
        "用时(秒)",
        "作答用时(秒)",
        "seconds",
        "duration",
    ),
    "platform_flag": ("有效性", "是否有效", "有效标记", "platform_flag", "validity"),
    "boarder": ("住校", "是否住校", "寄宿", "boarder"),
    "staff_number": ("工号", "教师编号", "教师工号", "staff_number", "staff_id"),
    "employment": ("专兼职", "专职/兼职", "任职类型", "employment"),
    "psychology_degree": ("心理学专业", "心理专业", "psychology_degree"),
    "certificate": ("证书", "资格证书", "心理健康教育证书", "certificate"),
    "does_psychology_work": ("实际从事心理工作", "从事心理工作", "does_psychology_work"),
    "weekly_hours": ("周课时", "每周课时", "weekly_hours"),
    "individual_room": ("个别辅导室", "individual_room"),
    "group_room": ("团体活动室", "团体辅导室", "group_room"),
    "reception_area": ("办公接待区", "接待区", "reception_area"),
    "mailbox": ("心理信箱", "mailbox"),
    "area_m2": ("面积", "面积(平方米)", "面积(m2)", "面积(㎡)", "area_m2"),
    "open_hours_week": ("每周开放时长", "每周开放小时", "开放时长(小时/周)", "open_hours_week"),
    "rule_duty": ("值班制度", "rule_duty"),
    "rule_appointment": ("预约制度", "rule_appointment"),
    "rule_counselling": ("辅导制度", "rule_counselling"),
    "rule_archive": ("档案建设制度", "档案制度", "rule_archive"),
    "rule_transfer": ("档案移交制度", "移交制度", "rule_transfer"),
    "inspected_on": ("年检日期", "检查日期", "inspected_on"),
    "inspection_passed": ("年检合格", "年检结果", "是否合格", "inspection_passed"),
    "activity_id": ("活动编号", "activity_id"),
    "held_on": ("日期", "活动日期", "辅导日期", "held_on", "date"),
    "activity_kind": ("活动类型", "activity_kind"),
    "title": ("活动名称", "项目名称", "标题", "名称", "title"),
    "attendance": ("参与人数", "参加人数", "attendance"),
    "intervention_id": ("项目编号", "干预编号", "干预项目编号", "intervention_id"),
    "intervention_kind": ("干预类型", "项目类型", "intervention_kind"),
    "instrument": ("量表", "测评量表", "结局量表", "instrument"),
    "scale": ("维度", "分量表", "scale"),
    "sessions_planned": ("计划次数", "计划节数", "sessions_planned"),
    "start_on": ("开始日期", "start_on"),
    "end_on": ("结束日期", "end_on"),
    "arm": ("组别", "分组", "arm"),
    "sessions_attended": ("出勤次数", "参加次数", "sessions_attended"),
    "pre_score": ("前测", "前测分", "前测得分", "pre_score"),
    "post_score": ("后测", "后测分", "后测得分", "post_score"),
    "pre_on": ("前测日期", "pre_on"),
    "post_on": ("后测日期", "post_on"),
    "case_id": ("个案编号", "案例编号", "case_id"),
    "crisis_source": ("来源", "发现途径", "source"),
    "severity": ("严重程度", "severity"),
    "local_label": ("预警等级", "本地标签", "local_label"),
    "wave": ("普测批次", "批次", "wave", "wave_id"),
    "seq": ("序号", "步骤序号", "seq"),
    "stage": ("阶段", "stage"),
    "level": ("层级", "级别", "level"),
    "occurred_at": ("时间", "发生时间", "occurred_at"),
    "term": ("学期", "term"),
    "lessons_planned": ("计划课时", "应开课时", "计划课时数", "lessons_planned"),
    "lessons_delivered": ("实际课时", "实开课时", "已开课时", "实际课时数", "lessons_delivered"),
    "uses_district_materials": (
        "使用区本教材",
        "区本教材",
        "使用七彩积极品格教材",
        "uses_district_materials",
    ),
    "budget_yuan": ("预算", "经费预算", "预算(元)", "经费预算(元)", "年度经费(元)", "budget_yuan"),
    "spent_yuan": ("支出", "实际支出", "支出(元)", "实际支出(元)", "已用经费(元)", "spent_yuan"),
    "enrolment": ("在校生数", "学生数", "在校学生数", "enrolment"),
    "n_classes": ("班级数", "n_classes"),
    "boarders": ("住校生数", "寄宿生数", "boarders"),
    "has_leadership_group": ("心理健康教育领导小组", "领导小组", "has_leadership_group"),
    "special_meetings": ("专题会次数", "专题会议次数", "专题会", "special_meetings"),
    "has_three_year_plan": ("三年规划", "心理健康教育三年规划", "has_three_year_plan"),
    "is_characteristic_school": ("市特色校", "心理健康教育特色校", "is_characteristic_school"),
    "n_teachers": ("全体教师数", "教师数", "专任教师数", "n_teachers"),
    "n_mentors": ("导师数", "全员导师数", "n_mentors"),
    "classes_with_committee": ("设有心理委员的班级数", "有心理委员的班级数", "classes_with_committee"),
    "session_id": ("记录编号", "辅导记录编号", "session_id"),
    "counselling_kind": ("辅导类型", "辅导形式", "counselling_kind"),
    "minutes": ("时长(分钟)", "辅导时长(分钟)", "时长", "minutes"),
}
"""Canonical field → accepted headers (Chinese first, then English)."""

_ZERO_WIDTH = dict.fromkeys(c for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD))
_ITEM_PATTERNS = (
    re.compile(r"^[qQ]?\s*(\d{1,3})$"),
    re.compile(r"^[qQ]?\s*(\d{1,3})\s*[.、:)]\s*.*$"),
    re.compile(r"^第\s*(\d{1,3})\s*题.*$"),
)


def clean_text(text: str) -> str:
    """NFKC, zero-width characters removed, whitespace runs collapsed, stripped.

    >>> clean_text("\\u3000张\\u200b三\\u3000 丰 ")
    '张三 丰'
    >>> clean_text("总分（标准分）")
    '总分(标准分)'
    """
    if not text.isascii():  # ASCII is already NFKC and holds no zero-width characters
        text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return " ".join(text.split())


def match_key(text: str) -> str:
    """Key used to compare a header with an alias."""
    return re.sub(r"[\s_\-]", "", clean_text(text)).lower()


_LOOKUP = {match_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}


def canonical(header: str) -> str | None:
    """Canonical field of a header, or None.

    >>> canonical("学生姓名"), canonical(" 作答用时 "), canonical("班级名称"), canonical("题目")
    ('name', 'seconds', 'class', None)
    """
    return _LOOKUP.get(match_key(header))


def item_number(header: str) -> int | None:
    """Item number of an item column written ``1.题干``, ``1、题干``, ``Q1``, ``1`` or ``第1题``.

    >>> [item_number(h) for h in ("1.我常常担心考试", "12、题干", "Q3", "7", "第9题", "总分")]
    [1, 12, 3, 7, 9, None]
    """
    text = clean_text(header)
    for pattern in _ITEM_PATTERNS:
        m = pattern.match(text)
        if m:
            return int(m.group(1))
    return None


PLATFORM_METADATA = (
    "序号",
    "提交答卷时间",
    "所用时间",
    "来源",
    "来源详情",
    "来自IP",
    "IP地址",
    "答题时间",
    "开始时间",
)
"""Columns a survey platform adds to every answer (问卷星: 序号 … 来自IP): recognised, never imported."""
_PERSONAL = re.compile(r"姓名|名字|身份证|手机|电话|住址|地址|家长|监护人|邮箱|微信|QQ|email", re.IGNORECASE)
"""Words of a question asking for personal details (a parent's phone, an ID card): never an item."""
_QUESTION = re.compile(r"^(\d{1,3})\s*[、.:)]\s*(.+)$")


def question(header: str) -> tuple[int, str] | None:
    """``(number, text)`` of a header a survey platform numbered: ``7、做事时提不起劲`` → ``(7, '做事时提不起劲')``.

    >>> question("1、学籍号"), question("12.题干"), question("学籍号")
    ((1, '学籍号'), (12, '题干'), None)
    """
    m = _QUESTION.match(clean_text(header))
    return None if m is None else (int(m.group(1)), m.group(2))


def platform_metadata(header: str) -> bool:
    """True for a column a survey platform adds (序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP …).

    >>> platform_metadata("来自IP"), platform_metadata("提交答卷时间"), platform_metadata("学籍号")
    (True, True, False)
    """
    return match_key(header) in _METADATA


def personal(text: str) -> bool:
    """True for a question asking for personal details (家长手机, 身份证号, 你的名字, 家庭住址 …).

    >>> personal("家长手机"), personal("你的名字"), personal("做事时提不起劲或没有兴趣")
    (True, True, False)
    """
    return _PERSONAL.search(text) is not None


_METADATA = {match_key(h) for h in PLATFORM_METADATA}
