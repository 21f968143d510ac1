"""htmx answers: a partial for a swap, the whole page for Back (history restore), Vary always."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from risk_registry.documents.models import ExportJob

ROOT = Path(__file__).resolve().parent.parent
SWAP = {"HTTP_HX_REQUEST": "true"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
FULL_PAGE = b"<html"


def _vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}


def _pages(world):
    job = ExportJob.objects.create(owner=world.discipline, form="overview", file_format="pdf", params={})
    return [
        (reverse("risk_point_list") + "?institution=bureau-a", b'id="rows"'),
        (reverse("documents_job", args=[job.token]), b'id="job-status"'),
    ]


@pytest.mark.django_db
def test_a_swap_gets_the_partial(world, login):
    client = login(world.discipline)
    for url, _marker in _pages(world):
        response = client.get(url, **SWAP)
        assert response.status_code == 200, url
        assert FULL_PAGE not in response.content, url
        assert {"hx-request", "hx-history-restore-request"} <= _vary(response), url


@pytest.mark.django_db
def test_back_after_the_history_cache_is_gone_gets_the_whole_page(world, login):
    """htmx 2 re-fetches a page missing from its history cache with HX-Request set too, and puts
    the answer in place of the whole body: a row partial there would leave a page of bare rows."""
    client = login(world.discipline)
    for url, marker in _pages(world):
        response = client.get(url, **RESTORE)
        assert response.status_code == 200, url
        assert FULL_PAGE in response.content and marker in response.content, url
        assert "hx-request" in _vary(response), url


@pytest.mark.django_db
def test_a_plain_visit_gets_the_whole_page_and_vary(world, login):
    client = login(world.discipline)
    for url, marker in _pages(world):
        response = client.get(url)
        assert FULL_PAGE in response.content and marker in response.content, url
        assert "hx-request" in _vary(response), url


def test_views_choose_partials_only_through_the_helper():
    """No view reads the HX-* headers itself: risk_registry/web/htmx.py is the one place."""
    helper = ROOT / "risk_registry" / "web" / "htmx.py"
    offenders = []
    for folder in ("risk_registry", "positions", "controls", "assessments", "warnings"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == helper or "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"HX-Request|HTTP_HX_|request\.htmx", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_vendored_htmx_is_version_2():
    versions = (ROOT / "static" / "vendor" / "VERSIONS.md").read_text(encoding="utf-8")
    assert re.search(r"htmx[^\n]*\b2\.\d+\.\d+", versions)
    assert list((ROOT / "static" / "vendor").glob("htmx-2.*"))
