"""A post's grade A/B/C for a year (篇5 of the township's plan): proposed by the product from the
post's verified points and its kind, decided by people (the discipline office), and who supervises it.

篇5 三(二)3: "A级中的班子正职、副职岗位由纪检监察机关直接监管, A级中的其他重点岗位与B级由派驻纪检组
(纪委)协助单位主要负责人监管。C级由办公室分管领导和派驻纪检组(纪委)共同监管。" So the supervision
follows from the grade *and* the post's kind; see ``supervision_for`` and docs/dashboards.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from risk_registry.organisation.models import Band, Role

LEADERSHIP_KINDS = ("principal", "deputy")  # Position.Kind 班子正职, 班子副职


class PostGradeLevel(models.TextChoices):
    A = "A", _("Grade A")
    B = "B", _("Grade B")
    C = "C", _("Grade C")


class Supervision(models.TextChoices):
    """Who supervises a graded post (篇5 三(二)3), and through which roles of the product."""

    DIRECT = "direct", _("Supervised directly by the superior discipline authority")
    STATIONED = "stationed", _("Supervised by the discipline office assisting the principal leader")
    JOINT = "joint", _("Supervised jointly by the leader in charge and the discipline office")


# The roles of the product that watch each supervision (Role values).
SUPERVISION_ROLES: dict[str, tuple[str, ...]] = {
    Supervision.DIRECT: (Role.SUPERIOR,),
    Supervision.STATIONED: (Role.DISCIPLINE, Role.PRINCIPAL),
    Supervision.JOINT: (Role.LEADERSHIP, Role.DISCIPLINE),
}


def supervision_for(grade: str, position_kind: str) -> str:
    if grade == PostGradeLevel.A and position_kind in LEADERSHIP_KINDS:
        return Supervision.DIRECT
    if grade in (PostGradeLevel.A, PostGradeLevel.B):
        return Supervision.STATIONED
    return Supervision.JOINT


def supervisions_of_role(role: str) -> list[str]:
    return [supervision for supervision, roles in SUPERVISION_ROLES.items() if role in roles]


def propose_grade(top_band: str | None, position_kind: str, is_key_post: bool) -> str:
    """The product's proposal (written in docs/dashboards.md): A for a leadership or key post whose
    most serious verified point is in the high band; B for any other post with a high-band point, a
    post whose most serious is medium, and every leadership post; C for the rest."""
    important = position_kind in LEADERSHIP_KINDS or is_key_post
    if top_band == Band.HIGH and important:
        return PostGradeLevel.A
    if top_band in (Band.HIGH, Band.MEDIUM) or position_kind in LEADERSHIP_KINDS:
        return PostGradeLevel.B
    return PostGradeLevel.C


class PostGrade(models.Model):
    """One post's grade for one year: the product's proposal and the office's decision."""

    position = models.ForeignKey(
        "positions.Position", on_delete=models.PROTECT, related_name="grades", verbose_name=_("position")
    )
    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    proposed = models.CharField(_("proposed grade"), max_length=1, choices=PostGradeLevel.choices)
    proposed_band = models.CharField(_("most serious band"), max_length=8, choices=Band.choices, blank=True)
    proposed_points = models.PositiveIntegerField(_("verified points"), default=0)
    proposed_at = models.DateTimeField(_("proposed at"))
    grade = models.CharField(_("decided grade"), max_length=1, choices=PostGradeLevel.choices, blank=True)
    supervision = models.CharField(_("supervision"), max_length=16, choices=Supervision.choices)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post grade")
        verbose_name_plural = _("post grades")
        ordering = ["institution_id", "position_id"]
        constraints = [models.UniqueConstraint(fields=["position", "year"], name="postgrade_one_per_year")]
        indexes = [models.Index(fields=["institution", "year"], name="postgrade_scope")]

    def __str__(self) -> str:
        return f"{self.position_id} · {self.year} · {self.grade or self.proposed}"

    @property
    def is_decided(self) -> bool:
        return bool(self.grade)

    @property
    def differs(self) -> bool:
        return self.is_decided and self.grade != self.proposed
