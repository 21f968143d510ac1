"""The risk-point list's filters: a form that reads a query string into ``RiskPointFilters``.

Used by the list page and by the exports of a list, which re-read the same query string later
in a worker; that is why it sits beside the selectors rather than with the page forms.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from positions.models import Position
from risk_registry.models import RiskPointState
from risk_registry.organisation.dates import MAX_YEAR, MIN_YEAR
from risk_registry.organisation.models import Band, Department, Institution, RiskType
from risk_registry.organisation.selectors import levels_of, risk_types_for
from risk_registry.selectors import RiskPointFilters, current_year

HIDDEN = forms.HiddenInput
SELECT_LIMIT = 200  # past this many institutions the filter asks for a code instead of a drop-down
SERIOUS_FIRST = "serious"  # ``order=serious``: by band, then rank (never by a level's label)


class RiskPointFilterForm(forms.Form):
    """The list's filters, read from the query string. With an invalid value the list shows the
    default filters and says which value was refused (``_risk_point_rows.html``).

    Without a ``year`` in the query the list shows the current year (``current_year``); an empty
    ``year`` (the field cleared) shows every year. ``band`` (高/中/低) filters across schemes; a
    level of the institution's own scheme (``level``, by rank) is offered only once one institution
    is chosen: across institutions the same rank or label means different things.
    """

    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Institution.objects.none(), required=False, to_field_name="code"
    )
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none(), required=False)
    risk_type = forms.ModelChoiceField(label=_("Risk type"), queryset=RiskType.objects.none(), required=False)
    level = forms.TypedChoiceField(label=_("Level"), coerce=int, required=False, empty_value=None, choices=())
    band = forms.ChoiceField(label=_("Band (county-wide)"), choices=[("", _("All")), *Band.choices], required=False)
    state = forms.ChoiceField(label=_("State"), choices=[("", _("All")), *RiskPointState.choices], required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=MIN_YEAR, max_value=MAX_YEAR)
    q = forms.CharField(label=_("Search text"), required=False, max_length=100)
    # Set by the dashboards' links, hidden on the list and named in its caption (``narrowed_by``).
    likelihood = forms.IntegerField(label=_("Likelihood"), required=False, min_value=1, max_value=9, widget=HIDDEN)
    severity = forms.IntegerField(label=_("Severity"), required=False, min_value=1, max_value=9, widget=HIDDEN)
    power_category = forms.IntegerField(label=_("Power category"), required=False, min_value=1, widget=HIDDEN)
    position_kind = forms.ChoiceField(
        label=_("Position kind"), choices=[("", ""), *Position.Kind.choices], required=False, widget=HIDDEN
    )
    controls = forms.ChoiceField(
        label=_("Controls"),
        choices=[("", ""), ("none", _("without controls")), ("vague", _("with a vague control"))],
        required=False,
        widget=HIDDEN,
    )
    regrade = forms.BooleanField(label=_("Flagged for re-grading"), required=False, widget=HIDDEN)
    mine = forms.BooleanField(label=_("My posts and departments"), required=False, widget=HIDDEN)
    change = forms.ChoiceField(
        label=_("Change since the year before"),
        choices=[
            ("", ""),
            ("new", _("new")),
            ("raised", _("raised")),
            ("lowered", _("lowered")),
            ("dropped", _("not carried into the next year")),
        ],
        required=False,
        widget=HIDDEN,
    )
    order = forms.ChoiceField(
        label=_("Order"),
        choices=[("", _("Newest first")), (SERIOUS_FIRST, _("Most serious first"))],
        required=False,
    )

    def __init__(self, data=None, *args, institutions, **kwargs):
        if data is None or "year" not in data:
            data = data.copy() if data is not None else {}
            data["year"] = str(current_year())
        super().__init__(data, *args, **kwargs)
        # The declared fields with their own types (``self.fields`` only knows them as Field).
        institution_field = cast(forms.ModelChoiceField, self.fields["institution"])
        level_field = cast(forms.TypedChoiceField, self.fields["level"])
        institution_field.queryset = institutions
        visible = institutions.order_by()[: SELECT_LIMIT + 1].count()
        if visible > SELECT_LIMIT:  # a province: type a code instead of scrolling 10,000 options
            self.fields["institution"].widget = forms.TextInput(attrs={"placeholder": _("Institution code")})
        selected = None
        code = self.data.get("institution")
        if code:
            selected = institutions.filter(code=code).select_related("grading_scheme").first()
        elif visible == 1:
            selected = institutions.select_related("grading_scheme").first()
        self.selected_institution = selected
        cast(forms.ModelChoiceField, self.fields["risk_type"]).queryset = risk_types_for(selected)
        if selected is not None:
            cast(forms.ModelChoiceField, self.fields["department"]).queryset = Department.objects.filter(
                institution=selected
            )
            levels = levels_of(selected)
            level_field.choices = [("", _("All")), *((lv.rank, lv.name) for lv in levels)]
        else:
            del self.fields["level"]

    def clean(self) -> dict:
        """Likelihood and severity are steps of one institution's scales (the heat map's cells link
        to them with the institution): across institutions step 3 means different things, and
        without one the filter would read a whole tree's points for a step no scale has."""
        data = super().clean() or {}
        institution = self.selected_institution
        scheme = institution.grading_scheme if institution is not None else None
        for name in ("likelihood", "severity"):
            step = data.get(name)
            if step is None:
                continue
            if scheme is None:
                self.add_error(name, _("Choose one institution first: its scales give the steps."))
                continue
            labels = scheme.likelihood_labels if name == "likelihood" else scheme.severity_labels
            if step > len(labels):
                self.add_error(name, _("This institution's scale has %(n)d steps.") % {"n": len(labels)})
        return data

    def filters(self) -> RiskPointFilters:
        if not self.is_valid():
            return RiskPointFilters(institution=self.selected_institution, year=current_year())
        data = self.cleaned_data
        return RiskPointFilters(
            institution=data.get("institution") or self.selected_institution,
            department_id=data["department"].pk if data.get("department") else None,
            risk_type_id=data["risk_type"].pk if data.get("risk_type") else None,
            level_rank=data.get("level"),
            band=data.get("band") or "",
            state=data.get("state") or "",
            year=data.get("year"),
            text=(data.get("q") or "").strip(),
            likelihood=data.get("likelihood"),
            severity=data.get("severity"),
            power_category_id=data.get("power_category"),
            position_kind=data.get("position_kind") or "",
            controls=data.get("controls") or "",
            regrade=bool(data.get("regrade")),
            mine=bool(data.get("mine")),
            change=data.get("change") or "",
        )

    def narrowed_by(self) -> list[str]:
        """The hidden filters in force, in words, for the list's caption ("likelihood: 2")."""
        if not self.is_valid():
            return []
        words = []
        for name in NARROWING:
            value = self.cleaned_data.get(name)
            if not value:
                continue
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField):
                value = dict(cast(list, field.choices)).get(value, value)
            words.append(f"{field.label}: {value}" if value is not True else str(field.label))
        return words

    def serious_first(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("order") == SERIOUS_FIRST


NARROWING = ("likelihood", "severity", "power_category", "position_kind", "controls", "regrade", "mine", "change")
