"""The audit page of an office whose scope is a part of the tree (a city, a county, a bureau)
starts at the newest entry of its institutions (``access.q_audit_from_newest``, index
``audit_institution``) and checks each entry's target one by one: the same rows as the access
module allows, newest first, page after page, for every persona; a fixed number of queries.

In the shared world the county is the root ("/c/") and the bureaus A and B are parts below it, as
a province's cities are. Bureau A's entries are the oldest here, as the first city's are in the
generated province, where its office's page walked past every other city's entries.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risk_registry import access, selectors
from risk_registry.organisation.models import AuditEntry
from risk_registry.web.forms.workflow import AuditSearchForm

pytestmark = pytest.mark.django_db
OFFICES = ("discipline", "outsider", "superior")  # bureau A's office, bureau B's, the county's


@pytest.fixture
def entries(world):
    """Entries of every kind of visibility: bureau A's first (published and draft points, private
    edits, a power item), then the county's and bureau B's, interleaved, then one more of A's."""
    point, power = "risk_registry.riskpoint", "positions.poweritem"
    targets = {
        world.a: [
            (point, world.submitted.pk, False),
            (point, world.draft.pk, True),  # a private edit of the draft
            (point, world.draft.pk, False),  # not marked private: the draft's own visibility hides it
            (power, world.power.pk, False),
        ],
        world.b: [(point, world.point_b.pk, False), (power, world.power.pk, False)],
        world.county: [(power, world.power.pk, False)],
    }

    def entry(institution, n):
        target_type, target_id, private = targets[institution][n % len(targets[institution])]
        return AuditEntry(
            actor=world.holder,
            action="risk_point.update" if target_type.endswith("riskpoint") else "power_item.update",
            institution=institution,
            target_type=target_type,
            target_id=target_id,
            private=private,
            summary=f"{institution.code} {n}",
        )

    rows = [entry(world.a, n) for n in range(12)]
    rows += [entry((world.b, world.county)[n % 2], n) for n in range(16)]
    rows += [entry(world.a, 12)]
    return AuditEntry.objects.bulk_create(rows)


def _visible_newest(user) -> list[int]:
    return list(access.audit_entries_visible_to(user).order_by("-id").values_list("pk", flat=True))


def test_only_the_office_of_a_part_starts_at_its_newest_entry(world):
    assert access.q_audit_from_newest(world.discipline) is not None
    assert access.q_audit_from_newest(world.outsider) is not None
    for persona in ("superior", "head", "leader", "holder", "nobody"):
        assert access.q_audit_from_newest(getattr(world, persona)) is None, persona  # the root, or no subtree


@pytest.mark.parametrize("persona", ("discipline", "outsider"))
def test_starting_at_the_newest_entry_adds_no_row_and_leaves_none_out(world, entries, persona):
    user = getattr(world, persona)
    visible = access.audit_entries_visible_to(user)
    assert list(visible.filter(access.q_audit_from_newest(user)).order_by("-id").values_list("pk", flat=True)) == (
        _visible_newest(user)
    )
    assert visible.exists()


def test_a_part_with_no_entry_sees_none(world):
    AuditEntry.objects.filter(institution=world.b).delete()
    assert not selectors.audit_entries(user=world.outsider, form=AuditSearchForm(None)).exists()


@pytest.mark.parametrize("persona", OFFICES)
def test_the_audit_page_pages_through_exactly_what_access_allows_newest_first(
    world, entries, client, settings, persona
):
    settings.RISK_REGISTRY_PAGE_SIZE = 4
    user = getattr(world, persona)
    client.force_login(user)
    expected = _visible_newest(user)
    shown: list[int] = []
    query: dict[str, int] = {}
    while len(shown) <= len(expected):  # a page that repeated rows would stop the walk here
        page = client.get("/audit/", query).context["page"]
        shown += [entry.pk for entry in page.rows]
        if page.next_after is None:
            break
        query = {"after": page.next_after}
    assert shown == expected
    paths = set(AuditEntry.objects.filter(pk__in=shown).values_list("institution__path", flat=True))
    assert all(any(path.startswith(top) for top in access.scope_of(user).subtree_paths) for path in paths)
    if persona == "discipline":  # bureau A's office: its own entries, never a draft's
        assert {e.institution_id for e in AuditEntry.objects.filter(pk__in=shown)} == {world.a.pk}
        assert not AuditEntry.objects.filter(pk__in=shown, private=True).exists()
        draft = AuditEntry.objects.filter(target_type="risk_registry.riskpoint", target_id=world.draft.pk)
        assert not draft.filter(pk__in=shown).exists()
        assert shown[0] == entries[-1].pk  # the newest of the part, after the others' entries


@pytest.mark.parametrize("persona", OFFICES)
def test_the_audit_page_costs_the_same_queries_whatever_the_rows(world, entries, client, persona):
    """A fixed number of queries: the scope, the count, the page, one per kind of object shown."""
    client.force_login(getattr(world, persona))

    def more_entries_then_the_page() -> int:
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=world.holder,
                action="risk_point.update",
                institution=institution,
                target_type="risk_registry.riskpoint",
                target_id=target,
                summary=str(n),
            )
            for n in range(60)
            for institution, target in ((world.a, world.submitted.pk), (world.b, world.point_b.pk))
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/audit/").status_code == 200
        return len(queries)

    assert more_entries_then_the_page() == more_entries_then_the_page() == more_entries_then_the_page()


def test_each_target_is_checked_entry_by_entry(world, entries):
    """No hash of every visible point: PostgreSQL built one before reading the first entry whenever
    it fitted in memory (a city's 204,000 points), for a page that checks about fifty."""
    queryset = selectors.audit_entries(user=world.discipline, form=AuditSearchForm(None)).order_by("-id")[:51]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # as with a city's thousand institutions
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hashed SubPlan" not in plan
    assert "audit_institution" in plan  # the part's newest entry, from the index


def test_a_search_by_days_finds_what_the_days_of_the_entries_say_and_reads_the_time_index(world, client):
    """``since`` and ``until`` are days in the user's time zone; the entries are found by a range of
    their time (no function of it), the same entries as their local day says, the day's edges too."""
    local = timezone.get_current_timezone()
    moments = [
        datetime.datetime(2026, 3, 1, 0, 0, 0, tzinfo=local),
        datetime.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=local),
        datetime.datetime(2026, 2, 28, 23, 59, 59, tzinfo=local),
        datetime.datetime(2026, 3, 2, 0, 0, 0, tzinfo=local),
        datetime.datetime(2026, 3, 31, 16, 30, tzinfo=local),
    ]
    made = AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=world.discipline,
            action="test.day",
            institution=world.a,
            target_type="organisation.institution",
            target_id=world.a.pk,
            summary=str(at),
            at=at,
        )
        for at in moments
    )
    for since, until in (
        ("2026-03-01", "2026-03-01"),
        ("2026-03-02", ""),
        ("", "2026-02-28"),
        ("2026-03-01", "2026-03-31"),
    ):
        form = AuditSearchForm({"since": since, "until": until, "action": "test.day"})
        found = selectors.audit_entries(user=world.superior, form=form)
        assert "AT TIME ZONE" not in str(found.query)
        low = datetime.date.fromisoformat(since) if since else datetime.date.min
        high = datetime.date.fromisoformat(until) if until else datetime.date.max
        expected = {e.pk for e in made if low <= timezone.localtime(e.at, local).date() <= high}
        assert set(found.values_list("pk", flat=True)) == expected, (since, until)
    # The calendar's ends are days like any other: no error, nothing left out.
    client.force_login(world.superior)
    response = client.get("/audit/", {"since": "0001-01-01", "until": "9999-12-31", "action": "test.day"})
    assert response.status_code == 200
    assert {entry.pk for entry, _ in response.context["rows"]} == {e.pk for e in made}
