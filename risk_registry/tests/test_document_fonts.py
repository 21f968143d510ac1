"""The documents' own font (``documents/fonts.py``): a subset of Noto Serif CJK SC built once into
var/fonts/, named first by every PDF; what it lacks still prints with the installed fonts, and a
character no font has is still marked, never a box.

The build takes about a minute of CPU, so the tests read the files ``make test`` built
(``manage.py build_document_fonts``) and are skipped without them; the fallback without the files
is tested by pointing the setting at an empty folder.
"""

from __future__ import annotations

import re

import pytest

from risk_registry.documents import fonts, pdf
from risk_registry.tests.documents_helpers import pdf_fonts, pdf_text

built = pytest.mark.skipif(not fonts.font_face_css(), reason="run manage.py build_document_fonts (make test does)")
NAME_OUTSIDE_SUBSET = "\u5586"  # 喆, common in names, not in GB 2312
EXT_B = "\U00021484"  # 𡒄
NO_FONT = "\U000f0000"  # a private-use character of plane 15: no installed font has it


def document(text: str) -> bytes:
    return pdf.html_to_pdf(
        f'<html lang="zh-Hans"><style>html {{ font-family: {pdf.cjk_font()}; }}</style>'
        f"<body><p>{text}</p><p><b>单位盖章</b></p></body></html>"
    )


def test_the_subset_keeps_gb2312_hanzi_latin_and_punctuation_only():
    kept = fonts.printed_characters()
    hanzi = [code for code in kept if 0x4E00 <= code <= 0x9FFF]
    assert len(hanzi) == 6763  # GB 2312's level 1 and 2 (GB 18030's level 1 and 2)
    for char in "廉政风险防控登记表第页共签字盖章AZaz09，。、：；（）《》“”—·①":
        assert ord(char) in kept, char
    assert ord(NAME_OUTSIDE_SUBSET) not in kept and ord(EXT_B) not in kept


def test_without_the_built_fonts_documents_print_with_the_installed_noto(settings, tmp_path):
    settings.RISK_REGISTRY_FONTS_DIR = tmp_path
    fonts.font_face_css.cache_clear()
    try:
        assert fonts.font_face_css() == ""
        assert fonts.FAMILY not in pdf.cjk_font()
        embedded = pdf_fonts(document("廉政风险防控"))
    finally:
        fonts.font_face_css.cache_clear()
    assert any(re.fullmatch(r"/[A-Z]{6}\+Noto-Serif-CJK-SC(-Bold)?", font) for font in embedded), embedded


@built
def test_documents_name_the_subset_first_and_embed_it_in_both_weights():
    assert pdf.cjk_font().startswith(f'"{fonts.FAMILY}", "Noto Serif CJK SC"')
    embedded = pdf_fonts(document("廉政风险防控登记表"))
    assert {font.split("+", 1)[1] for font in embedded} == {"RR-Noto-Serif-CJK-SC", "RR-Noto-Serif-CJK-SC-Bold"}


@built
def test_characters_outside_the_subset_print_with_the_installed_fonts_and_none_is_lost():
    data = document(f"张{NAME_OUTSIDE_SUBSET} 王{EXT_B}")
    names = {font.split("+", 1)[1] for font in pdf_fonts(data)}
    assert "Noto-Serif-CJK-SC" in names  # 喆 from the installed Noto, as before the subset
    assert any(name.startswith("HanaMin") for name in names)  # 𡒄 from the fallback for Extension B
    text = pdf_text(data)
    assert NAME_OUTSIDE_SUBSET in text and EXT_B in text


@built
def test_a_character_no_font_has_is_still_marked():
    text = pdf_text(document(f"姓名{NO_FONT}"))
    assert "〔缺字U+F0000〕" in text
