"""Issue 15 defect 6: a level's colour is validated and normalised on input, and the writers never
crash on a stored colour ("red" used to crash every xlsx export, "#c00" printed olive)."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation
from openpyxl import load_workbook

from risk_registry.admin import GradeLevelInline
from risk_registry.documents import rendering, selectors
from risk_registry.organisation.colours import argb, normalise_colour, safe_colour
from risk_registry.organisation.models import GradeLevel, GradingScheme
from risk_registry.organisation.presets import GRADING_PRESETS
from risk_registry.organisation.services import grading_scheme_create
from risk_registry.tests.documents_helpers import enrich_register, pdf_text

pytestmark = pytest.mark.django_db

normalising = importlib.import_module("risk_registry.organisation.migrations.0008_grade_level_colour_normalised")


@pytest.mark.parametrize(
    ("value", "stored"),
    [("#c00", "#cc0000"), ("#C00", "#cc0000"), ("#C62828", "#c62828"), (" #2e7d32 ", "#2e7d32"), ("#aBc", "#aabbcc")],
)
def test_short_and_upper_case_colours_are_stored_as_lower_case_rrggbb(value, stored):
    assert normalise_colour(value) == stored


@pytest.mark.parametrize("value", ["red", "", "#12345", "#ggg", "c62828", "#c628281", "rgb(1,2,3)", "#c00;x"])
def test_anything_else_is_refused_with_a_chinese_message(value):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        normalise_colour(value)
    message = caught.value.messages[0]
    assert "颜色" in message and "#rrggbb" in message


def _level(world) -> GradeLevel:
    return GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id).order_by("rank").first()


def test_full_clean_refuses_red_and_leaves_the_row_unchanged(world):
    level = _level(world)
    before = level.colour
    level.colour = "red"
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        level.full_clean()
    assert list(caught.value.message_dict) == ["colour"]
    assert len(caught.value.message_dict["colour"]) == 1  # said once, by the field's validator
    assert GradeLevel.objects.get(pk=level.pk).colour == before


def test_full_clean_normalises_a_short_colour(world):
    level = _level(world)
    level.colour = "#C00"
    level.full_clean()
    level.save()
    assert GradeLevel.objects.get(pk=level.pk).colour == "#cc0000"


def _admin_formset_data(scheme: GradingScheme, colour: str) -> dict:
    levels = list(scheme.levels.order_by("rank"))
    data = {
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": str(len(levels)),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
    }
    for index, level in enumerate(levels):
        for field in ("code", "name", "rank", "supervisor_role", "supervision", "band"):
            data[f"levels-{index}-{field}"] = str(getattr(level, field))
        data[f"levels-{index}-colour"] = colour if index == 0 else level.colour
        data[f"levels-{index}-id"] = str(level.pk)
        data[f"levels-{index}-scheme"] = str(scheme.pk)
    return data


def _admin_formset(world, colour: str):
    request = RequestFactory().post("/")
    request.user = get_user_model()(username="colour-admin", is_superuser=True, is_staff=True, is_active=True)
    inline = GradeLevelInline(GradingScheme, admin.site)
    scheme = GradingScheme.objects.get(pk=world.a.grading_scheme_id)
    FormSet = inline.get_formset(request, scheme)
    return FormSet(_admin_formset_data(scheme, colour), instance=scheme, prefix="levels")


def test_admin_refuses_red_and_stores_a_short_colour_normalised(world):
    level = _level(world)
    before = level.colour
    with translation.override("zh-hans"):
        formset = _admin_formset(world, "red")
        assert not formset.is_valid()
        assert "颜色" in str(formset.errors[0]["colour"])
    assert GradeLevel.objects.get(pk=level.pk).colour == before

    formset = _admin_formset(world, "#C00")
    assert formset.is_valid(), formset.errors
    formset.save()
    assert GradeLevel.objects.get(pk=level.pk).colour == "#cc0000"


def test_a_preset_with_a_short_colour_is_stored_normalised_and_a_bad_one_refused(world):
    preset = {**GRADING_PRESETS[0], "code": "custom-short"}
    preset["levels"] = [{**level, "colour": "#C00"} for level in preset["levels"]]
    scheme = grading_scheme_create(definition=preset, institution=world.a)
    assert set(scheme.levels.values_list("colour", flat=True)) == {"#cc0000"}

    bad = {**preset, "code": "custom-bad", "levels": [{**level, "colour": "red"} for level in preset["levels"]]}
    with pytest.raises(ValidationError):
        grading_scheme_create(definition=bad, institution=world.a)
    assert not GradingScheme.objects.filter(code="custom-bad").exists()


def _render(world, fmt: str) -> bytes:
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    document = rendering.document_for_points(
        points=points, form_code="overview", institution=world.a, year=2026, working=False
    )
    buffer = io.BytesIO()
    rendering.render(buffer, document=document, fmt=fmt)
    return buffer.getvalue()


def _level_fills(data: bytes) -> dict[str, str]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return {
        sheet[f"L{row}"].value: sheet[f"L{row}"].fill.fgColor.rgb
        for row in range(5, sheet.max_row + 1)
        if sheet[f"L{row}"].value
    }


def test_a_short_colour_entered_as_c00_prints_red_in_the_xlsx(world):
    enrich_register(world)
    for level in GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id):
        level.colour = "#c00"
        level.full_clean()
        level.save()
    fills = _level_fills(_render(world, "xlsx"))
    assert fills and set(fills.values()) == {"FFCC0000"}  # red, not olive (C009999)


def test_a_colour_stored_before_the_check_never_crashes_a_writer(world):
    enrich_register(world)
    GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id).update(colour="red")  # bypassing the check
    fills = _level_fills(_render(world, "xlsx"))
    assert fills and set(fills.values()) == {"FF999999"}  # the safe grey
    assert "甲局" in pdf_text(_render(world, "pdf"))


def test_the_dashboard_pdf_colours_through_the_safe_filter(world):
    html = Template("{% load registry %}{{ good|colour }} {{ bad|colour }} {{ none|colour }}").render(
        Context({"good": "#C00", "bad": "red;background:url(x)", "none": None})
    )
    assert html == "#cc0000 #999999 #999999"


def test_the_writers_helpers_never_raise():
    assert argb("#c00") == "FFCC0000"
    assert argb(None) == argb("") == argb("red") == argb("#c00;}") == "FF999999"
    assert safe_colour("x; background: url(evil)") == "#999999"


def test_the_migration_normalises_stored_colours_and_reports_the_invalid_ones(world, capsys):
    levels = list(GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id).order_by("rank"))
    GradeLevel.objects.filter(pk=levels[0].pk).update(colour="#C00")
    GradeLevel.objects.filter(pk=levels[1].pk).update(colour="Red")
    GradeLevel.objects.filter(pk=levels[2].pk).update(colour="bogus")

    normalising.normalise_colours(apps, None)

    stored = dict(GradeLevel.objects.filter(pk__in=[level.pk for level in levels]).values_list("pk", "colour"))
    assert stored == {levels[0].pk: "#cc0000", levels[1].pk: "#ff0000", levels[2].pk: "#999999"}
    out = capsys.readouterr().out
    assert "'Red'" in out and "'bogus'" in out and "#C00" not in out  # only the invalid ones are reported
    assert not GradeLevel.objects.exclude(colour__regex=r"^#[0-9a-f]{6}$").exists()
