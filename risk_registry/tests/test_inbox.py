"""Each user's inbox holds what waits for them, and the navigation counts it."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.security import SEEN_RESOLUTION_SECONDS, SESSION_SEEN
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.web import todo
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


def _badge_counted(client, url: str = "/") -> tuple[str, bool]:
    """The badge a page shows, and whether the page counted it (the one count statement ran)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    counted = any("SELECT (SELECT COUNT(*)" in query["sql"] for query in captured.captured_queries)
    return str(response.context["nav_inbox"]), counted


def _age_the_stamp(client) -> None:
    """The last-seen stamp a minute old: the next request saves the session anyway."""
    session = client.session
    session[SESSION_SEEN] -= SEEN_RESOLUTION_SECONDS + 1
    session.save()


def _session_row(client) -> str:
    return Session.objects.get(session_key=client.session.session_key).session_data


def test_a_get_never_writes_the_session_just_to_keep_the_badge(world, client):
    """No GET that writes: with a fresh stamp, pages count the badge and leave the session row as it is."""
    client.force_login(world.head)
    assert _badge_counted(client) == ("2", False)  # counted at login (a write anyway) and kept
    session = client.session
    del session[todo.BADGE_SESSION_KEY]  # a session with no badge kept (one from before that)
    session.save()
    before = _session_row(client)
    assert _badge_counted(client) == ("2", True)
    assert _badge_counted(client) == ("2", True)  # nothing kept: counted again
    assert client.get("/inbox/").status_code == 200
    assert _session_row(client) == before


def test_the_badge_is_kept_in_the_session_and_counted_again_after_the_users_own_write(world, client):
    client.force_login(world.head)
    client.get("/")
    _age_the_stamp(client)
    assert _badge_counted(client) == ("2", True)  # the session is saved anyway: the badge is kept with it
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)  # someone else's change
    assert _badge_counted(client) == ("2", False)  # kept: no count on the next page
    assert client.post("/tasks/read/").status_code == 302  # the user's own write …
    assert _badge_counted(client) == ("1", True)  # … and the next page counts again


def test_the_badge_is_counted_again_when_the_session_is_saved_anyway(world, client):
    """The last-seen stamp moves once a minute (a session write): the badge is counted with it."""
    client.force_login(world.head)
    assert _badge_counted(client) == ("2", False)  # counted at login and kept
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    session = client.session
    session[SESSION_SEEN] -= SEEN_RESOLUTION_SECONDS + 1
    session.save()
    assert _badge_counted(client) == ("1", True)


def test_the_inbox_page_always_counts_and_keeps_what_it_counted(world, client):
    client.force_login(world.head)
    client.get("/")
    _age_the_stamp(client)
    assert _badge_counted(client) == ("2", True)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    _age_the_stamp(client)
    inbox_page = client.get("/inbox/")
    assert 'data-testid="inbox-total">1<' in inbox_page.content.decode()
    assert str(inbox_page.context["nav_inbox"]) == "1"  # its own navigation shows its count
    assert _badge_counted(client) == ("1", False)  # the inbox's own count, kept for the next pages
