"""Free text at the door (issue 15, defect 1): a control character pasted from Word is stripped
by every form (``\\x0b`` becomes a line break), a bidi override is refused with a message and
changes nothing, and documents written from rows stored before the check still open and print
the text in its order."""

from __future__ import annotations

import io

import pytest
from django import forms as django_forms
from django.utils import translation
from openpyxl import load_workbook

import assessments.web.forms
import assessments.web.unit_forms
import controls.web.forms
import integrity_warnings.web.forms
import positions.web.forms
import risk_registry.web.forms.points
import risk_registry.web.forms.workflow
from controls.web.forms import ControlRunForm
from integrity_warnings.ledger_export import COLUMNS, ledger_xlsx
from risk_registry.documents import rendering, selectors
from risk_registry.documents.definitions import FORMS
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Department
from risk_registry.organisation.text import CleanTextMixin, printable, strip_controls
from risk_registry.tests.documents_helpers import enrich_register, pdf_text
from risk_registry.web.forms.workflow import CommentForm, DecisionForm

pytestmark = pytest.mark.django_db

RLO = "\u202e"


def _edit(client, world, description: str):
    client.force_login(world.holder)
    return client.post(
        f"/risks/{world.draft.pk}/edit/",
        {
            "risk_type": world.risk_type.pk,
            "found_by": "self",
            "description": description,
            "likelihood": 2,
            "severity": 2,
            "version": world.draft.version,
            "controls-TOTAL_FORMS": 0,
            "controls-INITIAL_FORMS": 0,
            "controls-MIN_NUM_FORMS": 0,
            "controls-MAX_NUM_FORMS": 30,
        },
    )


def test_vertical_tab_from_word_is_saved_as_a_line_break(world, client):
    response = _edit(client, world, "第一行\x0b第二行\x01\x1f")
    assert response.status_code == 302
    point = RiskPoint.objects.get(pk=world.draft.pk)
    assert (point.description, point.version) == ("第一行\n第二行", world.draft.version + 1)


def test_bidi_override_is_refused_with_a_chinese_message_and_nothing_changes(world, client):
    before = RiskPoint.objects.values().get(pk=world.draft.pk)
    with translation.override("zh-hans"):
        response = _edit(client, world, f"风险{RLO}描述")
    assert response.status_code == 200
    assert "U+202E" in response.content.decode() and "方向控制字符" in response.content.decode()
    assert RiskPoint.objects.values().get(pk=world.draft.pk) == before


@pytest.mark.parametrize(
    ("form_class", "field", "data"),
    [
        (CommentForm, "text", {}),
        (DecisionForm, "decision", {}),
        (ControlRunForm, "description", {}),
    ],
)
def test_every_kind_of_form_strips_controls_and_refuses_bidi(form_class, field, data):
    assert issubclass(form_class, CleanTextMixin)
    form = form_class(data={field: "甲\x0b乙\x00"})
    form.is_valid()
    assert form.data[field] == "甲\n乙" and field not in form.errors
    form = form_class(data={field: f"甲{RLO}乙"})
    assert not form.is_valid() and "U+202E" in str(form.errors[field])


def test_every_form_module_uses_the_mixin():
    """Every form that takes text is a CleanTextMixin (a new form forgetting it fails here)."""
    modules = [
        assessments.web.forms,
        assessments.web.unit_forms,
        controls.web.forms,
        integrity_warnings.web.forms,
        positions.web.forms,
        risk_registry.web.forms.points,
        risk_registry.web.forms.workflow,
    ]
    forms = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, django_forms.BaseForm) and value.__module__ == module.__name__
    ]
    assert forms and [f.__name__ for f in forms if not issubclass(f, CleanTextMixin)] == []


def test_printable_drops_what_xml_and_the_reader_cannot_take():
    assert strip_controls("a\x0bb\x0cc\td\r\ne\x00\x08\x7f\ufffe") == "a\nb\nc\td\r\ne"
    assert printable(f"风险{RLO}描述\u2066x\u2069") == "风险描述x"


def _legacy_point(world) -> None:
    """A point stored before the forms cleaned text: the characters reach the database directly."""
    enrich_register(world)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(
        description=f"遗留\x0b换行\x01风险{RLO}描述", manifestation="\x02表现\x1f"
    )
    Department.objects.filter(pk=world.dept.pk).update(name="审批\x0b科")  # names come from the admin


def _render(world, form: str, fmt: str) -> bytes:
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    document = rendering.document_for_points(
        points=points, form_code=form, institution=world.a, year=2026, working=False
    )
    buffer = io.BytesIO()
    rendering.render(buffer, document=document, fmt=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("form", list(FORMS))
def test_every_xlsx_form_of_the_unit_opens_whatever_the_stored_text(world, form):
    _legacy_point(world)
    workbook = load_workbook(io.BytesIO(_render(world, form, "xlsx")))  # raised "not well-formed" before
    values = [str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert "遗留\n换行风险描述" in values


def test_pdf_prints_the_text_in_its_order(world):
    _legacy_point(world)
    text = "".join(pdf_text(_render(world, "unit-register", "pdf")).split())
    assert "风险描述" in text and "述描" not in text


def test_the_warning_ledger_opens_whatever_the_stored_text():
    data = ledger_xlsx([["来源\x0b说明\x01"] * len(COLUMNS)])
    assert "来源\n说明" in [c.value for c in load_workbook(io.BytesIO(data)).active[4]]
