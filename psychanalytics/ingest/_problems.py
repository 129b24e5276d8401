"""The importer's error type and the vocabulary of row problems."""

from __future__ import annotations

from dataclasses import dataclass

REASONS: dict[str, str] = {
    "short_row": "列数与表头不符 / number of fields differs from the header",
    "missing_required": "必填项为空 / required value is empty",
    "not_integer": "不是整数 / not a whole number",
    "unknown_option": "不是该量表的作答（选项文字或代码）/ not an answer of this instrument (an option text or code)",
    "not_number": "不是数字 / not a number",
    "out_of_range": "超出取值范围 / value out of the allowed range",
    "bad_gender": "无法识别的性别 / gender not recognised (男/女, M/F)",
    "impossible_grade": "年级不合理 / impossible grade (1-12, 初一, 高一 …)",
    "impossible_age": "年龄不合理 / impossible age (5-20)",
    "age_grade_mismatch": "年龄与年级不符 / age does not fit the grade",
    "bad_class": "无法识别的班级 / class number not recognised",
    "bad_year": "无法识别的年份 / year not recognised",
    "bad_school_year": "无法识别的学年 / school year not recognised (2024-2025)",
    "bad_date": "无法识别的日期 / date not recognised (2024-09-01)",
    "bad_boolean": "无法识别的是/否 / yes/no value not recognised",
    "bad_choice": "不是允许的选项 / not one of the allowed values",
    "unknown_instrument": "未登记的量表 / instrument not in the registry",
    "bad_duration": "无法识别的用时 / duration not recognised (秒, 5分25秒, 00:05:25)",
    "unknown_school": "学校不存在 / school not in the school table",
    "unknown_wave": "普测批次不存在 / screening wave not in the database",
    "duplicate_key": "同一文件中重复且内容不同 / same key as an earlier line, different content",
    "inconsistent": "与同一编号的前一行不一致 / disagrees with an earlier line of the same id",
    "too_long": "内容过长，超出该列可保存的长度 / longer than the column can hold",
    "precision_lost": "学籍号被表格软件截成 15 位有效数字（末尾变成 0），无法还原；请将该列设为文本，从原始数据重新导出 / "
    "the number lost digits to a spreadsheet's 15-digit precision: format the column as text and export again",
    "bad_check_digit": "身份证号的校验位不符：输入有误或被表格软件改写，请核对 / the ID-card number's check character "
    "does not match: mistyped or rewritten by a spreadsheet",
    "bare_id_card": "学籍号只有身份证号、缺少开头的 G，本次导入不接受；请补上 G，或用 --bare-id-card add-g 导入 / a bare "
    "ID-card number without its G (refused by --bare-id-card refuse)",
    "known_variant": "与库中已有学生的学籍号只差前导零或 G（可能被 Excel 改写），未导入；请将该列设为文本后重新导出 / "
    "differs from a known student's number only by leading zeros or its G (rewritten by a spreadsheet?)",
    "erased": "该学生已按删除请求删除，不再导入 / the student was erased at a request (psychanalytics forget): not "
    "imported again",
    "bad_number_format": "编号被表格软件改写（如 1.23E+17），请将该列设为文本后重新导出 / the number was rewritten by a spreadsheet (e.g. 1.23E+17): format the column as text and export again",
}
"""Reason codes stored in ``quarantine.reasons`` with their Chinese / English message."""


class IngestError(Exception):
    """A file the importer refuses as a whole (nothing of it is stored).

    Row-level problems never raise: those rows go to quarantine. This error is
    for files that cannot be read at all, unknown instruments or kinds, missing
    key columns, wrong item counts, and broken conservation.
    """


@dataclass(frozen=True)
class Problem:
    """One refused value: 1-based source line, column header as in the file, raw value, reason code."""

    line_no: int
    column: str
    value: str
    reason: str
    detail: str = ""
    """What the cell may hold instead (an item's allowed codes and option texts), when it helps."""

    @property
    def message(self) -> str:
        """Chinese / English text of the reason (and what the cell may hold)."""
        return f"{REASONS[self.reason]}；{self.detail}" if self.detail else REASONS[self.reason]

    def as_dict(self) -> dict[str, str]:
        """The ``{column, value, reason, message}`` entry stored in ``quarantine.reasons``."""
        return {"column": self.column, "value": self.value, "reason": self.reason, "message": self.message}


class Bad(ValueError):
    """Raised by a cell parser: carries the reason code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
