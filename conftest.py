"""Shared personas for every test: a small county with one user per role and an outsider.

The world (built through the services, as the product builds it):

    county-jw  某县纪委监委 (superior office: ``superior``)
    ├── bureau-a  甲局 (discipline ``discipline``, leadership ``leader``, principal ``principal``)
    │   ├── 审批科  head ``head``; positions 审批岗 (held by ``holder``), 复核岗 (held by ``holder2``)
    │   └── 财务股  position 会计岗 (held by ``holder3``)
    └── bureau-b  乙局 (``outsider``: discipline office of another institution; ``outsider_holder``)

Risk points: in bureau A a draft and a submitted point on 审批岗, a draft on 复核岗, a submitted
point on 会计岗, a draft department-level point of 审批科; in bureau B a submitted point.
"""

from __future__ import annotations

import datetime
import importlib
import sys
from collections import defaultdict
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

PERSONAS = (
    "holder",
    "holder2",
    "holder3",
    "head",
    "discipline",
    "leader",
    "principal",
    "superior",
    "outsider",
    "outsider_holder",
    "nobody",
)
PASSWORD = "persona-password-1"  # noqa: S105 - test personas only


def _user(username: str, full_name: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.last_name, user.first_name = full_name[0], full_name[1:]
    user.save(update_fields=["first_name", "last_name"])
    return user


def build_world():
    from django.apps import apps

    from integrity_warnings.presets import install_default_channels, install_default_grades
    from positions.models import PowerCategory
    from positions.services import holding_start, position_create, power_item_create
    from risk_registry.models import RiskPointState
    from risk_registry.organisation.models import Institution, RiskType, Role
    from risk_registry.organisation.presets import install_defaults
    from risk_registry.organisation.services import (
        department_create,
        grading_scheme_adopt_preset,
        institution_create,
        membership_grant,
    )
    from risk_registry.services import risk_point_create

    install_defaults(apps)  # a transactional test before this one may have flushed the migration's data
    install_default_channels(apps)
    install_default_grades(apps)
    w = SimpleNamespace()
    start = datetime.date(2026, 1, 1)
    w.county = institution_create(code="county-jw", name="某县纪委监委", kind=Institution.Kind.DISCIPLINE_COMMITTEE)
    w.a = institution_create(code="bureau-a", name="甲局", kind=Institution.Kind.BUREAU, parent=w.county)
    w.b = institution_create(code="bureau-b", name="乙局", kind=Institution.Kind.BUREAU, parent=w.county)
    for institution in (w.county, w.a, w.b):
        grading_scheme_adopt_preset(institution=institution, preset_code="level-1-highest")
    w.dept = department_create(institution=w.a, name="审批科")
    w.finance = department_create(institution=w.a, name="财务股")
    w.dept_b = department_create(institution=w.b, name="执法股")
    w.position = position_create(department=w.dept, title="审批岗", is_key_post=True)
    w.position2 = position_create(department=w.dept, title="复核岗")
    w.position3 = position_create(department=w.finance, title="会计岗")
    w.position_b = position_create(department=w.dept_b, title="执法岗")

    w.holder = _user("holder", "张审批")
    w.holder2 = _user("holder2", "李复核")
    w.holder3 = _user("holder3", "王会计")
    w.head = _user("head", "赵科长")
    w.discipline = _user("discipline", "钱纪检")
    w.leader = _user("leader", "孙副局长")
    w.principal = _user("principal", "周局长")
    w.superior = _user("superior", "吴上级")
    w.outsider = _user("outsider", "郑外单位")
    w.outsider_holder = _user("outsider_holder", "冯外岗")
    w.nobody = _user("nobody", "陈无角色")

    holding_start(user=w.holder, position=w.position, started_on=start)
    holding_start(user=w.holder2, position=w.position2, started_on=start)
    holding_start(user=w.holder3, position=w.position3, started_on=start)
    holding_start(user=w.outsider_holder, position=w.position_b, started_on=start)
    membership_grant(user=w.head, institution=w.a, role=Role.DEPT_HEAD, department=w.dept)
    membership_grant(user=w.discipline, institution=w.a, role=Role.DISCIPLINE)
    membership_grant(user=w.leader, institution=w.a, role=Role.LEADERSHIP)
    membership_grant(user=w.principal, institution=w.a, role=Role.PRINCIPAL)
    membership_grant(user=w.superior, institution=w.county, role=Role.SUPERIOR)
    membership_grant(user=w.outsider, institution=w.b, role=Role.DISCIPLINE)

    approval = PowerCategory.objects.get(institution=None, code="approval")
    w.power = power_item_create(
        institution=w.a,
        department=w.dept,
        name="企业登记审批",
        category=approval,
        positions=[w.position, w.position2],
        steps=["受理", "审查", "决定", "送达"],
        legal_basis="《行政许可法》",
    )
    w.step = w.power.steps.get(order=2)
    w.risk_type = RiskType.objects.get(institution=None, code="duty")

    def point(by, department, position, description, likelihood=2, severity=2, state=RiskPointState.DRAFT):
        created = risk_point_create(
            by=by,
            department=department,
            position=position,
            year=2026,
            fields={
                "risk_type": w.risk_type,
                "found_by": "self",
                "description": description,
                "likelihood": likelihood,
                "severity": severity,
            },
            controls=[{"line": "prevention", "measure": "双人审核", "owner": "科长", "frequency": "each_time"}],
        )
        if state != RiskPointState.DRAFT:  # the workflow issue adds transitions; tests need states now
            type(created).objects.filter(pk=created.pk).update(state=state)
            created.refresh_from_db()
        return created

    w.draft = point(w.holder, w.dept, w.position, "审批中吃拿卡要", 3, 3)
    w.submitted = point(w.holder, w.dept, w.position, "违规简化审批程序", 2, 2, RiskPointState.SUBMITTED)
    w.draft2 = point(w.holder2, w.dept, w.position2, "复核走过场", 1, 1)
    w.finance_point = point(w.holder3, w.finance, w.position3, "虚报冒领", 3, 2, RiskPointState.SUBMITTED)
    w.dept_draft = point(w.head, w.dept, None, "科室集体决策流于形式", 2, 3)
    w.point_b = point(w.outsider_holder, w.dept_b, w.position_b, "选择性执法", 3, 3, RiskPointState.SUBMITTED)
    return w


class SessionWorld:
    """The world of ``build_world``, built and committed once per test database (once per xdist worker).

    Building it costs some 300 queries; a test pays 8 instead: ``fresh()`` reads every object of
    the namespace again by primary key, so a test may change and refresh its objects, and nothing
    cached on them (such as the access scope on a user) leaks into the next test. A plain ``db``
    test runs in a transaction that is rolled back, so the committed world comes out unchanged.

    Two kinds of test do not fit that, and are handled here:

    - A transactional test (``transactional_db``, ``live_server``, ``django_db(transaction=True)``)
      sees the world committed (so do the live server's threads and the Celery processes), commits
      itself, and Django flushes every table after it, the world and the migrations' data with it.
      pytest-django runs those tests after the plain ones, but nothing here relies on that: the
      flush is noted in ``pytest_runtest_teardown`` and the world is built again, committed, before
      the next test that uses the database (``pytest_runtest_setup``).
    - A ``db`` test that does not ask for the world sees the database as the migrations left it, as
      it did when every test built its own world: ``hide()`` deletes the world's rows inside the
      test's transaction (PostgreSQL checks Django's foreign keys at commit, so the order of the
      deletes does not matter, and the rollback brings them back).
    """

    def __init__(self) -> None:
        self.objects: dict[str, tuple[type, int]] = {}  # attribute of the namespace -> (model, pk)
        self.rows: dict[str, tuple[int, int]] = {}  # table -> ids of the world's rows, (after, up to]
        self.flushed = False
        self.blocker = None  # pytest-django's django_db_blocker, kept for the hooks below

    def build(self) -> None:
        from django.apps import apps
        from django.db import transaction

        from integrity_warnings.presets import install_default_channels, install_default_grades
        from risk_registry.organisation.presets import install_defaults

        with transaction.atomic():
            install_defaults(apps)  # after a flush: the migration's data is not part of the world
            install_default_channels(apps)
            install_default_grades(apps)
            before = _max_ids()
            world = build_world()
            after = _max_ids()
        self.rows = {table: (before[table], after[table]) for table in after if after[table] != before[table]}
        self.objects = {name: (type(obj), obj.pk) for name, obj in vars(world).items()}
        self.flushed = False

    def fresh(self) -> SimpleNamespace:
        by_model: dict[type, list[int]] = defaultdict(list)
        for model, pk in self.objects.values():
            by_model[model].append(pk)
        loaded = {model: model.objects.in_bulk(pks) for model, pks in by_model.items()}
        return SimpleNamespace(**{name: loaded[model][pk] for name, (model, pk) in self.objects.items()})

    def hide(self) -> None:
        from django.db import connection

        # The tallies kept by triggers last (the points' charts' rows too): the deletes of the rows
        # they count write them down to zero first (deleted before them, they would go below zero).
        rows = sorted(self.rows.items(), key=lambda item: item[0].endswith(("tally", "pointspread")))
        with connection.cursor() as cursor:
            for table, (after, up_to) in rows:
                table_name = connection.ops.quote_name(table)
                cursor.execute(f"DELETE FROM {table_name} WHERE id > %s AND id <= %s", [after, up_to])  # noqa: S608


def _max_ids() -> dict[str, int]:
    """The highest id of every table with an integer id, in one query."""
    from django.apps import apps
    from django.db import connection, models

    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if isinstance(model._meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField)
        }
    )
    selects = [f"SELECT %s, COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}" for table in tables]  # noqa: S608
    query = " UNION ALL ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return dict(cursor.fetchall())


SESSION_WORLD = SessionWorld()
DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _uses_db(item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(DB_FIXTURES & fixtures)


def _is_transactional(item) -> bool:
    """Whether Django flushes the database after ``item`` (pytest-django's own rule, and unittest classes)."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase) and not issubclass(cls, TestCase):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences") or (marker.args and marker.args[0])
    ):
        return True
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the world committed in it."""
    from django.core.management import call_command

    SESSION_WORLD.blocker = django_db_blocker
    with django_db_blocker.unblock():
        if get_user_model().objects.filter(username=PERSONAS[0]).exists():  # --reuse-db: the last session's
            call_command("flush", interactive=False, verbosity=0)
        SESSION_WORLD.build()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if SESSION_WORLD.flushed and _uses_db(item):
        with SESSION_WORLD.blocker.unblock():
            SESSION_WORLD.build()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if _is_transactional(item):
            SESSION_WORLD.flushed = True


@pytest.fixture
def world(db):
    """Fresh instances of the session's world: change them at will, the test's rollback undoes it."""
    return SESSION_WORLD.fresh()


@pytest.fixture(autouse=True)
def _no_world_unless_asked(request):
    """A plain ``db`` test that does not use the world does not see it (see ``SessionWorld``)."""
    if "world" in request.fixturenames or not _uses_db(request.node) or _is_transactional(request.node):
        return
    request.getfixturevalue("db")  # inside the test's transaction, whatever the order of the fixtures
    SESSION_WORLD.hide()


@pytest.fixture
def login(client):
    """Log a persona in on the test client: ``login(world.holder)``."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def _ran_module(terminalreporter, name: str):
    """The test module ``name`` if this session collected it or ran tests of it, else None.

    Under pytest-xdist the controller collects nothing, so the module is imported here (cheap, and
    Django is set up in the controller too) when the workers reported tests of it.
    """
    if name in sys.modules:
        return sys.modules[name]
    path = name.replace(".", "/") + ".py"
    reports = (report for reports in terminalreporter.stats.values() for report in reports)
    if not any(getattr(report, "nodeid", "").startswith(path + "::") for report in reports):
        return None
    return importlib.import_module(name)


def pytest_terminal_summary(terminalreporter):
    """Print the size of the permission harness, as the foundation issue asks."""
    _workflow_summary(terminalreporter)
    module = _ran_module(terminalreporter, "tests.test_harness")
    if module is None:
        return
    cases = module.CASES
    statuses = [(case, persona, case.expected[persona]) for case in cases for persona in module.PERSONAS]
    allowed = sum(1 for case, persona, _status in statuses if persona in case.allowed)
    counts = {code: sum(1 for _c, persona, status in statuses if status == code) for code in (403, 404)}
    refused = len(statuses) - allowed - counts[403] - counts[404]
    xfail = sum(len(case.get_writes) for case in cases)
    terminalreporter.write_line(
        f"permission harness: {len(statuses)} cases over {len({c.route for c in cases})} routes "
        f"({len(cases)} requests) × {len(module.PERSONAS)} personas, and {len(module.ANONYMOUS)} anonymous: "
        f"{allowed} allowed, {counts[403]} forbidden 403, {counts[404]} out of scope 404, "
        f"{refused} refused by the form; {xfail} GETs that write today (xfail)"
    )


def _workflow_summary(terminalreporter):  # called by pytest_terminal_summary
    module = _ran_module(terminalreporter, "risk_registry.tests.test_workflow")
    if module is None:
        return
    allowed = sum(1 for case in module.CASES if case.values[2] in module.ALLOWED[case.values[0]])
    terminalreporter.write_line(
        f"workflow transition table: {len(module.CASES)} (step, source state, persona) cases "
        f"({allowed} allowed, {len(module.CASES) - allowed} refused) and {len(module.WRONG_STATE)} wrong-state cases"
    )
