"""The official forms are laid out with their own user-agent stylesheet (``user_agent.FORMS_CSS``:
the rules of WeasyPrint's HTML5 sheet that apply to their elements, PDF round 5): every form, a
working copy (watermark), a filed version (footer), a flow chart (SVG) and a document in parts
print the same bytes as with WeasyPrint's whole sheet. An element added to the templates without
its rules fails here."""

from __future__ import annotations

import datetime
import io

import pytest
from weasyprint import HTML

from positions.models import PowerItem
from risk_registry.documents import catalogues, pdf, rendering, selectors, user_agent
from risk_registry.documents.definitions import FORMS
from risk_registry.tests.documents_helpers import enrich_register

pytestmark = pytest.mark.django_db


def _render(document: rendering.Document) -> bytes:
    buffer = io.BytesIO()
    rendering.render(buffer, document=document, fmt="pdf")
    return buffer.getvalue()


def _both(monkeypatch, document_of) -> tuple[bytes, bytes]:
    """The PDF laid out with the forms' sheet, then with WeasyPrint's whole sheet."""
    ours = _render(document_of())
    with monkeypatch.context() as patched:
        patched.setattr(user_agent, "document_class", lambda forms: HTML)
        whole = _render(document_of())
    return ours, whole


def _register(world, form: str, *, working: bool = False):
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    return rendering.document_for_points(points=points, form_code=form, institution=world.a, year=2026, working=working)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_prints_the_same_bytes_as_with_weasyprints_whole_stylesheet(world, monkeypatch, form):
    enrich_register(world)
    ours, whole = _both(monkeypatch, lambda: _register(world, form))
    assert ours.startswith(b"%PDF") and ours == whole


def test_a_working_copy_and_a_document_in_parts_print_the_same_bytes(world, monkeypatch):
    enrich_register(world)
    ours, whole = _both(monkeypatch, lambda: _register(world, "unit-register", working=True))
    assert ours == whole
    monkeypatch.setattr(pdf, "PARTS_FROM", 0)
    monkeypatch.setattr(pdf, "PART_POINTS", 1)
    monkeypatch.setattr(pdf, "PDF_WORKERS", 2)
    ours = _render(_register(world, "unit-register"))  # its parts laid out here and by a child process
    monkeypatch.setattr(pdf, "PDF_WORKERS", 1)  # every part laid out here, where WeasyPrint's whole sheet is put
    monkeypatch.setattr(user_agent, "document_class", lambda forms: HTML)
    assert _render(_register(world, "unit-register")) == ours


def test_a_flow_chart_prints_the_same_bytes(world, monkeypatch):
    items = PowerItem.objects.filter(institution=world.a)
    today = datetime.date(2026, 6, 1)
    ours, whole = _both(
        monkeypatch, lambda: catalogues.flow_catalogue(institution=world.a, items=items, today=today, charts=True)
    )
    assert ours == whole
