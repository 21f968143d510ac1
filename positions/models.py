"""Positions (岗位), who held them when, and the power inventory (职权) with its process steps."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from risk_registry.organisation.models import Vocabulary


class Position(models.Model):
    """A post in a department. Holders get object permissions on it while their holding is open."""

    class Kind(models.TextChoices):
        PRINCIPAL = "principal", _("Leadership, principal")
        DEPUTY = "deputy", _("Leadership, deputy")
        MIDDLE = "middle", _("Middle management")
        GENERAL = "general", _("General post")

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="positions", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        "organisation.Department", on_delete=models.PROTECT, related_name="positions", verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GENERAL)
    is_key_post = models.BooleanField(
        _("key post"), default=False, help_text=_("Posts over people, money, goods, approvals or enforcement.")
    )
    duties = models.TextField(_("duties"), blank=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["department_id", "id"]
        permissions = [("hold_position", _("Act as a holder of the position"))]
        indexes = [models.Index(fields=["institution", "department"], name="position_scope")]

    def __str__(self) -> str:
        return self.title


class PositionUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's direct foreign-key table for positions (no generic-relation scans)."""

    content_object = models.ForeignKey(Position, on_delete=models.CASCADE)


class Holding(models.Model):
    """A user holding a position from a date, until ``ended_on`` (rotation ends one, starts another)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holdings", verbose_name=_("holder")
    )
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, related_name="holdings", verbose_name=_("position")
    )
    started_on = models.DateField(_("held from"))
    ended_on = models.DateField(_("held until"), null=True, blank=True)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        ordering = ["-started_on", "-id"]
        # The open holdings of a set of posts (a bureau's 1,100: the rotation form's current
        # holdings, the people a form may name), read from this index alone. Without it PostgreSQL,
        # pricing 1,100 probes of the posts' index above one pass over the table, read all 527,000
        # holdings of the province (30–45 ms, against 6).
        indexes = [
            models.Index(
                fields=["position"],
                include=["id", "user", "started_on"],
                condition=Q(ended_on__isnull=True),
                name="holding_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "position"], condition=Q(ended_on__isnull=True), name="holding_one_open_per_user"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="holding_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.position}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class PowerCategory(Vocabulary):
    """行政审批, 行政执法, 干部人事管理 … or 外部权力 / 内部权力 / 公共类 (configurable)."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("power category")
        verbose_name_plural = _("power categories")
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="powercategory_unique_code"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(institution__isnull=True), name="powercategory_unique_default_code"
            ),
        ]


class PowerItem(models.Model):
    """A power of the inventory (职权目录) and the positions that exercise it."""

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="power_items", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        "organisation.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="power_items",
        verbose_name=_("department"),
    )
    positions = models.ManyToManyField(Position, blank=True, related_name="power_items", verbose_name=_("positions"))
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(PowerCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    responsible_subject = models.CharField(_("responsible subject"), max_length=200, blank=True)
    commitment = models.TextField(_("service commitment and discipline"), blank=True)
    discretion = models.TextField(
        _("discretion benchmark"),
        blank=True,
        help_text=_("Where the power has discretion: its levels and the rules for applying each (裁量权基准)."),
    )
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    retired_reason = models.CharField(_("reason for retiring"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("power item")
        verbose_name_plural = _("power items")
        ordering = ["institution_id", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None


class ProcessStep(models.Model):
    """One step (环节) of a power's process flow, in order."""

    power_item = models.ForeignKey(
        PowerItem, on_delete=models.CASCADE, related_name="steps", verbose_name=_("power item")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    condition = models.CharField(_("condition"), max_length=200, blank=True)
    handling_position = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handling post"),
    )
    time_limit = models.CharField(_("time limit"), max_length=60, blank=True)
    supervision = models.TextField(_("supervision and restraint"), blank=True)
    counterpart_rights = models.TextField(_("counterpart's rights and complaint channel"), blank=True)

    class Meta:
        verbose_name = _("process step")
        verbose_name_plural = _("process steps")
        ordering = ["power_item_id", "order"]
        constraints = [models.UniqueConstraint(fields=["power_item", "order"], name="step_unique_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class Disclosure(models.Model):
    """Who may read an institution's public disclosure page (职权目录, flows, 裁量权基准).

    No row means staff only: the page is open without login only when the discipline office says so."""

    class Scope(models.TextChoices):
        STAFF = "staff", _("Staff of the institution (login)")
        PUBLIC = "public", _("Everyone, without login")

    institution = models.OneToOneField(
        "organisation.Institution", on_delete=models.CASCADE, related_name="disclosure", verbose_name=_("institution")
    )
    scope = models.CharField(_("who may read it"), max_length=8, choices=Scope.choices, default=Scope.STAFF)

    class Meta:
        verbose_name = _("public disclosure")
        verbose_name_plural = _("public disclosures")

    def __str__(self) -> str:
        return f"{self.institution} · {self.scope}"
