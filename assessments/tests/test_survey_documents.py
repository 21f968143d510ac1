"""The documents of the measures: the QR code on each survey code slip, and the survey and rating
results as Excel and PDF (docs/surveys.md)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import segno
from django.contrib.auth import get_user_model
from django.core.cache import cache
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import rating, surveys
from assessments.survey_documents import qr_matrix, qr_svg
from assessments.survey_models import PostGroup, Questionnaire, TimeBucket
from risk_registry.organisation.models import AuditEntry

SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
EXTERNAL = surveys.DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]
INTERNAL = surveys.DEFAULT_BEHAVIOURS[Questionnaire.INTERNAL]
ONE_EACH = {"政治素质": ["政治"], "道德素质": ["道德"], "法治素质": ["法治"]}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def svg_matrix(svg: str) -> tuple[tuple[bool, ...], ...]:
    """Read the dark modules back out of segno's path (``M``/``m`` moves, ``h`` runs of modules)
    and drop the quiet zone: an independent decoding of what the page draws."""
    (view_box,) = re.findall(r'viewBox="0 0 (\d+) (\d+)"', svg)
    (scale,) = re.findall(r'transform="scale\((\d+)\)"', svg)
    size = int(view_box[0]) // int(scale)
    (path,) = re.findall(r' d="([^"]+)"', svg)
    dark = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x) + int(a)):
                dark[int(y)][column] = True
            x += int(a)
    border = next(i for i, row in enumerate(dark) if any(row))
    inner = [row[border : size - border] for row in dark[border : size - border]]
    return tuple(tuple(row) for row in inner)


def open_round(world):
    return surveys.survey_round_open(
        by=world.discipline, institution=world.a, year=2026, name="2026年调查", time_bucket=TimeBucket.WEEK
    )


def test_the_qr_svg_draws_exactly_the_links_modules():
    link = "https://lianzheng.example.gov.cn/s/#ABCDE23456"
    svg = str(qr_svg(link))
    assert svg.startswith("<svg") and "style" not in svg and "<script" not in svg
    assert "ABCDE" not in svg  # the picture carries the link, never its text
    expected = tuple(tuple(bool(c) for c in row) for row in segno.make(link, error="m").matrix)
    assert svg_matrix(svg) == expected == qr_matrix(link)
    assert svg_matrix(str(qr_svg(link.replace("ABCDE", "ABCDF")))) != qr_matrix(link)


def test_the_sheet_prints_one_qr_per_code_carrying_its_direct_link(world, client):
    survey_round = open_round(world)
    codes = surveys.survey_codes_issue(
        by=world.discipline, survey_round=survey_round, questionnaire="external", group=PostGroup.BUSINESS, count=3
    )
    client.force_login(world.discipline)
    sheet = client.post(f"/surveys/{survey_round.pk}/print/").content.decode()
    svgs = SVG.findall(sheet)
    assert " style=" not in sheet and "<style" not in sheet  # the CSP refuses inline style
    assert len(svgs) == len(codes) == sheet.count('data-testid="survey-slip"')
    links = re.findall(r'data-testid="survey-qr" data-link="([^"]+)"', sheet)
    assert sorted(link.rsplit("#", 1)[1] for link in links) == sorted(codes)
    for link, svg in zip(links, svgs, strict=True):
        assert link == f"http://testserver/s/#{link.rsplit('#', 1)[1]}"
        assert svg_matrix(svg) == qr_matrix(link)


# --- results as Excel and PDF ---------------------------------------------------------------------


def keep(name: str, response) -> None:
    """Keep the file to look at (rendered with pdftoppm) when SHOTS is set, like the browser walks."""
    if os.environ.get("SHOTS"):
        Path(os.environ["SHOTS"]).mkdir(parents=True, exist_ok=True)
        Path(os.environ["SHOTS"], name).write_bytes(response.content)


def cells(response) -> list[str]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]


def survey_with_a_shown_and_a_hidden_group(world):
    survey_round = open_round(world)
    shown = surveys.survey_codes_issue(
        by=world.discipline, survey_round=survey_round, questionnaire="external", group=PostGroup.BUSINESS, count=5
    )
    for index, code in enumerate(shown):
        exposed = index < 2  # 2 of 5 met 收受红包礼金
        surveys.survey_answer_submit(
            code=code, answers={label: "yes" if exposed and i == 0 else "no" for i, label in enumerate(EXTERNAL)},
            overall=exposed,
        )  # fmt: skip
    hidden = surveys.survey_codes_issue(
        by=world.discipline, survey_round=survey_round, questionnaire="internal", group=PostGroup.NON_BUSINESS, count=2
    )
    for code in hidden:
        surveys.survey_answer_submit(code=code, answers={label: "yes" for label in INTERNAL}, overall=True)
    return survey_round


def test_survey_results_as_excel_and_pdf_keep_small_groups_hidden(world, client):
    survey_round = survey_with_a_shown_and_a_hidden_group(world)
    client.force_login(world.superior)  # the superior office reads (and so exports) the round
    response = client.post(f"/surveys/{survey_round.pk}/export.xlsx")
    assert response.status_code == 200
    assert unquote(response["Content-Disposition"]).endswith("甲局2026年度腐败接触率调查结果.xlsx")
    flat = cells(response)
    assert "甲局2026年度廉政风险外部环境（腐败接触率）问卷调查结果表" in flat
    assert "40.0%（2/5）" in flat and "11.8% – 76.9%" in flat  # wilson(2, 5)
    assert "收受红包礼金：2\n接受宴请：0\n说情打招呼：0\n收受回扣：0\n入“干股”：0\n违规兼职：0" in flat
    [hidden] = [row for row in _rows(response) if "少于 5 份，不显示" in row]
    assert hidden[1:3] == ["内部问卷（本单位人员）", "非业务岗位"], hidden
    assert [cell for cell in hidden[4:] if cell] == []  # no figure of its own: the page's suppression
    assert not any("买官卖官" in cell for cell in flat)  # not even the hidden group's behaviours
    entry = AuditEntry.objects.get(action="survey_round.export", target_id=survey_round.pk)
    assert entry.actor == world.superior and entry.summary == "xlsx 2"

    keep("survey-results.xlsx", response)
    response = client.post(f"/surveys/{survey_round.pk}/export.pdf")
    keep("survey-results.pdf", response)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "40.0%" in text and "少于 5 份" in text and "买官卖官" not in text
    assert unquote(response["Content-Disposition"]).endswith("甲局2026年度腐败接触率调查结果.pdf")


def test_survey_export_is_a_post_by_a_reader_only(world, client):
    survey_round = survey_with_a_shown_and_a_hidden_group(world)
    client.force_login(world.discipline)
    assert client.get(f"/surveys/{survey_round.pk}/export.xlsx").status_code == 405  # no GET writes
    assert client.post(f"/surveys/{survey_round.pk}/export.doc").status_code == 404
    for persona in ("leader", "holder", "outsider"):
        client.force_login(getattr(world, persona))
        assert client.post(f"/surveys/{survey_round.pk}/export.xlsx").status_code == 404
    assert not AuditEntry.objects.filter(action="survey_round.export").exists()


def test_rating_results_as_excel_and_pdf_name_no_rater(world, client):
    rating_round = rating.rating_round_open(
        by=world.discipline, institution=world.a, year=2026, name="2026年班子成员思想道德测评",
        positions=[world.position], indicators=ONE_EACH,
    )  # fmt: skip
    for n, (tier, grade) in enumerate([(1, "excellent"), (1, "good"), (2, "fair"), (3, "poor"), (3, "excellent")]):
        rater = get_user_model().objects.create_user(f"rater{n}", password="x", last_name=f"评价人{n}")
        invitation = rating.rating_invite(
            by=world.discipline, rating_round=rating_round, position=world.position, rater=rater, tier=tier
        )
        rating.rating_submit(
            rater=rater, invitation_id=invitation.pk, grades={f: {s[0]: grade} for f, s in ONE_EACH.items()}
        )
    client.force_login(world.superior)
    response = client.post(f"/ratings/{rating_round.pk}/export.xlsx")
    assert response.status_code == 200
    assert unquote(response["Content-Disposition"]).endswith("甲局2026年度领导岗位道德风险测评结果.xlsx")
    flat = cells(response)
    # tier means 90 (2), 60 (1), 70 (2); score 0.5 × 90 + 0.3 × 60 + 0.2 × 70 = 77
    assert {"甲局2026年度领导岗位道德风险测评结果表", "90.0（2）", "60.0（1）", "70.0（2）", "77.0", "5"} <= set(flat)
    assert {"政治素质", "道德素质", "法治素质", "第一层级（权重 0.5）"} <= set(flat)
    assert not any("rater" in cell or "评价人" in cell for cell in flat)
    entry = AuditEntry.objects.get(action="rating_round.export", target_id=rating_round.pk)
    assert entry.summary == "xlsx 1"
    keep("rating-results.xlsx", response)
    response = client.post(f"/ratings/{rating_round.pk}/export.pdf")
    keep("rating-results.pdf", response)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "77.0" in text and "评价人" not in text
    assert client.get(f"/ratings/{rating_round.pk}/export.pdf").status_code == 405
    client.force_login(world.leader)  # the rated never read their scores
    assert client.post(f"/ratings/{rating_round.pk}/export.xlsx").status_code == 404
    assert AuditEntry.objects.filter(action="rating_round.export").count() == 2


def _rows(response) -> list[list[str]]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [
        [str(cell) if cell is not None else "" for cell in row]
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]
