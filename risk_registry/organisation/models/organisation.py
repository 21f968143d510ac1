"""The organisation: institutions (a supervision tree), their departments, and who holds which role."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Institution(models.Model):
    """A unit (单位). ``parent`` is the institution it files its register with.

    ``path`` is a materialised path of ids ("/1/4/9/") so that a subtree is one indexed
    ``path LIKE '/1/4/%'`` query, whatever the depth: a province has ~10,000 institutions and
    scope checks run on every page. Only ``institution_create``/``institution_move`` write it.
    """

    class Kind(models.TextChoices):
        DISCIPLINE_COMMITTEE = "discipline_committee", _("Discipline committee")
        PARTY_GOVERNMENT = "party_government", _("Party or government body")
        BUREAU = "bureau", _("Bureau")
        SUB_BUREAU = "sub_bureau", _("Sub-bureau")
        TOWNSHIP = "township", _("Township")
        VILLAGE = "village", _("Village")
        PUBLIC_INSTITUTION = "public_institution", _("Public institution")
        ENTERPRISE = "enterprise", _("State-owned enterprise")

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    grading_scheme = models.ForeignKey(
        "organisation.GradingScheme",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("grading scheme"),
    )

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="institution_path_like", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    def is_within(self, other: "Institution") -> bool:
        """True when self is ``other`` or below it in the tree."""
        return self.path.startswith(other.path)


class Department(models.Model):
    """A department (科室/股室/站所/分局) of one institution."""

    class Kind(models.TextChoices):
        OFFICE = "office", _("Office")
        SECTION = "section", _("Section")
        STATION = "station", _("Station")
        BRANCH = "branch", _("Branch")
        LEADERSHIP = "leadership", _("Leadership team")

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="departments", verbose_name=_("institution")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OFFICE)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["institution_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Roles held through a membership. Post holders are not a role: they hold positions."""

    DISCIPLINE = "discipline", _("Discipline office")
    LEADERSHIP = "leadership", _("Leadership")
    PRINCIPAL = "principal", _("Principal leader")
    DEPT_HEAD = "dept_head", _("Department head")
    SUPERIOR = "superior", _("Superior discipline office")


class Membership(models.Model):
    """A user's role in an institution. Its scope follows from the role (see risk_registry.access)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("institution")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="heads",
        verbose_name=_("department"),
        help_text=_("Only for department heads: the department they lead."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "institution", "role", "department"],
                condition=Q(department__isnull=False),
                name="membership_unique_head",
            ),
            models.UniqueConstraint(
                fields=["user", "institution", "role"], condition=Q(department__isnull=True), name="membership_unique"
            ),
            models.CheckConstraint(
                condition=Q(role="dept_head", department__isnull=False)
                | (~Q(role="dept_head") & Q(department__isnull=True)),
                name="membership_department_iff_head",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.institution}"
