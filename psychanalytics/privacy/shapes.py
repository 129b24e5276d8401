"""Values shaped like personal identifiers, whatever column they arrived in; the ID card's check character.

A form adds columns under headers nobody can list in advance (身份证号, 家长手机,
联系电话, 来自IP …), and a person types a value into the wrong cell. What the
database keeps of a refused line is therefore checked by the value's shape, not
only by its header: a run of 11 or more digits (a mobile number has 11, an ID
card 15 or 18), an 18-character ID card ending in X, a landline, an IP address
(also as platforms partly mask it) or an e-mail address.

Examples
--------
>>> [looks_personal(v) for v in ("13912345678", "32040420120101012X", "58.217.xx.xx(江苏-常州)")]
[True, True, True]
>>> [looks_personal(v) for v in ("初一(3)班", "2", "2025-10-08 09:15:02", "G0012345")]
[False, False, False, False]
"""

from __future__ import annotations

import re

_PERSONAL = re.compile(
    r"\d{11,}"  # mobile numbers, ID cards, 学籍号 (G + ID card), bank cards
    r"|\d{17}[Xx]"  # an ID card whose check character is X
    r"|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"  # a landline with its area code
    r"|(?<![\d.])\d{1,3}(?:\.(?:\d{1,3}|[xX*]{1,3})){3}(?![\d.])"  # an IP address, also partly masked
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # an e-mail address
)


CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643-1999: the weights of the first 17 digits of an ID card (2^(17-i) mod 11)."""
CHECK_CHARACTERS = "10X98765432"
"""An ID card's 18th character is this string at (Σ digit × weight) mod 11."""


def id_card_check_character(first17: str) -> str:
    """The check character (0-9 or X) of an ID card whose first 17 digits are ``first17`` (GB 11643-1999).

    >>> id_card_check_character("11010519491231002")
    'X'
    """
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, CHECK_WEIGHTS, strict=True)) % 11]


def looks_personal(text: str) -> bool:
    """True when ``text`` holds something shaped like a phone number, an ID card, an IP or an e-mail address."""
    return _PERSONAL.search(text) is not None


__all__ = ["CHECK_CHARACTERS", "CHECK_WEIGHTS", "id_card_check_character", "looks_personal"]
