"""The form renderer that draws Django's commonest widget templates in Python
(``risk_registry.web.renderer``; issue 11, the pages at province scale) writes what Django's
templates write: character for character, escaping and localisation included, for every kind of
value a widget can carry; and the templates it replaces still read as they did."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import django
import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from risk_registry.web.renderer import DRAWN, INPUT_ONLY, WIDGETS, QuickWidgets

DJANGO_WIDGETS = Path(django.__file__).parent / "forms" / "templates" / "django" / "forms" / "widgets"
TRICKY = "<b>\"审批\"</b> & '收费'"


class Everything(forms.Form):
    text = forms.CharField(max_length=20, required=False, help_text="x")
    number = forms.IntegerField(min_value=1, max_value=10_000, required=False)
    decimal = forms.DecimalField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(required=False)
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    flag = forms.BooleanField(required=False)
    choice = forms.ChoiceField(
        required=False,
        choices=[
            ("", "---------"),
            ("a", TRICKY),
            (1, 2),
            ("上级", gettext_lazy("Year")),
            ("d", datetime.date(2026, 4, 1)),
        ],
    )
    grouped = forms.ChoiceField(
        required=False, choices=[("组一", [("x", "X"), ("y", mark_safe("<i>Y</i>"))]), ("z", "Z"), ("", [("w", "W")])]
    )
    many = forms.MultipleChoiceField(required=False, choices=[(n, f"选项{n}") for n in range(5)])
    number_choice = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, Decimal("1.5") * n) for n in range(3)]
    )
    search = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "search", "data-x": TRICKY}))
    flags = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "disabled": False, "data-n": 3, "data-t": (1, 2)}),
    )


BOUND = [
    {},
    {
        "text": TRICKY,
        "number": "12",
        "decimal": "1.50",
        "day": "2026-04-01",
        "email": "a@b.cn",
        "hidden": TRICKY,
        "secret": TRICKY,
        "flag": "on",
        "choice": "a",
        "grouped": "y",
        "many": ["1", "3"],
        "number_choice": "2",
        "search": "收费",
        "flags": "x",
    },
    {"number": "not a number", "choice": "nope", "day": "2026-13-01", "many": ["9"]},
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("data", BOUND, ids=["unbound", "bound", "invalid"])
def test_every_field_is_drawn_as_django_draws_it(data, language):
    with override(language):
        quick = Everything(data or None, renderer=QuickWidgets())
        django_own = Everything(data or None, renderer=DjangoTemplates())
        for name in Everything.base_fields:
            drawn, expected = str(quick[name]), str(django_own[name])
            assert drawn == expected, name
        assert str(quick) == str(django_own)  # the layout is Django's own template, the fields ours


def test_the_replaced_templates_read_as_they_did_when_the_renderer_was_written():
    include = '{% include "django/forms/widgets/input.html" %}\n'
    for name in INPUT_ONLY:
        assert (DJANGO_WIDGETS / f"{name}.html").read_text() == include, name
    written = {  # what the renderer writes, as Django's templates said it when it was written
        "attrs.html": "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}",
        "input.html": '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} '
        'value="{{ widget.value|stringformat:\'s\' }}"{% endif %}{% include "django/forms/widgets/attrs.html" %}>\n',
        "select_option.html": "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n',
        "select.html": '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n"
        '  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n'
        "  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n"
        "  </optgroup>{% endif %}{% endfor %}\n</select>\n",
    }
    for name, source in written.items():
        assert (DJANGO_WIDGETS / name).read_text() == source, name
    assert set(DRAWN) == {WIDGETS + name for name in written} | {f"{WIDGETS}{name}.html" for name in INPUT_ONLY}


def test_the_product_renders_its_forms_with_it():
    assert settings.FORM_RENDERER == "risk_registry.web.renderer.QuickWidgets"
    assert isinstance(get_default_renderer(), QuickWidgets)
