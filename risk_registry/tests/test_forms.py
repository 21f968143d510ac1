"""The risk-point, filter and control forms (web.forms.points, filters): what they offer and refuse."""

from __future__ import annotations

import pytest

from controls.models import Control, Rule
from controls.services import control_apply_changes
from positions.models import PowerCategory
from positions.services import power_item_create
from risk_registry.access import institutions_visible_to
from risk_registry.filters import RiskPointFilterForm
from risk_registry.models import RiskPointState
from risk_registry.organisation.colours import badge_ink
from risk_registry.organisation.models import Institution, RiskType
from risk_registry.organisation.presets import RISK_TYPES
from risk_registry.organisation.services import department_create, grading_scheme_adopt_preset, institution_create
from risk_registry.selectors import RiskPointFilters, current_year
from risk_registry.web.forms.points import ControlFormSet, RiskPointForm, control_changes

# --- RiskPointForm --------------------------------------------------------------------------


@pytest.fixture
def powers(world):
    """Besides 企业登记审批 (审批岗, 复核岗): a power of 会计岗 and one of bureau B."""
    category = PowerCategory.objects.get(institution=None, code="finance")
    accounting = power_item_create(
        institution=world.a,
        department=world.finance,
        name="资金支付",
        category=category,
        positions=[world.position3],
        steps=["申请", "审核", "支付"],
    )
    foreign = power_item_create(
        institution=world.b,
        department=world.dept_b,
        name="罚没款收缴",
        category=category,
        positions=[world.position_b],
        steps=["开票", "收缴"],
    )
    return accounting, foreign


def _form(world, data=None, position="position", department="dept"):
    return RiskPointForm(
        data,
        institution=world.a,
        department=getattr(world, department),
        position=getattr(world, position) if position else None,
    )


def _data(world, **overrides):
    data = {
        "risk_type": world.risk_type.pk,
        "found_by": "self",
        "description": "审批材料把关不严",
        "manifestation": "",
        "likelihood": "2",
        "severity": "3",
        "power_item": "",
        "process_step": "",
    }
    data.update(overrides)
    return data


def test_risk_point_form_offers_the_institutions_likelihood_and_severity_labels(world):
    form = _form(world)

    assert form.fields["likelihood"].choices[1:] == [(1, "可能性较小"), (2, "有一定可能"), (3, "可能性较大")]
    assert form.fields["severity"].choices[1:] == [
        (1, "后果较轻微"),
        (2, "后果较严重(党纪政纪责任)"),
        (3, "后果严重(刑事责任或重大损失)"),
    ]


def test_risk_point_form_follows_a_four_level_scheme(world):
    grading_scheme_adopt_preset(institution=world.a, preset_code="four-levels")

    form = _form(world)

    assert [label for _, label in form.fields["likelihood"].choices[1:]] == [
        "很少发生",
        "偶尔发生",
        "可能发生",
        "经常发生",
    ]
    assert [value for value, _ in form.fields["severity"].choices[1:]] == [1, 2, 3, 4]


def test_risk_point_form_refuses_a_likelihood_outside_the_scale(world):
    form = _form(world, _data(world, likelihood="4"))

    assert not form.is_valid()
    assert "likelihood" in form.errors


def test_risk_point_form_offers_the_institutions_risk_types(world):
    assert [t.code for t in _form(world).fields["risk_type"].queryset] == [c for c, _ in RISK_TYPES]


def test_risk_point_form_refuses_a_risk_type_of_another_institution(world):
    foreign = RiskType.objects.create(institution=world.b, code="b-only", name="乙局风险")

    form = _form(world, _data(world, risk_type=foreign.pk))

    assert not form.is_valid()
    assert "risk_type" in form.errors


def test_risk_point_form_offers_only_the_positions_power_items(world, powers):
    accounting, _ = powers

    assert list(_form(world).fields["power_item"].queryset) == [world.power]
    assert list(_form(world, position="position3", department="finance").fields["power_item"].queryset) == [accounting]


def test_department_level_form_offers_the_departments_power_items(world, powers):
    assert list(_form(world, position=None).fields["power_item"].queryset) == [world.power]


def test_risk_point_form_offers_the_steps_of_those_power_items_only(world, powers):
    steps = _form(world).fields["process_step"].queryset

    assert [s.name for s in steps] == ["受理", "审查", "决定", "送达"]
    assert {s.power_item_id for s in steps} == {world.power.pk}


def test_risk_point_form_refuses_a_power_item_of_another_position(world, powers):
    accounting, _ = powers

    form = _form(world, _data(world, power_item=accounting.pk))

    assert not form.is_valid()
    assert "power_item" in form.errors


def test_risk_point_form_refuses_a_step_of_another_power_item(world):
    category = PowerCategory.objects.get(institution=None, code="approval")
    other = power_item_create(
        institution=world.a, name="年度检验", category=category, positions=[world.position], steps=["受理", "检验"]
    )

    form = _form(world, _data(world, power_item=world.power.pk, process_step=other.steps.get(order=2).pk))

    assert not form.is_valid()
    assert list(form.errors) == ["process_step"]


def test_risk_point_form_refuses_a_step_without_a_power_item(world):
    form = _form(world, _data(world, process_step=world.step.pk))

    assert not form.is_valid()
    assert list(form.errors) == ["process_step"]


def test_risk_point_form_accepts_a_step_of_the_chosen_power_item(world):
    form = _form(world, _data(world, power_item=world.power.pk, process_step=world.step.pk))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["likelihood"] == 2 and form.cleaned_data["severity"] == 3
    assert (form.cleaned_data["power_item"], form.cleaned_data["process_step"]) == (world.power, world.step)


def test_risk_point_form_initial_from_a_point_is_valid_again(world):
    initial = RiskPointForm.initial_from(world.draft)

    form = _form(world, {key: "" if value is None else value for key, value in initial.items()})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["description"] == world.draft.description


# --- RiskPointFilterForm --------------------------------------------------------------------


def _filter_form(world, persona, data):
    return RiskPointFilterForm(data, institutions=institutions_visible_to(getattr(world, persona)))


def test_filter_form_with_an_unknown_institution_code_selects_nothing(world):
    form = _filter_form(world, "superior", {"institution": "no-such-unit"})

    assert form.selected_institution is None
    assert form.filters() == RiskPointFilters(institution=None, year=current_year())
    assert not form.fields["department"].queryset.exists()


def test_filter_form_with_a_code_outside_the_scope_selects_nothing(world):
    form = _filter_form(world, "outsider", {"institution": "bureau-a"})

    assert form.selected_institution is None
    assert form.filters().institution is None
    assert not form.fields["department"].queryset.exists()


def test_filter_form_selects_a_visible_institution_by_code(world):
    form = _filter_form(world, "superior", {"institution": "bureau-a", "state": "submitted", "q": " 审批 "})

    assert form.selected_institution == world.a
    assert set(form.fields["department"].queryset) == {world.dept, world.finance}
    assert [(value, str(label)) for value, label in form.fields["level"].choices[1:]] == [
        (1, "一级"),
        (2, "二级"),
        (3, "三级"),
    ]
    filters = form.filters()
    assert (filters.institution, filters.state, filters.text) == (world.a, RiskPointState.SUBMITTED, "审批")


def test_filter_form_selects_the_only_visible_institution(world):
    form = _filter_form(world, "outsider", {})

    assert form.selected_institution == world.b
    assert form.filters().institution == world.b


def test_filter_form_refuses_a_department_of_another_institution(world):
    form = _filter_form(world, "superior", {"institution": "bureau-a", "department": world.dept_b.pk})

    assert not form.is_valid()
    assert form.filters() == RiskPointFilters(institution=world.a, year=current_year())


def test_filter_form_opens_on_the_current_year_and_an_empty_year_means_every_year(world):
    assert _filter_form(world, "superior", {}).filters().year == current_year()
    assert _filter_form(world, "superior", {"year": "2025"}).filters().year == 2025
    assert _filter_form(world, "superior", {"year": ""}).filters().year is None


def test_filter_form_without_selection_offers_bands_not_ranks(world):
    """Across institutions a rank or label means different things in different schemes (issue 12):
    the filter is the county-wide band, and a scheme's own level only once one institution is chosen."""
    form = _filter_form(world, "superior", {"band": "high"})

    assert form.selected_institution is None
    assert "level" not in form.fields
    assert [value for value, _ in form.fields["band"].choices] == ["", "high", "medium", "low"]
    assert form.filters().band == "high"


def test_filter_form_turns_the_institution_select_into_a_code_box_for_many_institutions(world, monkeypatch):
    monkeypatch.setattr("risk_registry.filters.SELECT_LIMIT", 2)

    form = _filter_form(world, "superior", {})

    assert form.fields["institution"].widget.input_type == "text"


# --- ControlFormSet and control_changes -----------------------------------------------------


def _formset_data(rows, initial=0):
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(initial), "form-MAX_NUM_FORMS": "30"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{index}-{key}"] = value
    return data


def _formset(world, rows, initial=0):
    return ControlFormSet(_formset_data(rows, initial), form_kwargs={"institution": world.a})


def test_blank_extra_rows_are_ignored_by_control_changes(world):
    formset = _formset(
        world, [{"line": "monitoring", "measure": "每季度抽查审批档案", "frequency": "quarterly"}, {}, {}]
    )

    assert formset.is_valid(), formset.errors
    assert control_changes(formset) == [
        {
            "id": None,
            "delete": False,
            "line": "monitoring",
            "measure": "每季度抽查审批档案",
            "owner": "",
            "frequency": "quarterly",
            "evidence": "",
            "rule": None,
        }
    ]


def test_extra_rows_left_blank_in_a_browser_write_no_control(world):
    # A browser posts the select's first option for every row, so the extra rows are not "unchanged".
    existing = world.draft.controls.get()
    formset = _formset(
        world,
        [
            {"id": str(existing.pk), "line": existing.line, "measure": existing.measure, "owner": "副科长"},
            {"line": "prevention", "measure": "", "frequency": ""},
            {"line": "prevention", "measure": "   ", "frequency": ""},
        ],
        initial=1,
    )
    assert formset.is_valid(), formset.errors

    control_apply_changes(risk_point=world.draft, by=world.holder, controls=control_changes(formset))

    assert list(world.draft.controls.values_list("id", "measure", "owner")) == [(existing.pk, "双人审核", "副科长")]


def test_control_changes_carries_deletions(world):
    existing = world.draft.controls.get()
    formset = _formset(
        world, [{"id": str(existing.pk), "line": existing.line, "measure": existing.measure, "DELETE": "on"}], initial=1
    )
    assert formset.is_valid(), formset.errors

    rows = control_changes(formset)

    assert [(row["id"], row["delete"]) for row in rows] == [(existing.pk, True)]
    control_apply_changes(risk_point=world.draft, by=world.holder, controls=rows)
    assert not Control.objects.filter(pk=existing.pk).exists()


def test_an_existing_control_emptied_without_delete_is_refused(world):
    existing = world.draft.controls.get()

    formset = _formset(world, [{"id": str(existing.pk), "line": existing.line, "measure": ""}], initial=1)

    assert not formset.is_valid()
    assert "measure" in formset.errors[0]


def test_control_form_offers_only_the_institutions_rules(world):
    own = Rule.objects.create(institution=world.a, title="行政审批集体会审制度")
    foreign = Rule.objects.create(institution=world.b, title="乙局执法制度")

    formset = _formset(world, [{"line": "prevention", "measure": "集体会审", "rule": str(foreign.pk)}])

    assert list(formset.forms[0].fields["rule"].queryset) == [own]
    assert not formset.is_valid()
    assert "rule" in formset.errors[0]


def test_control_formset_refuses_more_than_thirty_rows(world):
    rows = [{"line": "prevention", "measure": f"措施{n}"} for n in range(31)]

    formset = _formset(world, rows)

    assert not formset.is_valid()


@pytest.mark.django_db
def test_risk_point_form_of_an_institution_without_scheme_offers_no_scale():
    institution = institution_create(code="bare", name="未分级单位", kind=Institution.Kind.BUREAU)
    department = department_create(institution=institution, name="办公室")

    form = RiskPointForm(institution=institution, department=department, position=None)

    assert form.fields["likelihood"].choices[1:] == []
    assert form.fields["severity"].choices[1:] == []


def test_likelihood_and_severity_are_not_chosen_in_advance_and_the_preview_follows_the_matrix(world):
    form = RiskPointForm(institution=world.a, department=world.dept, position=world.position)
    assert form["likelihood"].value() is None and form["severity"].value() is None
    assert form.fields["likelihood"].choices[0][0] == ""
    scheme = world.a.grading_scheme
    preview = form.level_preview()
    assert len(preview) == len(scheme.likelihood_labels) * len(scheme.severity_labels)
    for likelihood in range(1, len(scheme.likelihood_labels) + 1):
        for severity in range(1, len(scheme.severity_labels) + 1):
            level = scheme.levels.get(code=scheme.level_code_for(likelihood, severity))
            assert preview[f"{likelihood}-{severity}"] == {
                "name": level.name,
                "colour": level.colour,
                "ink": badge_ink(level.colour),
            }
    bound = RiskPointForm(
        {"risk_type": world.risk_type.pk, "found_by": "self", "description": "x", "likelihood": "", "severity": ""},
        institution=world.a,
        department=world.dept,
        position=world.position,
    )
    assert not bound.is_valid()
    assert {"likelihood", "severity"} <= bound.errors.keys()
