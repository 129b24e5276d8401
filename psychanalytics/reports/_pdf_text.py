"""The PDF's text layer as a reader searches it: ideographs, not the radicals that share their glyphs.

Chromium (Skia) writes each font's ``/ToUnicode`` map from the font's own character map. In the CJK fonts a
glyph such as 心 also serves the Kangxi radical ⼼ (U+2F3C), and Skia records the lower code point: the
printed report shows 心理 but its text layer says ⼼理, so searching the PDF for 心理 finds nothing and
copied text is wrong. Nothing upstream offers a switch for this; :func:`searchable_text` rewrites the maps
(pypdf) so each such glyph reads as the ideograph it is drawn as. Kangxi radicals (U+2F00–U+2FDF) map
through their Unicode compatibility decomposition (NFKC); radicals of the CJK Radicals Supplement
(U+2E80–U+2EFF) have none, so :data:`SUPPLEMENT_IDEOGRAPHS` lists those whose glyph Noto Sans/Serif CJK SC
share with an ideograph, read from the fonts' character maps with fontTools (``getBestCmap``: code points
of U+2E80–U+2EFF and U+3400–U+9FFF mapped to one glyph).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

SUPPLEMENT_IDEOGRAPHS = str.maketrans(
    "⺂⺃⺅⺉⺋⺎⺏⺐⺒⺓⺔⺕⺖⺘⺙⺛⺞⺟⺠⺡⺣⺤⺦⺨⺫⺭⺯⺰⺱⺲⺳⺹⺺⺾⻁⻂⻃⻅⻆⻈⻉⻋⻌⻐⻑⻒⻓⻔⻖⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻮⻯⻰⻱⻲⻳",
    "乛乚亻刂㔾兀尣尢巳幺彑彐忄扌攵旡歺母民氵灬爫丬犭罒礻糹纟罓罒㓁耂肀艹虎衤覀见角讠贝车辶钅長镸长门阝青韦页风飞食飠饣马骨鬼鱼鸟卤麦黄黾斉齐齿竜龙龜亀龟",
)
"""Radicals of the CJK Radicals Supplement drawn with an ideograph's glyph in Noto CJK SC → that ideograph."""

_RANGE = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def ideograph(text: str) -> str:
    """``text`` with every CJK radical replaced by the ideograph drawn with the same glyph.

    >>> ideograph("⼼理健康 ⻘少年")
    '心理健康 青少年'
    """
    out = []
    for char in text:
        if "\u2f00" <= char <= "\u2fdf":
            char = unicodedata.normalize("NFKC", char)
        out.append(char.translate(SUPPLEMENT_IDEOGRAPHS))
    return "".join(out)


def _utf16(hex_text: str) -> str:
    return bytes.fromhex(hex_text).decode("utf-16-be", errors="surrogatepass")


def _hex(text: str) -> str:
    return text.encode("utf-16-be", errors="surrogatepass").hex().upper()


def _fixed_range(match: re.Match) -> str:
    """A ``bfrange`` line; written out as an array of destinations when one of them is a radical."""
    low, high, first = match.groups()
    start, end = int(low, 16), int(high, 16)
    targets = [_utf16(first)[:-1] + chr(ord(_utf16(first)[-1]) + step) for step in range(end - start + 1)]
    fixed = [ideograph(t) for t in targets]
    if fixed == targets:
        return match.group(0)
    return f"<{low}> <{high}> [" + " ".join(f"<{_hex(t)}>" for t in fixed) + "]"


def fixed_cmap(cmap: str) -> str:
    """A ``/ToUnicode`` CMap whose destinations read as ideographs (``bfchar`` and ``bfrange`` entries).

    >>> fixed_cmap("1 beginbfchar\\n<01> <2F3C>\\nendbfchar\\n1 beginbfrange\\n<02> <03> <2ED7>\\nendbfrange")
    '1 beginbfchar\\n<01> <5FC3>\\nendbfchar\\n1 beginbfrange\\n<02> <03> [<2ED7> <9752>]\\nendbfrange'
    """
    parts = re.split(r"(beginbf(?:char|range).*?endbf(?:char|range))", cmap, flags=re.S)
    for i, part in enumerate(parts):
        if part.startswith("beginbfchar"):
            parts[i] = re.sub(
                r"(<[0-9A-Fa-f]+>\s*)<([0-9A-Fa-f]+)>",
                lambda m: m.group(1) + f"<{_hex(ideograph(_utf16(m.group(2))))}>",
                part,
            )
        elif part.startswith("beginbfrange"):
            parts[i] = _RANGE.sub(_fixed_range, part)
    return "".join(parts)


def searchable_text(pdf: str | Path) -> int:
    """Rewrite the ``/ToUnicode`` maps of ``pdf`` in place (:func:`fixed_cmap`); return how many changed."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=str(pdf))
    seen, changed = set(), 0
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for reference in fonts.values():
            font = reference.get_object()
            if "/ToUnicode" not in font:
                continue
            stream = font[NameObject("/ToUnicode")].get_object()
            if id(stream) in seen:
                continue
            seen.add(id(stream))
            before = stream.get_data().decode("latin-1")
            after = fixed_cmap(before)
            if after != before:
                stream.set_data(after.encode("latin-1"))
                changed += 1
    writer.write(str(pdf))
    return changed
