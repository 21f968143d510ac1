"""The documents of the measures: the QR code on each survey code slip, and the survey and rating
results as Excel and PDF (docs/surveys.md)."""

from __future__ import annotations

import re

import pytest
import segno
from django.core.cache import cache

from assessments import surveys
from assessments.survey_documents import qr_matrix, qr_svg
from assessments.survey_models import PostGroup, Questionnaire, TimeBucket

SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
EXTERNAL = surveys.DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]


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
    assert len(svgs) == len(codes) == sheet.count('data-testid="survey-slip"')
    links = re.findall(r'data-testid="survey-qr" data-link="([^"]+)"', sheet)
    assert sorted(link.rsplit("#", 1)[1] for link in links) == sorted(codes)
    for link, svg in zip(links, svgs, strict=True):
        assert link == f"http://testserver/s/#{link.rsplit('#', 1)[1]}"
        assert svg_matrix(svg) == qr_matrix(link)
