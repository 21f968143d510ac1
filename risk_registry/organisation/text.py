"""Free text at the door: what a form or an imported cell may hold, and what a document may print.

Two kinds of invisible characters break the records. C0 control characters (pasted from Word,
whose line break is ``\\x0b``) are not allowed in XML, so one of them in a stored point made every
Excel export of the unit unreadable. Bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) reorder what is printed: "描述" with U+202E prints as "述描", so the filed page
would not say what the register holds.

The decision: control characters are *stripped* (``\\x0b`` and ``\\x0c`` become a line break,
the rest are dropped; tab, newline and carriage return stay, since browsers send CRLF), since
nobody means them and the visible text is unchanged; bidi controls are *refused* with a message,
since they change what the reader sees and the writer must decide what the text should say.
Documents written from rows stored before this check use ``printable``, which drops both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_BREAKS = re.compile("[\x0b\x0c]")
# C0 controls other than tab, newline and carriage return; DEL; and the two non-characters XML forbids.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# Any character ``printable`` changes: most text has none, and one search is cheaper than three replaces.
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff{BIDI_CONTROLS}]")


def strip_controls(value: str) -> str:
    """``value`` without control characters: vertical tab and form feed become line breaks."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", value))


def bidi_controls_in(value: str) -> list[str]:
    """The bidirectional controls ``value`` holds, as code points (``U+202E``), each once."""
    return sorted({f"U+{ord(char):04X}" for char in _BIDI.findall(value)})


def printable(value: str) -> str:
    """Text safe to write into a document whatever was stored: no control, no bidi control."""
    if _UNPRINTABLE.search(value) is None:
        return value
    return _BIDI.sub("", strip_controls(value))


def refuse_bidi_controls(value) -> None:
    """A validator for text fields: bidirectional controls are refused, naming them."""
    if isinstance(value, str) and (found := bidi_controls_in(value)):
        raise ValidationError(
            _(
                "The text holds invisible direction-control characters (%(chars)s) that change the order "
                "in which it is printed; type or paste it again without them."
            ),
            code="bidi_controls",
            params={"chars": "、".join(found)},
        )


def _cleaned(data):
    if hasattr(data, "lists"):  # a QueryDict: every value of every key
        copy = data.copy()
        for key, values in data.lists():
            copy.setlist(key, [strip_controls(v) if isinstance(v, str) else v for v in values])
        return copy
    return {key: strip_controls(v) if isinstance(v, str) else v for key, v in data.items()}


if TYPE_CHECKING:  # the mixin goes before a Form class; for the type checker it is one
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class CleanTextMixin(_FormBase):
    """For every form that takes free text: control characters are stripped from the submitted
    data before any field sees it, and every text field refuses bidirectional controls.

    Put it first among the bases (``class PointForm(CleanTextMixin, forms.Form)``); it covers
    the fields a ModelForm builds as well as the declared ones.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = _cleaned(self.data)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(refuse_bidi_controls)
