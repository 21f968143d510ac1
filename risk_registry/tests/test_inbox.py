"""Each user's inbox holds what waits for them, and the navigation counts it."""

from __future__ import annotations

from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.workflow import inbox


def test_each_role_sees_its_own_work(world):
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(state=S.REVIEWED)
    RiskPoint.objects.filter(pk=world.point_b.pk).update(state=S.DEFINED)
    assert set(inbox.to_submit(world.holder).values_list("pk", flat=True)) == {world.draft.pk}
    assert set(inbox.to_submit(world.head).values_list("pk", flat=True)) == {world.dept_draft.pk}
    assert set(inbox.to_review(world.head).values_list("pk", flat=True)) == {world.submitted.pk}
    assert set(inbox.to_define(world.discipline).values_list("pk", flat=True)) == {world.finance_point.pk}
    assert not inbox.to_define(world.outsider).exists()  # B's discipline office: nothing reviewed in B
    assert set(inbox.to_approve(world.leader).values_list("pk", flat=True)) == set()
    assert set(inbox.to_approve(world.principal).values_list("pk", flat=True)) == set()
    counts = inbox.inbox_counts(world.head)
    assert counts["to_submit"] == 1 and counts["to_review"] == 1 and counts["to_define"] == 0


def test_the_navigation_shows_the_count(world, client):
    client.force_login(world.head)
    response = client.get("/")
    assert str(response.context["nav_inbox"]) == "2"
    page = client.get("/inbox/").content.decode()
    assert "违规简化审批程序" in page and "科室集体决策流于形式" in page


def test_the_navigation_badge_stops_counting_at_the_limit(world, client, settings):
    """Past RISK_REGISTRY_COUNT_LIMIT the badge says "N+" and no count reads further."""
    settings.RISK_REGISTRY_COUNT_LIMIT = 1
    client.force_login(world.head)
    response = client.get("/")
    assert str(response.context["nav_inbox"]) == "1+"
    assert inbox.inbox_counts(world.head)["to_review"] <= 2  # counted to the limit + 1, never beyond
    assert "1+" in response.content.decode()


def test_the_navigation_badge_is_empty_when_nothing_waits(world, client):
    client.force_login(world.nobody)
    assert str(client.get("/").context["nav_inbox"]) == ""


def test_the_inbox_links_to_the_batch_page_of_each_register_and_department(world, client):
    client.force_login(world.head)
    html = client.get("/inbox/").content.decode()
    link = f"/registers/{world.a.code}/{world.submitted.year}/batch/review/?department={world.dept.pk}"
    assert 'data-testid="batch-links-review"' in html and link in html
    page = client.get(link)
    assert page.status_code == 200 and world.submitted.description in page.content.decode()
    client.force_login(world.holder)  # nothing to review: no batch links
    assert "batch-links-" not in client.get("/inbox/").content.decode()
