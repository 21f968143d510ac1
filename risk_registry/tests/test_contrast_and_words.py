"""Badge text is readable on every level colour (WCAG 2.1 AA, 4.5:1), and the words the pages take
from the data are Chinese: an export job's title, a membership's audit summary, a control row's
labels (issue 16)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from risk_registry.documents.models import ExportJob
from risk_registry.organisation.colours import BLACK, WHITE, badge_ink, contrast_ratio, readable_ink
from risk_registry.organisation.models import AuditEntry, GradeLevel, GradingScheme, Role
from risk_registry.organisation.presets import GRADING_PRESETS
from risk_registry.organisation.services import grading_scheme_create, membership_grant
from risk_registry.web.forms.points import ControlFormSet

PRESET_LEVELS = [(preset["code"], level) for preset in GRADING_PRESETS for level in preset["levels"]]


def test_the_wcag_figures():
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#f9a825", WHITE) == pytest.approx(1.97, abs=0.01)  # the old 中等 badge


@pytest.mark.parametrize(("preset", "level"), PRESET_LEVELS, ids=[f"{p}-{lv['code']}" for p, lv in PRESET_LEVELS])
def test_every_preset_level_colour_takes_a_readable_ink(preset, level):
    ink = readable_ink(level["colour"])
    assert ink is not None
    assert contrast_ratio(level["colour"], ink) >= 4.5
    assert badge_ink(level["colour"]) == ("ink-dark" if ink == BLACK else "ink-light")


def test_the_medium_badge_is_black_on_amber():
    assert badge_ink("#f9a825") == "ink-dark"
    assert badge_ink("#c62828") == "ink-light"


@pytest.mark.django_db
def test_every_stored_level_badge_renders_with_its_ink():
    levels = list(GradeLevel.objects.filter(scheme__institution__isnull=True))
    assert len(levels) == len(PRESET_LEVELS)
    for level in levels:
        html = render_to_string("risk_registry/_level.html", {"level": level})
        assert f'data-ink="{badge_ink(level.colour)}"' in html
        ink = BLACK if badge_ink(level.colour) == "ink-dark" else WHITE
        assert contrast_ratio(level.colour, ink) >= 4.5


@pytest.mark.django_db
@pytest.mark.parametrize("colour", ["red", "#ffff", "#12345g", ""])
def test_a_level_colour_that_is_no_colour_is_refused(colour):
    definition = {**GRADING_PRESETS[0], "code": "custom"}
    definition["levels"] = [dict(level) for level in definition["levels"]]
    definition["levels"][0]["colour"] = colour
    before = GradingScheme.objects.count()
    with pytest.raises(ValidationError):
        grading_scheme_create(definition=definition, institution=None)
    assert GradingScheme.objects.count() == before


@pytest.mark.django_db
def test_an_export_job_is_titled_in_words(world):
    archive = ExportJob(owner=world.discipline, kind="archive", form="archive", file_format="zip")
    register = ExportJob(owner=world.discipline, kind="register", form="unit-register", file_format="xlsx")
    assert archive.title == "年度归档 · ZIP"
    assert register.title == "单位廉政风险点和防范措施登记表 · Excel"


@pytest.mark.django_db
def test_a_membership_audit_summary_names_the_person_and_the_role(world):
    membership_grant(user=world.holder, institution=world.a, role=Role.LEADERSHIP, by=world.discipline)
    entry = AuditEntry.objects.filter(action="membership.grant").latest("pk")
    assert world.holder.username not in entry.summary
    assert entry.summary.endswith(str(Role.LEADERSHIP.label))


@pytest.mark.django_db
def test_every_control_row_input_has_an_accessible_name(world):
    formset = ControlFormSet(prefix="controls", form_kwargs={"institution": world.a})
    for form in [*formset.forms, formset.empty_form]:
        for field in form:
            if not field.is_hidden:
                assert field.field.widget.attrs.get("aria-label"), field.name
                assert f'aria-label="{field.field.widget.attrs["aria-label"]}"' in str(field)
