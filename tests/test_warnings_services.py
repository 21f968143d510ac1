"""The warning ledger's services and its ladder: entries, verification, handlers, rungs, reports."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from integrity_warnings import services
from integrity_warnings.ladder import DispositionState, Measure, SubjectKind, next_measures
from integrity_warnings.models import CalendarDay, Disposition, WarningChannel, WarningItem, WarningStatus
from integrity_warnings.services import WarningConflict
from integrity_warnings.workdays import add_working_days
from risk_registry.organisation.models import AuditAction, AuditEntry, Role
from risk_registry.organisation.services import membership_grant
from tests.warnings_helpers import (
    SECRET_FACTS,
    SECRET_SOURCE,
    channel,
    inspection_item,
    issue,
    petition_item,
    step,
)

pytestmark = pytest.mark.django_db


def test_entering_an_item_numbers_it_grants_the_registrar_and_audits_without_the_secret(world):
    item = petition_item(world)
    assert item.number == "2026-001" and item.confidential and item.status == WarningStatus.OPEN
    assert world.discipline.has_perm("integrity_warnings.handle_warningitem", item)
    entry = AuditEntry.objects.get(action=AuditAction.WARNING_CREATE, target_id=item.pk)
    assert SECRET_SOURCE not in str(entry.changes) + entry.summary
    assert SECRET_FACTS not in str(entry.changes) + entry.summary
    assert inspection_item(world).number == "2026-002"


@pytest.mark.parametrize("persona", ["holder", "head", "leader", "principal", "superior", "outsider", "nobody"])
def test_only_the_discipline_office_enters_items(world, persona):
    with pytest.raises(PermissionDenied):
        petition_item(world, by=getattr(world, persona))
    assert not WarningItem.objects.exists()


BAD_ENTRIES = [
    ({"received_on": datetime.date(2026, 3, 9)}, "不能晚于今天"),
    ({"facts": "  "}, "事实"),
    ({"subject_user": None, "subject_name": ""}, "姓名"),
    ({"subject_kind": SubjectKind.POSITION}, "岗位"),
    ({"subject_kind": SubjectKind.DEPARTMENT}, "科室"),
]


@pytest.mark.parametrize(("overrides", "words"), BAD_ENTRIES)
def test_bad_entries_are_refused_in_chinese_and_write_nothing(world, overrides, words):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        petition_item(world, **overrides)
    assert words in " ".join(error.value.messages), error.value.messages
    assert not WarningItem.objects.exists()


def test_a_position_or_risk_point_of_another_institution_is_refused(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        inspection_item(world, subject_kind=SubjectKind.POSITION, subject_user=None, subject_position=world.position_b)
    assert "其他单位" in " ".join(error.value.messages)
    with pytest.raises(ValidationError):
        inspection_item(world, risk_points=[world.point_b])
    assert not WarningItem.objects.exists()


def test_verification_records_who_and_when_and_checks_the_version(world):
    item = inspection_item(world)
    services.warning_item_verify(by=world.discipline, item=item, verification="partly", version=item.version)
    item.refresh_from_db()
    assert (item.verification, item.verified_by) == ("partly", world.discipline) and item.verified_at
    with pytest.raises(WarningConflict):
        services.warning_item_verify(by=world.discipline, item=item, verification="true", version=item.version - 1)
    with pytest.raises(PermissionDenied):
        services.warning_item_verify(by=world.superior, item=item, verification="true", version=item.version)
    assert WarningItem.objects.get(pk=item.pk).verification == "partly"


def test_a_confidential_item_is_acted_on_by_its_handlers_only(world, django_user_model):
    item = petition_item(world)
    colleague = django_user_model.objects.create_user(username="colleague", password="x-1234567")
    membership_grant(user=colleague, institution=world.a, role=Role.DISCIPLINE)
    with pytest.raises(PermissionDenied):
        issue(world, item, by=colleague)
    services.warning_handler_grant(by=world.discipline, item=item, user=colleague)
    assert colleague.has_perm("integrity_warnings.handle_warningitem", item)
    disposition = issue(world, item, by=colleague)
    assert disposition.issued_by == colleague
    with pytest.raises(ValidationError):  # only discipline office members can be handlers
        services.warning_handler_grant(by=world.discipline, item=item, user=world.leader)


def test_the_ladder_offers_the_next_rung_only_after_a_failure():
    assert set(next_measures(subject_kind="person", failed_rung=None)) == {
        Measure.HEART_TO_HEART,
        Measure.CRITICISM,
        Measure.LETTER_INQUIRY,
        Measure.PETITION_INTERVIEW,
        Measure.WARNING_REMINDER,
    }
    assert next_measures(subject_kind="person", failed_rung=0) == [Measure.WARNING_REMINDER]
    assert next_measures(subject_kind="person", failed_rung=1) == [Measure.ADMONITION]
    assert next_measures(subject_kind="person", failed_rung=2) == [Measure.RECTIFICATION_ORDER]
    assert next_measures(subject_kind="person", failed_rung=3) == [Measure.REFERRAL]
    assert set(next_measures(subject_kind="department", failed_rung=None)) == {
        Measure.LEADER_ADMONITION,
        Measure.DISCIPLINE_PROPOSAL,
        Measure.DEMOCRATIC_MEETING,
    }
    assert next_measures(subject_kind="institution", failed_rung=1) == [Measure.ACCOUNTABILITY_LETTER]
    assert next_measures(subject_kind="institution", failed_rung=3) == [Measure.REFERRAL]


def test_reminder_answered_and_accepted_closes_the_item(world):
    item = inspection_item(world)
    notice = issue(world, item)
    assert notice.number == "甲局廉预〔2026〕1号"
    assert notice.state == DispositionState.ISSUED and notice.due_on == datetime.date(2026, 3, 9)
    assert WarningItem.objects.get(pk=item.pk).status == WarningStatus.IN_DISPOSITION
    step(world, notice, "respond")
    step(world, notice, "accept")
    notice.refresh_from_db()
    item.refresh_from_db()
    assert (notice.state, item.status) == (DispositionState.ACCEPTED, WarningStatus.CLOSED)
    assert notice.responded_by == world.holder and notice.cause_analysis
    actions = list(
        AuditEntry.objects.filter(target_type="integrity_warnings.disposition", target_id=notice.pk)
        .values_list("action", flat=True)
        .order_by("id")
    )
    assert actions == [AuditAction.DISPOSITION_ISSUE, AuditAction.DISPOSITION_RESPOND, AuditAction.DISPOSITION_ACCEPT]
    with pytest.raises(ValidationError):  # a closed item takes no further rung
        issue(world, item)


def test_not_accepted_moves_up_to_admonition_then_order_then_referral(world):
    item = inspection_item(world)
    first = issue(world, item)
    with pytest.raises(ValidationError):  # one open notice at a time
        issue(world, item, Measure.CRITICISM)
    step(world, first, "respond")
    step(world, first, "reject", reason="整改措施不具体")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        issue(world, item, Measure.RECTIFICATION_ORDER, reason="跳级")
    assert "下一级" in " ".join(error.value.messages) or "尚未" in " ".join(error.value.messages)
    with pytest.raises(ValidationError):  # moving up needs a reason
        issue(world, item, Measure.ADMONITION)
    second = issue(world, item, Measure.ADMONITION, reason="警示提醒后仍未纠正")
    assert second.number == "甲局廉预〔2026〕2号" and second.rung == 2
    step(world, second, "lapse", reason="逾期未回告", today=second.due_on + datetime.timedelta(days=1))
    third = issue(world, item, Measure.RECTIFICATION_ORDER, reason="诫勉谈话后仍未改正")
    step(world, third, "respond")
    step(world, third, "reject", reason="仍未整改")
    referral = issue(world, item, Measure.REFERRAL, reason="责令整改后仍未改正")
    item.refresh_from_db()
    assert referral.state == DispositionState.DONE and referral.due_on is None
    assert item.status == WarningStatus.REFERRED and item.failed_rung == 3


def test_ask_again_gives_a_new_deadline_and_keeps_the_rung_open(world):
    item = inspection_item(world)
    notice = issue(world, item)
    step(world, notice, "respond")
    step(world, notice, "ask_again", reason="缺少整改时限", response_days=3, today=datetime.date(2026, 3, 6))
    notice.refresh_from_db()
    assert notice.state == DispositionState.ISSUED and notice.decision_note == "缺少整改时限"
    assert notice.due_on == datetime.date(2026, 3, 11)  # Friday + 3 working days


WRONG_STATE = [
    ("accept", DispositionState.ISSUED),
    ("reject", DispositionState.ISSUED),
    ("ask_again", DispositionState.ISSUED),
    ("respond", DispositionState.ANSWERED),
    ("lapse", DispositionState.ANSWERED),
    ("respond", DispositionState.ACCEPTED),
    ("accept", DispositionState.FAILED),
]


@pytest.mark.parametrize(("name", "state"), WRONG_STATE)
def test_a_step_from_the_wrong_state_is_refused_and_changes_nothing(world, name, state):
    notice = issue(world, inspection_item(world))
    Disposition.objects.filter(pk=notice.pk).update(state=state)
    with pytest.raises(WarningConflict):
        step(world, notice, name, reason="理由", today=notice.due_on + datetime.timedelta(days=1))
    assert Disposition.objects.get(pk=notice.pk).state == state


STEP_ACTORS = [
    ("respond", "holder", True),
    ("respond", "discipline", False),
    ("respond", "holder2", False),
    ("accept", "discipline", True),
    ("accept", "holder", False),
    ("accept", "superior", False),
    ("accept", "leader", False),
    ("accept", "outsider", False),
]


@pytest.mark.parametrize(("name", "persona", "allowed"), STEP_ACTORS)
def test_who_may_take_each_step(world, name, persona, allowed):
    notice = issue(world, inspection_item(world))
    if name != "respond":
        step(world, notice, "respond")
    state = Disposition.objects.get(pk=notice.pk).state
    if allowed:
        step(world, notice, name, by=getattr(world, persona))
        assert Disposition.objects.get(pk=notice.pk).state != state
    else:
        with pytest.raises(PermissionDenied):
            step(world, notice, name, by=getattr(world, persona))
        assert Disposition.objects.get(pk=notice.pk).state == state


def test_lapse_needs_the_deadline_to_have_passed(world):
    notice = issue(world, inspection_item(world))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        step(world, notice, "lapse", reason="逾期", today=notice.due_on)
    assert "期限" in " ".join(error.value.messages)
    assert Disposition.objects.get(pk=notice.pk).state == DispositionState.ISSUED


def test_a_report_needs_both_parts(world):
    notice = issue(world, inspection_item(world))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        step(world, notice, "respond", cause_analysis="原因", measures_taken=" ")
    assert "整改措施" in " ".join(error.value.messages)
    assert Disposition.objects.get(pk=notice.pk).state == DispositionState.ISSUED


def test_unit_measures_do_not_apply_to_a_person(world):
    with pytest.raises(ValidationError):
        issue(world, inspection_item(world), Measure.DISCIPLINE_PROPOSAL)
    unit = inspection_item(world, subject_kind=SubjectKind.DEPARTMENT, subject_user=None, subject_department=world.dept)
    notice = issue(world, unit, Measure.DISCIPLINE_PROPOSAL, recipient_user=world.head)
    assert notice.rung == 1


def test_working_days_skip_weekends_and_holidays_and_count_exchanged_days(world):
    friday = datetime.date(2026, 4, 3)
    assert add_working_days(start=friday, days=5) == datetime.date(2026, 4, 10)
    CalendarDay.objects.create(date=datetime.date(2026, 4, 6), name="清明节")
    assert add_working_days(start=friday, days=5) == datetime.date(2026, 4, 13)
    CalendarDay.objects.create(date=datetime.date(2026, 4, 11), working=True, name="调休")
    assert add_working_days(start=friday, days=5) == datetime.date(2026, 4, 11)
    CalendarDay.objects.create(institution=world.a, date=datetime.date(2026, 4, 7), name="本单位休息")
    assert add_working_days(start=friday, days=5, institution=world.a) == datetime.date(2026, 4, 13)
    assert add_working_days(start=friday, days=5, institution=world.b) == datetime.date(2026, 4, 11)


def test_an_institution_with_its_own_channels_uses_only_those(world):
    own = WarningChannel.objects.create(institution=world.a, code="hotline", name="廉政热线", confidential=True)
    with pytest.raises(ValidationError):
        petition_item(world)
    item = petition_item(world, channel=own)
    assert item.confidential
    assert channel("petition").confidential


def test_subject_and_recipient_must_belong_to_the_institution(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        petition_item(world, subject_user=world.outsider_holder)
    assert "本单位" in " ".join(error.value.messages)
    item = inspection_item(world)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        issue(world, item, recipient_user=world.outsider_holder)
    assert "本单位" in " ".join(error.value.messages)
    assert not Disposition.objects.exists()
