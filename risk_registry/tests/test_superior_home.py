"""The superior office's home lists every institution of its subtree, villages under a township
included ("4 of its 6 institutions" in issue 16: the villages were missing)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from risk_registry.organisation.models import Institution
from risk_registry.organisation.services import institution_create

pytestmark = pytest.mark.django_db


def test_the_superior_home_lists_townships_and_their_villages(world, login):
    town = institution_create(code="town-x", name="某某镇", kind=Institution.Kind.TOWNSHIP, parent=world.county)
    village = institution_create(code="village-y", name="某某村", kind=Institution.Kind.VILLAGE, parent=town)
    page = login(world.superior).get(reverse("home")).content.decode()
    for institution in (world.county, world.a, world.b, town, village):
        assert f">{institution.name}<" in page, institution.name
