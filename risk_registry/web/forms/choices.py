"""Choice fields of long lists, shared by the pages' forms: a bureau's 1,100 people or posts.

Django draws a model choice field's options from model instances, one per option; these draw them
from the few columns their labels show (``RowChoices``). A posted choice is still checked against
the field's queryset, as Django's own."""

from __future__ import annotations

from typing import Any

from django import forms

from risk_registry.organisation.names import person, person_named


class RowChoices(forms.models.ModelChoiceIterator):
    """A field's options from its rows' ``columns``, labelled by its ``label_of_row``; the value is
    the row's id, as Django's own."""

    def __iter__(self):
        field: Any = self.field  # a field that names its ``columns`` and ``label_of_row``
        if field.empty_label is not None:
            yield ("", field.empty_label)
        for pk, *values in self.queryset.values_list("pk", *field.columns):
            yield (pk, field.label_of_row(*values))


class PersonChoiceField(forms.ModelChoiceField):
    """A user, named as people write names (``names.person``)."""

    iterator = RowChoices
    columns = ("last_name", "first_name", "username")

    def label_of_row(self, last_name: str, first_name: str, username: str) -> str:
        return person_named(last_name, first_name, username)

    def label_from_instance(self, obj) -> str:
        return person(obj)
