"""Bad input answers a clear 4xx or a form error, never a 500, and writes nothing; GETs write nothing.

Each case of the security issue's list, as found: the count of rows is taken before and after.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from controls.models import ControlRun
from risk_registry.documents.models import ExportJob
from risk_registry.models import NoticeComment, Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow.snapshots import content_hash, register_snapshot

pytestmark = pytest.mark.django_db


def rows() -> dict[str, int]:
    """Row counts of what a request could write."""
    return {
        "registers": Register.objects.count(),
        "jobs": ExportJob.objects.count(),
        "audit": AuditEntry.objects.count(),
        "runs": ControlRun.objects.count(),
        "comments": NoticeComment.objects.count(),
    }


def _version(world, number: int, register: Register, points) -> RegisterVersion:
    snapshot = register_snapshot(institution=world.a, year=2026, points=points)
    return RegisterVersion.objects.create(
        register=register,
        number=number,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=timezone.now(),
        filed_with=world.county,
    )


def test_comparing_filed_versions_whose_controls_differ_shows_the_difference(world, login):
    points = RiskPoint.objects.filter(pk=world.submitted.pk)
    register = Register.objects.create(institution=world.a, year=2026)
    older = _version(world, 1, register, points)
    world.submitted.controls.create(line="monitoring", measure="季度抽查")
    newer = _version(world, 2, register, points)

    response = login(world.superior).get(reverse("version_detail", args=[newer.pk]), {"against": older.pk})

    assert response.status_code == 200  # was AttributeError: 'ManyToOneRel' object has no attribute 'verbose_name'
    assert 'data-testid="diff"' in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "url", "query"),
    [
        ("superior", "version_detail", {"against": "²"}),
        ("head", "register_batch", {"department": "²"}),
        ("discipline", "documents_home", {"year": "²"}),
        ("discipline", "documents_home", {"year": "99999999999999999999"}),
        ("discipline", "cycle_launch", {"year": "²"}),
        ("discipline", "institution_tree", {"q": "\x00"}),
        ("discipline", "risk_point_list", {"institution": "\x00"}),
    ],
)
def test_a_bad_number_or_nul_in_the_query_string_is_a_400(world, login, persona, url, query):
    args = {
        "version_detail": lambda: [
            _version(world, 1, Register.objects.create(institution=world.a, year=2026), RiskPoint.objects.none()).pk
        ],
        "register_batch": lambda: ["bureau-a", 2026, "review"],
    }.get(url, list)()
    before = rows()

    response = login(getattr(world, persona)).get(reverse(url, args=args), query)

    assert response.status_code == 400
    assert "不能" in response.content.decode() or "不是" in response.content.decode()  # said in Chinese
    assert rows() == before


def test_a_bad_point_number_in_a_batch_post_is_a_400(world, login):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.SUBMITTED)
    before = rows()
    response = login(world.head).post(reverse("register_batch", args=["bureau-a", 2026, "review"]), {"point": "²"})
    assert response.status_code == 400
    assert rows() == before
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == RiskPointState.SUBMITTED


def test_an_import_year_that_is_not_a_year_is_a_400(world, login):
    before = rows()
    response = login(world.discipline).post(reverse("documents_import", args=["bureau-a"]), {"year": "²"})
    assert response.status_code == 400
    assert rows() == before


@pytest.mark.parametrize(
    "path", ["/registers/bureau-a/32767/", "/registers/bureau-a/40000/", "/registers/bureau-a/1999/"]
)
def test_a_year_out_of_range_in_an_address_is_404_and_writes_nothing(world, login, path):
    before = rows()
    assert login(world.discipline).get(path).status_code == 404
    assert rows() == before


@pytest.mark.parametrize("path", ["/risks/99999999999999999999/", "/versions/99999999999999999999/"])
def test_a_twenty_digit_id_is_404(world, login, path):
    assert login(world.discipline).get(path).status_code == 404


def test_an_unknown_step_is_404_and_changes_nothing(world, login):
    before = rows()
    response = login(world.holder).post(reverse("risk_point_step", args=[world.draft.pk, "bogus"]))
    assert response.status_code == 404
    assert rows() == before
    assert RiskPoint.objects.get(pk=world.draft.pk).state == RiskPointState.DRAFT


def test_an_export_for_a_year_out_of_range_is_refused_not_widened(world, login):
    before = rows()
    response = login(world.discipline).post(
        reverse("documents_export"),
        {"form": "overview", "format": "xlsx", "filters": urlencode({"institution": "bureau-a", "year": "99999"})},
        follow=True,
    )
    assert response.status_code == 200
    assert "年度" in response.content.decode() or "Year" in response.content.decode()
    assert rows() == before  # no job, no audit entry, no file of every year


def test_an_archive_for_an_impossible_year_is_a_400_and_queues_nothing(world, login):
    before = rows()
    response = login(world.discipline).post(
        reverse("documents_archive"), {"institution": "bureau-a", "year": str(10**25)}
    )
    assert response.status_code == 400
    assert rows() == before


@pytest.mark.parametrize(
    ("ran_on", "description"),
    [("2026-03-01", "x" * 100_000), ("1900-01-01", "按月抽查")],
)
def test_a_control_run_too_long_or_too_old_is_a_form_error(world, login, ran_on, description):
    control = world.submitted.controls.get()
    before = rows()
    response = login(world.holder).post(
        reverse("control_run_create", args=[control.pk]), {"ran_on": ran_on, "description": description}
    )
    assert response.status_code == 200  # the form again, with its error
    assert 'data-testid="error-' in response.content.decode()  # the field's error under it
    assert rows() == before


def _notice(world) -> Register:
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.IN_NOTICE)
    today = timezone.localdate()
    return Register.objects.create(
        institution=world.a,
        year=2026,
        notice_starts_on=today,
        notice_ends_on=today + datetime.timedelta(days=5),
        allow_anonymous_comments=True,
    )


def test_a_comment_over_2000_characters_says_why_and_writes_nothing(world, login):
    _notice(world)
    before = rows()
    response = login(world.holder3).post(
        reverse("register_comment", args=["bureau-a", 2026]), {"text": "意" * 2001}, follow=True
    )
    assert rows() == before
    assert "2000" in response.content.decode()  # the reason, not a silent drop


# --- GETs write nothing ---------------------------------------------------------------------


def test_a_register_page_of_a_year_without_a_register_creates_nothing(world, login):
    before = rows()
    client = login(world.discipline)
    assert client.get(reverse("register_detail", args=["bureau-a", 2031])).status_code == 200
    assert client.get(reverse("register_batch", args=["bureau-a", 2031, "define"])).status_code == 200
    assert rows() == before


@pytest.mark.parametrize("url", ["documents_export", "documents_archive"])
def test_an_export_by_get_is_refused_and_writes_nothing(world, login, url):
    before = rows()
    response = login(world.discipline).get(reverse(url), {"form": "overview", "format": "xlsx"})
    assert response.status_code == 405
    assert rows() == before


def test_an_audit_search_with_a_bad_date_says_why_and_finds_nothing(world, login):
    response = login(world.discipline).get(reverse("audit_log"), {"since": "2026-13-45"})
    assert response.status_code == 200
    assert 'data-testid="search-errors"' in response.content.decode()
    assert response.context["page"].rows == []
