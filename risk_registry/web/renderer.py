"""The form renderer (``FORM_RENDERER``): Django's own, with its commonest widget templates drawn in
Python.

Django draws every widget through templates: a ``<select>`` is ``select.html``, which includes
``attrs.html`` once and ``select_option.html`` (with its own ``attrs.html``) once per option. The
filter bar of a list (five drop-downs, a dozen inputs) cost about 10 ms of a 50 ms page in template
nodes alone (``docs/performance.md``, round 5). The templates below are short and fixed; this
renderer writes what they write, character for character, with the same escaping and the same
localisation of values (``render_value_in_context``), and leaves every other template (the form
layouts, text areas, radio lists, file inputs) to Django. ``risk_registry/tests/test_renderer.py``
compares the two on every kind of value, and checks that the templates it replaces still read as
they did when it was written: a Django upgrade that changes them fails there, not on a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
# The input widgets whose template is only ``{% include "django/forms/widgets/input.html" %}``
# and a line end (checked by the test against Django's files).
INPUT_ONLY = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)

_CONTEXT = Context()  # autoescape on, localisation and time zone as the settings say: a page's own


def _printed(value) -> str:
    """``{{ value }}`` in a template: localised (numbers, dates), then escaped unless safe."""
    return str(render_value_in_context(value, _CONTEXT))


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: ``"%s" % value`` ("" if that fails), kept safe if it was."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        return ""
    return _printed(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308 (it was safe)


def _attrs(widget: Mapping) -> str:
    """``attrs.html``: each attribute but those set to False; True prints the bare name."""
    return "".join(
        f" {_printed(name)}" if value is True else f' {_printed(name)}="{_formatted(value)}"'
        for name, value in widget["attrs"].items()
        if value is not False
    )


def _input(widget: Mapping) -> str:
    """``input.html``."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return f'<input type="{_printed(widget["type"])}" name="{_printed(widget["name"])}"{value}{_attrs(widget)}>\n'


def _option(widget: Mapping) -> str:
    """``select_option.html``."""
    return f'<option value="{_formatted(widget["value"])}"{_attrs(widget)}>{_printed(widget["label"])}</option>\n'


class QuickWidgets(DjangoTemplates):
    """Django's template renderer; the templates in ``DRAWN`` are written by this module."""

    def render(self, template_name, context, request=None):
        draw = DRAWN.get(template_name)
        if draw is None:
            return super().render(template_name, context, request)
        return draw(self, context["widget"], request).strip()  # as Django's renderer strips a widget

    def include(self, template_name: str, widget: Mapping, request) -> str:
        """``{% include template_name with widget=… %}``: not stripped, unlike a widget's own render."""
        draw = DRAWN.get(template_name)
        if draw is None:
            return self.get_template(template_name).render({"widget": widget}, request)
        return draw(self, widget, request)

    def select(self, widget: Mapping, request) -> str:
        """``select.html``: each option by its own template (an option may name another)."""
        parts = [f'<select name="{_printed(widget["name"])}"{_attrs(widget)}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_printed(group_name)}">')
            for option in group_choices:
                parts.append("\n  ")
                parts.append(self.include(option["template_name"], option, request))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>\n")
        return "".join(parts)


DRAWN: dict[str, Callable[[QuickWidgets, Mapping, object], str]] = {
    WIDGETS + "attrs.html": lambda renderer, widget, request: _attrs(widget),
    WIDGETS + "input.html": lambda renderer, widget, request: _input(widget),
    WIDGETS + "select_option.html": lambda renderer, widget, request: _option(widget),
    WIDGETS + "select.html": QuickWidgets.select,
    **{f"{WIDGETS}{name}.html": (lambda renderer, widget, request: _input(widget) + "\n") for name in INPUT_ONLY},
}
