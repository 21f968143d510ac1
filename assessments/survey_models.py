"""The measures of the leadership-post study (001 一(二)): anonymous 腐败接触率 surveys and the
moral-risk rating of leadership posts. Kept apart from the cycle's models (assessments/models.py
imports this module so Django registers them); see docs/surveys.md.

Anonymity is a property of the tables, not of the pages: a ``SurveyAnswer`` has a random key, no
foreign key but its round, no time finer than the round's bucket, and the code that admitted it is
deleted in the same transaction. A ``Rating`` likewise keeps no rater: the invitation is marked
done beside it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def default_min_group() -> int:
    return settings.RISK_REGISTRY_SURVEY_MIN_GROUP


class Questionnaire(models.TextChoices):
    """The study's two questionnaires: regulated parties and partner units, and the staff."""

    EXTERNAL = "external", _("External (regulated parties, partner units)")
    INTERNAL = "internal", _("Internal (staff)")


class PostGroup(models.TextChoices):
    BUSINESS = "business", _("Business posts")
    NON_BUSINESS = "non_business", _("Non-business posts")


class TimeBucket(models.TextChoices):
    """How coarsely an answer's time is kept: the first day of its day, week or month."""

    DAY = "day", _("Day")
    WEEK = "week", _("Week (Monday)")
    MONTH = "month", _("Month")


class RoundState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SurveyRound(models.Model):
    """One survey of one institution: its questionnaires (behaviours per kind), its codes, its answers."""

    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.PROTECT,
        related_name="survey_rounds",
        verbose_name=_("institution"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=120)
    state = models.CharField(_("state"), max_length=8, choices=RoundState.choices, default=RoundState.OPEN)
    # {"external": [label, …], "internal": [label, …]}: the behaviours each questionnaire asks about.
    behaviours = models.JSONField(_("behaviours asked about"))
    time_bucket = models.CharField(
        _("answer time kept as"), max_length=8, choices=TimeBucket.choices, default=TimeBucket.WEEK
    )
    min_group = models.PositiveSmallIntegerField(
        _("smallest group shown"),
        default=default_min_group,
        help_text=_("A group with fewer valid answers than this shows no figures."),
    )
    codes_issued = models.PositiveIntegerField(_("codes issued"), default=0)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    answer_count = models.PositiveIntegerField(_("answers at close"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey round")
        verbose_name_plural = _("survey rounds")
        ordering = ["-year", "-pk"]

    def __str__(self) -> str:
        return self.name


class SurveyCode(models.Model):
    """A single-use code still unused: deleted when it admits an answer (no ``used`` flag, no time,
    so the table never says which code was used when)."""

    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=16, unique=True)
    questionnaire = models.CharField(max_length=8, choices=Questionnaire.choices)
    group = models.CharField(max_length=16, choices=PostGroup.choices)
    # A code is printed once: a second sheet would show which codes are still unused, and so
    # (compared with the first) who has answered since.
    printed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("survey code")
        verbose_name_plural = _("survey codes")

    def __str__(self) -> str:
        return self.code


class SurveyAnswer(models.Model):
    """One anonymous answer. Random key (no order of arrival), the round, what the code said
    (questionnaire and post group), the bucket's first day, the answers and the rule's verdict."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="answers")
    questionnaire = models.CharField(max_length=8, choices=Questionnaire.choices)
    group = models.CharField(max_length=16, choices=PostGroup.choices)
    answered_in = models.DateField(_("answered in (first day of the bucket)"))
    # {behaviour label: "yes" | "no" | "unsure"}; ``overall``: the closing control question.
    answers = models.JSONField()
    overall = models.BooleanField()
    valid = models.BooleanField()
    invalid_reason = models.CharField(max_length=16, blank=True)
    exposed = models.BooleanField()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")

    def __str__(self) -> str:
        return str(self.id)


class RatingRound(models.Model):
    """A moral-risk rating (思想道德风险测评) of leadership posts of one institution."""

    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.PROTECT,
        related_name="rating_rounds",
        verbose_name=_("institution"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=120)
    state = models.CharField(_("state"), max_length=8, choices=RoundState.choices, default=RoundState.OPEN)
    # [["政治素质", [sub-indicator, …]], ["道德素质", […]], ["法治素质", […]]]: a list, since jsonb
    # does not keep the order of an object's keys.
    indicators = models.JSONField(_("indicators"))
    # {"1": 0.5, "2": 0.3, "3": 0.2}: relation tier → weight (tier 1 is the closest relation).
    tier_weights = models.JSONField(_("tier weights"))
    # {"excellent": 100, "good": 80, "fair": 60, "poor": 40}
    grade_points = models.JSONField(_("points per grade"))
    positions = models.ManyToManyField("positions.Position", related_name="+", verbose_name=_("posts rated"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_count = models.PositiveIntegerField(_("responses at close"), null=True, blank=True)

    class Meta:
        verbose_name = _("rating round")
        verbose_name_plural = _("rating rounds")
        ordering = ["-year", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def factors(self) -> dict[str, list[str]]:
        """The factors and their sub-indicators, in order."""
        return {factor: list(subs) for factor, subs in self.indicators}


class RatingInvitation(models.Model):
    """A rater invited to rate one post in one relation tier; ``done`` once the rating is in."""

    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="invitations")
    position = models.ForeignKey("positions.Position", on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tier = models.PositiveSmallIntegerField()
    done = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "position", "rater"], name="rating_invitation_once"),
            models.CheckConstraint(condition=models.Q(tier__in=[1, 2, 3]), name="rating_invitation_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.position_id}/{self.tier}"


class Rating(models.Model):
    """One rater's grades for one post: the tier, never the rater (random key, no time)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="ratings")
    position = models.ForeignKey("positions.Position", on_delete=models.CASCADE, related_name="+")
    tier = models.PositiveSmallIntegerField()
    # {"政治素质": {sub-indicator: "excellent" | "good" | "fair" | "poor"}, …}
    grades = models.JSONField()

    def __str__(self) -> str:
        return str(self.id)
