"""The rows the register table and the lists draw with template tags instead of includes
(``registry.register_rows``, ``registry.level_badge``; issue 11, the pages at province scale): every
value they print is escaped, and they draw what the templates drew."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from controls.models import Control
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Band, GradeLevel
from risk_registry.templatetags.registry import level_badge

pytestmark = pytest.mark.django_db

REGISTER = "/registers/bureau-a/2026/"


def test_the_register_table_escapes_what_users_wrote(world, client):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(description='<script>alert("d")</script>审批')
    Control.objects.filter(risk_point=world.submitted).update(measure="<b>双人</b>审核", owner='科长"><i>')
    client.force_login(world.discipline)
    body = client.get(REGISTER).content.decode()
    row = body[body.index(f'data-point="{world.submitted.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<script>" not in row and "&lt;script&gt;alert(&quot;d&quot;)&lt;/script&gt;审批" in row
    assert "&lt;b&gt;双人&lt;/b&gt;审核" in row and "（科长&quot;&gt;&lt;i&gt;）" in row
    assert "<b>" not in row and "<i>" not in row
    assert f'href="/risks/{world.submitted.pk}/"' in row and 'data-testid="row-controls"' in row


def test_a_row_without_controls_says_so(world, client):
    Control.objects.filter(risk_point=world.submitted).delete()
    client.force_login(world.discipline)
    body = client.get(REGISTER).content.decode()
    row = body[body.index(f'data-point="{world.submitted.pk}"') :]
    assert '<li class="text-muted">尚无防控措施。</li>' in row[: row.index("</tr>")]


@pytest.mark.parametrize("with_band", [False, True])
def test_the_level_badge_draws_what_the_include_drew(world, with_band):
    level = GradeLevel.objects.filter(scheme=world.a.grading_scheme).order_by("rank").first()
    level.band = Band.values[0]
    level.name = "高<风险>"
    drawn = render_to_string("risk_registry/_level.html", {"level": level, "with_band": with_band})
    assert str(level_badge(level, with_band=with_band)) == drawn.strip()
    assert "&lt;风险&gt;" in drawn and level_badge(None) == ""
