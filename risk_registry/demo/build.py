"""Build the demo county (``python manage.py seed_demo``) through the product's own services.

Everything is written by the same services the product uses (institution_create, position_create,
holding_start, power_item_create, risk_point_create …), so every row has its audit entry and every
holder gets the django-guardian object permission on the position. The organisation is set up
with no actor (``by=None``, shown as the system in the audit trail); each risk point is drafted by a
holder of its position, or by the department head for department-level points, because
risk_point_create checks that right.

Idempotence: the whole build runs in one transaction. When the root institution (data.ROOT_CODE)
already exists nothing is written at all, not even an audit entry, and only the account list is
returned again; a failure half-way rolls everything back.

Passwords: all demo accounts share one password. It is hashed once (PBKDF2 takes a noticeable
fraction of a second per call, 60 calls would take most of a minute) and the same hash is stored
on each account created; accounts that already exist keep theirs.

Workflow states: every point is drafted (state DRAFT, as risk_point_create makes it) and then
taken to the state the data gives it by the workflow services, each step by an account allowed to
take it (``risk_registry.demo.path``): submit, review, define, the leadership's approval meeting
with its vote (a passed Decision covering exactly its points), notice, issue and filing. So every
state has its audit entries, and no approved, issued or filed point lacks its decision. The data
leaves most positions with at least one DRAFT point so that each holder has something to edit,
and spreads the others over submitted, reviewed, defined, approved and issued, roughly as a county
mid-way through its annual cycle would look.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from controls.models import Rule
from controls.services import rule_create
from positions.models import Position, PowerCategory, PowerItem, ProcessStep
from positions.services import holding_start, position_create, power_item_create
from risk_registry.demo import data, path
from risk_registry.demo.cycle import demo_cycle_seed
from risk_registry.demo.data.specs import InstitutionSpec, PointSpec
from risk_registry.demo.ledger import demo_ledger_seed
from risk_registry.demo.measures import demo_measures_seed
from risk_registry.demo.method import demo_method_seed, demo_rollover_seed
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Department, Institution, RiskType, Role
from risk_registry.organisation.services import (
    department_create,
    grading_scheme_adopt_preset,
    institution_create,
    membership_grant,
    vocabulary_term_create,
)
from risk_registry.organisation.users import User
from risk_registry.services import holding_rotate, risk_point_create, risk_points_copy
from risk_registry.workflow import registers

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


class DemoDataError(ValueError):
    """The demo data refers to something it does not define (a bug in risk_registry/demo/data/)."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    institution: str
    roles: tuple[str, ...] = ()  # Chinese labels, e.g. "主要领导", "部门负责人(登记注册股)"
    positions: tuple[str, ...] = ()  # titles of the positions the account holds


@dataclass
class DemoSeedResult:
    created: bool  # False when the demo already existed and nothing was written
    accounts: list[DemoAccount]
    password_matches: bool  # whether the accounts' password is the one passed in
    counts: dict[str, int] = field(default_factory=dict)


def default_year() -> int:
    """The current year on the calendar of the product's users (Asia/Shanghai)."""
    return timezone.localdate(timezone=SHANGHAI).year


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts, in the order of the data (institution by institution)."""
    accounts = []
    for spec in data.INSTITUTIONS:
        roles: dict[str, list[str]] = defaultdict(list)
        positions: dict[str, list[str]] = defaultdict(list)
        for role, usernames in spec["roles"].items():
            for username in usernames:
                roles[username].append(data.ROLE_LABELS[role])
        for department in spec["departments"]:
            if department.get("head"):
                roles[department["head"]].append(f"{data.ROLE_LABELS['dept_head']}({department['name']})")
            for position in department["positions"]:
                positions[position["holder"]].append(position["title"])
        for username, last_name, first_name in spec["people"]:
            accounts.append(
                DemoAccount(
                    username=username,
                    full_name=f"{last_name}{first_name}",
                    institution=spec["name"],
                    roles=tuple(roles[username]),
                    positions=tuple(positions[username]),
                )
            )
    return accounts


def demo_seed(*, year: int, password: str) -> DemoSeedResult:
    """Build the demo county for ``year`` unless it exists; return the accounts either way."""
    accounts = demo_accounts()
    with transaction.atomic():
        created = not Institution.objects.filter(code=data.ROOT_CODE).exists()
        if created:
            builder = _Builder(year=year, password=password)
            builder.build()
            people = path.People(builder.users.values())
            institutions = list(builder.institutions.values())
            # last year's cycle of one village, closed: before the running cycle's scan
            demo_rollover_seed(people=people, institutions=institutions, year=year)

            demo_ledger_seed()  # before the cycle, whose deadline scan also reminds the notices' recipients
            cycle = demo_cycle_seed(root_code=data.ROOT_CODE, year=year)
            demo_measures_seed(cycle=cycle, year=year)
            demo_method_seed(people=people, institutions=institutions, year=year, cycle=cycle)
    if created and not builder.preexisting_users:
        password_matches = True  # every account was just given this password (and checking costs a hash)
    else:
        users = User.objects.filter(username__in=[account.username for account in accounts])
        stored = set(users.values_list("password", flat=True))  # one hash, shared, unless accounts pre-existed
        password_matches = bool(stored) and all(check_password(password, hashed) for hashed in stored)
    return DemoSeedResult(created=created, accounts=accounts, password_matches=password_matches, counts=demo_counts())


def demo_counts() -> dict[str, int]:
    """Sizes of the demo county (the root's subtree), for the command's summary line."""
    root = Institution.objects.filter(code=data.ROOT_CODE).first()
    if root is None:
        return {}
    institutions = Institution.objects.filter(path__startswith=root.path)
    return {
        "institutions": institutions.count(),
        "departments": Department.objects.filter(institution__in=institutions).count(),
        "positions": Position.objects.filter(institution__in=institutions).count(),
        "power_items": PowerItem.objects.filter(institution__in=institutions).count(),
        "risk_points": RiskPoint.objects.filter(institution__in=institutions).count(),
    }


def _get(mapping: Mapping[str, T], key: str, what: str) -> T:
    try:
        return mapping[key]
    except KeyError:
        raise DemoDataError(f"unknown {what}: {key!r}") from None


class _Builder:
    def __init__(self, *, year: int, password: str) -> None:
        self.year = year
        self.password_hash = make_password(password)
        self.users: dict[str, User] = {}
        self.preexisting_users: list[str] = []  # accounts that existed before the build keep their password
        self.institutions: dict[str, Institution] = {}
        self.risk_types = {t.code: t for t in RiskType.objects.filter(institution=None)}
        self.points_by_state: dict[str, list[int]] = defaultdict(list)

    def date(self, spec: tuple[int, int, int]) -> datetime.date:
        years_before, month, day = spec
        return datetime.date(self.year - years_before, month, day)

    def build(self) -> None:
        for spec in data.INSTITUTIONS:
            _InstitutionBuilder(self, spec).build()
        self.apply_states()
        self.build_registers()

    def user(self, username: str, last_name: str, first_name: str) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"last_name": last_name, "first_name": first_name, "password": self.password_hash},
        )
        if not created:
            self.preexisting_users.append(username)
        self.users[username] = user
        return user

    def apply_states(self) -> None:
        """Move the points out of DRAFT through the workflow services (see ``demo.path``): the
        per-point steps first, then per institution the issued ones through an approval meeting,
        a past notice and the issue, then the approved ones through a recent approval meeting."""
        valid = set(RiskPointState.values)
        unknown = set(self.points_by_state) - valid
        if unknown:
            raise DemoDataError(f"unknown risk point state: {sorted(unknown)!r}")
        people = path.People(self.users.values())
        S = RiskPointState
        by_register: dict[str, list[int]] = {S.APPROVED: [], S.ISSUED: []}
        for state in (S.SUBMITTED, S.REVIEWED, S.DEFINED, S.APPROVED, S.ISSUED):
            ids = self.points_by_state.get(state, [])
            if not ids:
                continue
            if state in (S.SUBMITTED, S.REVIEWED, S.DEFINED):
                points = list(RiskPoint.objects.filter(pk__in=ids).select_related("institution").order_by("id"))
                path.walk_points(people, points, state)
            else:
                by_register[state] = ids
        waiting = [pk for ids in by_register.values() for pk in ids]
        if waiting:
            points = list(RiskPoint.objects.filter(pk__in=waiting).select_related("institution").order_by("id"))
            path.walk_points(people, points, S.DEFINED)
        today = timezone.localdate()
        for institution in self.institutions.values():
            register = registers.register_for(institution=institution, year=self.year)
            own = set(RiskPoint.objects.filter(institution=institution).values_list("pk", flat=True))
            issued = sorted(own & set(by_register[S.ISSUED]))
            if issued:
                path.approve(people, register, issued, held_on=today - datetime.timedelta(days=30))
                path.notice_and_issue(people, register, starts_on=today - datetime.timedelta(days=25))
            approved = sorted(own & set(by_register[S.APPROVED]))
            if approved:
                path.approve(people, register, approved, held_on=today - datetime.timedelta(days=5))

    def build_registers(self) -> None:
        """Registers in every state, through the workflow services (``demo.path``). Last year's
        register of every institution was carried through to the end and filed: its points (copies
        of this year's) submitted, reviewed, defined, approved by the leadership meeting with its
        vote, in notice 1–7 July, issued and signed by the principal leader (v1). This year's
        points keep the spread above, and the institution with the most approved points has them
        in public notice now, so the notice, comments and issue can be tried at once."""

        last_year = self.year - 1
        people = path.People(self.users.values())
        for institution in self.institutions.values():
            points = path.definable(
                people,
                RiskPoint.objects.filter(institution=institution, year=self.year)
                .select_related("institution")
                .order_by("id"),
            )
            copies = list(
                risk_points_copy(points=points, year=last_year, state=RiskPointState.DRAFT, carried=False).values()
            )
            if not copies:
                continue
            path.walk_points(people, copies, RiskPointState.DEFINED)
            register = registers.register_for(institution=institution, year=last_year)
            path.approve(people, register, [c.pk for c in copies], held_on=datetime.date(last_year, 6, 20))
            path.notice_and_issue(people, register, starts_on=datetime.date(last_year, 7, 1))
            path.file(people, register)
        approved = RiskPoint.objects.filter(
            institution__in=self.institutions.values(), year=self.year, state=RiskPointState.APPROVED
        ).values_list("institution_id", flat=True)
        if approved:
            busiest = max(set(approved), key=list(approved).count)
            institution = next(i for i in self.institutions.values() if i.pk == busiest)
            register = registers.register_for(institution=institution, year=self.year)
            path.notice_and_issue(people, register, issue=False, allow_anonymous=True)


class _InstitutionBuilder:
    """One institution of the data: its scheme, vocabulary, rules, departments, people, powers, points."""

    def __init__(self, builder: _Builder, spec: InstitutionSpec) -> None:
        self.b = builder
        self.spec = spec
        self.departments: dict[str, Department] = {}
        self.department_heads: dict[str, str] = {}
        self.positions: dict[str, Position] = {}
        self.position_holders: dict[str, str] = {}
        self.rules: dict[str, Rule] = {}
        self.power_items: dict[str, PowerItem] = {}
        self.steps: dict[str, dict[str, ProcessStep]] = {}
        self.institution: Institution  # the first thing build() creates
        self.categories: dict[str, PowerCategory] = {}

    def build(self) -> None:
        spec = self.spec
        parent = _get(self.b.institutions, spec["parent"], "parent institution") if spec["parent"] is not None else None
        self.institution = institution_create(code=spec["code"], name=spec["name"], kind=spec["kind"], parent=parent)
        self.b.institutions[spec["code"]] = self.institution
        grading_scheme_adopt_preset(institution=self.institution, preset_code=spec["preset"])
        self.categories = self._power_categories()
        for username, last_name, first_name in spec["people"]:
            self.b.user(username, last_name, first_name)
        self._rules()
        self._organisation()
        self._holdings()
        self._memberships()
        self._power_items()
        for point in spec["risk_points"]:
            self._risk_point(point)

    def _power_categories(self) -> dict[str, PowerCategory]:
        """The institution's own categories when the data defines some, else the global defaults."""
        own = []
        for order, (code, name) in enumerate(self.spec["power_categories"], start=1):
            own.append(
                vocabulary_term_create(
                    model=PowerCategory, institution=self.institution, code=code, name=name, order=order
                )
            )
        categories = own or PowerCategory.objects.filter(institution=None)
        return {category.code: category for category in categories}

    def _rules(self) -> None:
        for rule in self.spec["rules"]:
            years_before = rule["effective"][0]
            self.rules[rule["key"]] = rule_create(
                institution=self.institution,
                title=rule["title"],
                document_number=rule["number"].format(y=self.b.year - years_before),
                effective_on=self.b.date(rule["effective"]),
                summary=rule["summary"],
            )

    def _organisation(self) -> None:
        for order, spec in enumerate(self.spec["departments"], start=1):
            department = department_create(
                institution=self.institution, name=spec["name"], kind=spec["kind"], order=order
            )
            self.departments[spec["key"]] = department
            if spec.get("head"):
                self.department_heads[spec["key"]] = spec["head"]
            for position in spec["positions"]:
                key = f"{spec['key']}.{position['key']}"
                self.positions[key] = position_create(
                    department=department,
                    title=position["title"],
                    kind=position["kind"],
                    is_key_post=position.get("key_post", False),
                    duties=position["duties"],
                )
                self.position_holders[key] = position["holder"]

    def _holdings(self) -> None:
        """Rotations first (a holding that ended, then the current one), then every current holder."""
        for rotation in self.spec["rotations"]:
            user = _get(self.b.users, rotation["user"], "user")
            earlier = holding_start(
                user=user,
                position=_get(self.positions, rotation["from"], "position"),
                started_on=self.b.date(rotation["started"]),
            )
            holding_rotate(
                holding=earlier,
                to_position=_get(self.positions, rotation["to"], "position"),
                on=self.b.date(rotation["on"]),
            )
        for department in self.spec["departments"]:
            for position in department["positions"]:
                holding_start(
                    user=_get(self.b.users, position["holder"], "user"),
                    position=self.positions[f"{department['key']}.{position['key']}"],
                    started_on=self.b.date(position["since"]),
                )

    def _memberships(self) -> None:
        for role, usernames in self.spec["roles"].items():
            for username in usernames:
                membership_grant(user=_get(self.b.users, username, "user"), institution=self.institution, role=role)
        for key, username in self.department_heads.items():
            membership_grant(
                user=_get(self.b.users, username, "user"),
                institution=self.institution,
                role=Role.DEPT_HEAD,
                department=self.departments[key],
            )

    def _power_items(self) -> None:
        for spec in self.spec["power_items"]:
            item = power_item_create(
                institution=self.institution,
                name=spec["name"],
                category=_get(self.categories, spec["category"], "power category"),
                department=_get(self.departments, spec["department"], "department"),
                positions=[_get(self.positions, key, "position") for key in spec["positions"]],
                steps=spec["steps"],
                legal_basis=spec["legal_basis"],
                responsible_subject=spec["responsible_subject"],
                commitment=spec["commitment"],
            )
            self.power_items[spec["key"]] = item
            self.steps[spec["key"]] = {step.name: step for step in item.steps.all()}

    def _risk_point(self, spec: PointSpec) -> None:
        at = spec["at"]
        if "." in at:  # on a position, drafted by its holder
            position = _get(self.positions, at, "position")
            department = position.department
            author = self.position_holders[at]
        else:  # department-level, drafted by the department head
            position = None
            department = _get(self.departments, at, "department")
            author = _get(self.department_heads, at, "department head")
        fields: dict[str, Any] = {
            "risk_type": _get(self.b.risk_types, spec["risk_type"], "risk type"),
            "found_by": spec["found_by"],
            "description": spec["description"],
            "manifestation": spec["manifestation"],
            "likelihood": spec["likelihood"],
            "severity": spec["severity"],
        }
        if spec["power"]:
            fields["power_item"] = _get(self.power_items, spec["power"], "power item")
            if spec["step"]:
                fields["process_step"] = _get(self.steps[spec["power"]], spec["step"], "process step")
        controls = [
            {**control, "rule": _get(self.rules, control["rule"], "rule") if control["rule"] else None}
            for control in spec["controls"]
        ]
        risk_point = risk_point_create(
            by=self.b.users[author],
            department=department,
            position=position,
            year=self.b.year,
            fields=fields,
            controls=controls,
        )
        self.b.points_by_state[spec["state"]].append(risk_point.pk)
