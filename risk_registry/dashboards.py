"""The dashboards' figures on risk points: each a count aggregated in SQL over the access module's
scoped points, and each carrying the query string of the risk list that shows the same points.

A figure's number and the list it links to are the same queryset: ``risk_points_visible_to``
narrowed by ``RiskPointFilters`` fields that the list's filter form reads back from the link
(``tests`` compare them for every kind of figure). Queries are one GROUP BY per figure, never
one per institution, so a dashboard costs the same for a county and for a province subtree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext as _

from positions.models import Position, PowerCategory
from risk_registry import access
from risk_registry.models import PointSpread, PostGradeLevel, RiskPoint, RiskPointState
from risk_registry.organisation.models import Band, Department, GradeLevel, Institution, RiskType
from risk_registry.organisation.selectors import risk_types_for
from risk_registry.selectors import RiskPointFilters, risk_points_for_list

COMPARISON_PAGE = 50  # institutions compared side by side on one page (the roll-up shows the same)
ORDERS = ("path", "serious")  # the tree's order, or the most serious institutions first
INSTITUTION_CHOICES = 200  # the drop-down of institutions to look at (the tables page through all)
TOP_BAND = Band.HIGH
BANDS = [(str(value), str(label)) for value, label in Band.choices]  # 高, 中, 低
BAND_COLOURS = ("#b71c1c", "#e08a00", "#2e7d32")  # as the band badges of app.css
KIND_ORDER = {kind: order for order, kind in enumerate(Position.Kind.values)}  # 班子正职 first


def list_url(query: Mapping[str, object]) -> str:
    """The risk list filtered by ``query`` (empty values left out)."""
    return _list_path(get_script_prefix()) + "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})


@lru_cache(maxsize=8)
def _list_path(prefix: str) -> str:
    """The risk list's path, reversed once per script prefix: a page links a few hundred figures."""
    return reverse("risk_point_list")


@dataclass
class Bar:
    """One figure: a label, its count and the list behind it."""

    label: str
    count: int
    url: str = ""
    colour: str = ""


@dataclass
class Chart:
    key: str
    title: str
    bars: list[Bar]
    summary: str = ""

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)

    def as_data(self) -> dict[str, Any]:
        """What the page script draws (``json_script``): labels, counts, links, colours."""
        return {
            "title": self.title,
            "labels": [bar.label for bar in self.bars],
            "values": [bar.count for bar in self.bars],
            "urls": [bar.url for bar in self.bars],
            "colours": [bar.colour for bar in self.bars],
        }


def summarise(title: str, bars: list[Bar]) -> str:
    """The chart in one sentence, for screen readers and print: the largest figures first."""
    if not bars or not any(bar.count for bar in bars):
        return _("%(title)s: no risk point.") % {"title": title}
    ranked = sorted(bars, key=lambda bar: -bar.count)[:3]
    parts = "、".join(f"{bar.label} {bar.count}" for bar in ranked)
    return _("%(title)s: %(total)d risk points; the most: %(parts)s.") % {
        "title": title,
        "total": sum(bar.count for bar in bars),
        "parts": parts,
    }


def chart(key: str, title: str, bars: list[Bar]) -> Chart:
    return Chart(key=key, title=title, bars=bars, summary=summarise(title, bars))


@dataclass
class HeatCell:
    count: int
    url: str
    level: GradeLevel | None


@dataclass
class HeatMap:
    """Likelihood (rows, the most likely at the top) × severity (columns) of one institution."""

    institution: Institution
    severity_labels: list[str]
    rows: list[tuple[str, list[HeatCell]]]
    summary: str = ""


def heat_map(points: QuerySet[RiskPoint], *, institution: Institution, query: Mapping[str, object]) -> HeatMap | None:
    """Counts per likelihood × severity cell of ``institution``'s scheme: one grouped query."""
    scheme = institution.grading_scheme
    if scheme is None:
        return None
    counts: dict[tuple[int, int], int] = {}
    directly = 0  # graded directly (直接定级, imported): no likelihood and severity, so no cell
    for row in points.order_by().values("likelihood", "severity").annotate(total=Count("id")):
        if row["likelihood"] is None or row["severity"] is None:
            directly += row["total"]
        else:
            counts[(row["likelihood"], row["severity"])] = row["total"]
    levels = {level.code: level for level in GradeLevel.objects.filter(scheme=scheme)}
    rows = []
    for li, label in enumerate(scheme.likelihood_labels, start=1):
        cells = [
            HeatCell(
                count=counts.get((li, si), 0),
                url=list_url({**query, "likelihood": li, "severity": si}),
                level=levels.get(scheme.matrix[li - 1][si - 1]),
            )
            for si in range(1, len(scheme.severity_labels) + 1)
        ]
        rows.append((label, cells))
    busiest = max(counts.items(), key=lambda item: item[1], default=None)
    summary = _("Heat map of %(name)s: %(total)d risk points.") % {
        "name": institution.name,
        "total": sum(counts.values()),
    }
    if busiest is not None:
        (li, si), total = busiest
        summary += " " + _("The fullest cell: likelihood %(l)s, severity %(s)s, %(n)d points.") % {
            "l": scheme.likelihood_labels[li - 1],
            "s": scheme.severity_labels[si - 1],
            "n": total,
        }
    if directly:
        summary += " " + _("%(n)d points graded directly are in no cell.") % {"n": directly}
    return HeatMap(
        institution=institution, severity_labels=list(scheme.severity_labels), rows=rows[::-1], summary=summary
    )


@dataclass
class RollUp:
    """The institutions of a subtree × county-wide band (高/中/低), counts per cell."""

    bands: list[tuple[str, str]]
    rows: list[tuple[Compared, list[Bar]]]
    summary: str = ""


BandCounts = dict[tuple[int, str], int]


class Compared(NamedTuple):
    """An institution compared on the oversight page: what its order, its totals, the drop-down
    and a row shown read (a row of ``values_list``, not a model object: a city compares 1,001)."""

    pk: int
    path: str
    code: str
    name: str


@dataclass
class InstitutionCounts:
    """Points per (institution, band), the controls of each institution's points and the control
    runs recorded in the year (both from the points' stored figures), and the schemes of their levels."""

    bands: BandCounts = field(default_factory=dict)
    controls: dict[int, int] = field(default_factory=dict)
    runs: dict[int, int] = field(default_factory=dict)
    schemes: dict[int, set[int]] = field(default_factory=dict)  # the schemes of each one's points' levels

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str, int | None, int, int, int]]) -> InstitutionCounts:
        """Summed from rows of ``TALLIED``: institution, band, scheme, points, controls, runs."""
        counts = cls()
        bands, controls, runs, schemes = counts.bands, counts.controls, counts.runs, counts.schemes
        for pk, band, scheme, total, control_total, run_total in rows:
            bands[(pk, band)] = bands.get((pk, band), 0) + total
            controls[pk] = controls.get(pk, 0) + (control_total or 0)
            runs[pk] = runs.get(pk, 0) + (run_total or 0)
            if scheme is not None:  # a point without a level's scheme adds none to the legend
                schemes.setdefault(pk, set()).add(scheme)
        return counts

    def schemes_of(self, institutions: Iterable[Compared]) -> list[int]:
        """The grading schemes the points of ``institutions`` are graded with (the legend's)."""
        return sorted({scheme for inst in institutions for scheme in self.schemes.get(inst.pk, ())})


# A tally's (or a group of points') fields, in ``InstitutionCounts.of``'s order.
TALLIED = ("institution_id", "level_band", "level_scheme_id", "total", "controls", "runs")


def institution_counts(user, *, year: int, node: Institution | None) -> InstitutionCounts:
    """The points ``user`` may see of ``year`` per institution of ``node``'s subtree (None: the
    whole scope), band and scheme, with their stored controls and runs summed: read by the roll-up,
    its legend, the comparison and the order by seriousness. From the points' tallies of what the
    user oversees (``access.point_tallies_visible_to``: a few rows per institution, never its
    points) and the user's other points grouped (``access.risk_points_seen_elsewhere``: none, and no
    query, for an office that only oversees): the same counts as the visible points grouped."""
    tallies = access.point_tallies_visible_to(user).filter(within(node), year=year, total__gt=0)
    elsewhere = (
        access.risk_points_seen_elsewhere(user)
        .filter(within(node), year=year)
        .order_by()
        .values(*TALLIED[:3])
        .annotate(total=Count("id"), controls=Sum("controls_count"), runs=Sum("control_runs"))
    )
    return InstitutionCounts.of([*tallies.values_list(*TALLIED), *elsewhere.values_list(*TALLIED)])


def roll_up(counts: BandCounts, shown: list[Compared], *, year: int, in_scope: int, first: int = 1) -> RollUp:
    """Counts per band of the institutions ``shown`` (a page, the ``first`` of them numbered so);
    the summary counts the whole scope (``counts`` of every institution, ``in_scope`` of them),
    never only the rows shown. No query."""
    rows = [
        (
            inst,
            [
                Bar(
                    label=band,
                    count=counts.get((inst.pk, band), 0),
                    url=list_url({"institution": inst.code, "year": year, "band": band}),
                )
                for band, _label in BANDS
            ],
        )
        for inst in shown
    ]
    figures = {
        "n": in_scope,
        "total": sum(counts.values()),
        "top": sum(count for (_inst, band), count in counts.items() if band == TOP_BAND),
        "first": first,
        "last": first + len(shown) - 1,
    }
    if len(shown) < in_scope:
        summary = (
            _(
                "%(n)d institutions, %(total)d risk points, %(top)d of them in the high band; "
                "the tables show institutions %(first)d to %(last)d."
            )
            % figures
        )
    else:
        summary = _("%(n)d institutions, %(total)d risk points, %(top)d of them in the high band.") % figures
    return RollUp(bands=BANDS, rows=rows, summary=summary)


def _grouped(points: QuerySet[RiskPoint], *fields: str) -> list[Mapping[str, Any]]:
    return list(points.order_by().values(*fields).annotate(total=Count("id")).order_by(*fields))


# What to watch, counted beside the distributions in the same grouped query (``point_figures``).
WATCHED = {
    "none": Q(controls_count=0),  # the points' stored control quality
    "vague": Q(vague_controls__gt=0),
    "regrade": Q(needs_regrading=True),
    "new": Q(carried_from__isnull=True),
    # the stored ranks of the source's level and of the point's own: no join of the source or the level
    "raised": Q(carried_from_rank__gt=F("level_rank")),
    "lowered": Q(carried_from_rank__lt=F("level_rank")),
}
# every dashboard; the level's band and the post's kind stored on the point (``level_band``,
# ``position_kind``): no join of the levels or the posts
SPREAD = ("level_band", "risk_type_id", "power_item__category_id", "position_kind")
SPREAD_ONE = ("level__rank", "level__name", "level__colour", "department_id")  # one institution's only


def _nulls_last(key: tuple) -> tuple:
    return tuple((True,) if value is None else (False, value) for value in key)


class Groups:
    """The points counted once per combination of every distribution's key (band, risk type, power
    category, position kind; for one institution also level and department), with what to watch
    counted in the same rows: one grouped query gives every chart and the watch list, each summed
    from it in Python (a few hundred rows for a county, never one per point or institution).

    ``stored``: rows of ``PointSpread`` (the charts' tallies) of further points, summed by the same
    keys and added (the overseen part of a subtree: ``overseen``)."""

    def __init__(
        self, points: QuerySet[RiskPoint], *, one_institution: bool, stored: QuerySet[PointSpread] | None = None
    ):
        fields = SPREAD + (SPREAD_ONE if one_institution else ())
        counted = {"total": Count("id"), **{name: Count("id", filter=q) for name, q in WATCHED.items()}}
        self.rows = list(points.order_by().values(*fields).annotate(**counted))
        if stored is not None:
            summed = {"total": Sum("points"), **{name: Sum(f"{name}_points") for name in WATCHED}}
            self.rows += stored.filter(points__gt=0).order_by().values(*SPREAD).annotate(**summed)

    @classmethod
    def overseen(cls, user, *, year: int) -> Groups:
        """The groups of every point of ``year`` ``user`` may see (``risk_points_visible_to``): the
        overseen ones from their stored rows (``access.point_spreads_visible_to``: a city's 26,000
        rows, not its 204,000 points), the user's other points grouped one by one
        (``access.risk_points_seen_elsewhere``: none, and no query, for an office that only oversees)."""
        return cls(
            access.risk_points_seen_elsewhere(user).filter(year=year),
            one_institution=False,
            stored=access.point_spreads_visible_to(user).filter(year=year),
        )

    def by(self, *fields: str) -> list[dict[str, Any]]:
        """The counts summed over ``fields``, in their order (an empty key last, as SQL sorts it)."""
        totals: dict[tuple, int] = {}
        for row in self.rows:
            key = tuple(row[name] for name in fields)
            totals[key] = totals.get(key, 0) + row["total"]
        keys = sorted(totals, key=_nulls_last)
        return [{**dict(zip(fields, key, strict=True)), "total": totals[key]} for key in keys]

    def watched(self) -> dict[str, int]:
        return {name: sum(row[name] for row in self.rows) for name in WATCHED}


def distributions(
    points: QuerySet[RiskPoint],
    *,
    institution: Institution | None,
    query: Mapping[str, object],
    groups: Groups | None = None,
) -> list[Chart]:
    """By band (高/中/低), by level (one institution: its own scheme's labels), risk type, power
    category, department (one institution) and position kind: summed from one grouped query
    (``groups``, made here when not given)."""
    groups = groups or Groups(points, one_institution=institution is not None)
    band_counts = {row["level_band"]: row["total"] for row in groups.by("level_band")}
    charts = [
        chart(
            "band",
            _("By band (county-wide)"),
            [
                Bar(label=label, count=band_counts.get(band, 0), url=list_url({**query, "band": band}), colour=colour)
                for (band, label), colour in zip(BANDS, BAND_COLOURS, strict=True)
            ],
        )
    ]
    if institution is not None:
        level_rows = groups.by("level__rank", "level__name", "level__colour", "level_band")
        bands = dict(BANDS)
        charts.append(
            chart(
                "level",
                _("By level"),
                [
                    Bar(
                        label=f"{row['level__name']}（{bands.get(row['level_band'], '')}）",
                        count=row["total"],
                        url=list_url({**query, "level": row["level__rank"]}),
                        colour=row["level__colour"],
                    )
                    for row in level_rows
                ],
            )
        )
    type_rows = groups.by("risk_type_id")
    types = dict(RiskType.objects.filter(pk__in=[r["risk_type_id"] for r in type_rows]).values_list("id", "name"))
    linkable = set(risk_types_for(institution).values_list("id", flat=True))  # what the list's filter offers
    charts.append(
        chart(
            "risk_type",
            _("By risk type"),
            [
                Bar(
                    label=types.get(row["risk_type_id"], "—"),
                    count=row["total"],
                    url=list_url({**query, "risk_type": row["risk_type_id"]})
                    if row["risk_type_id"] in linkable
                    else "",
                )
                for row in type_rows
            ],
        )
    )
    charts.append(_power_chart(groups.by("power_item__category_id"), query))
    if institution is not None:
        names = dict(Department.objects.filter(institution=institution).values_list("id", "name"))
        charts.append(
            chart(
                "department",
                _("By department"),
                [
                    Bar(
                        label=names.get(row["department_id"], "—"),
                        count=row["total"],
                        url=list_url({**query, "department": row["department_id"]}),
                    )
                    for row in groups.by("department_id")
                ],
            )
        )
    kinds = dict(Position.Kind.choices)
    charts.append(
        chart(
            "position_kind",
            _("By position kind"),
            [
                Bar(
                    label=str(kinds.get(row["position_kind"], _("Department-level points"))),
                    count=row["total"],
                    url=list_url({**query, "position_kind": row["position_kind"]}) if row["position_kind"] else "",
                )
                for row in sorted(groups.by("position_kind"), key=lambda r: KIND_ORDER.get(r["position_kind"], 99))
            ],
        )
    )
    return charts


def _power_chart(rows: list[dict[str, Any]], query: Mapping[str, object]) -> Chart:
    names = dict(
        PowerCategory.objects.filter(
            pk__in=[r["power_item__category_id"] for r in rows if r["power_item__category_id"]]
        ).values_list("id", "name")
    )
    bars = [
        Bar(
            label=names.get(row["power_item__category_id"], "") or _("No power item"),
            count=row["total"],
            url=list_url({**query, "power_category": row["power_item__category_id"]})
            if row["power_item__category_id"]
            else "",
        )
        for row in rows
    ]
    return chart("power_category", _("By power category"), bars)


@dataclass
class Watch:
    """Points that need attention, and the year over year changes (each a count with its list)."""

    bars: list[Bar] = field(default_factory=list)
    changes: list[Bar] = field(default_factory=list)


def watch(
    points: QuerySet[RiskPoint],
    previous: QuerySet[RiskPoint],
    *,
    query: Mapping[str, object],
    year: int,
    groups: Groups | None = None,
) -> Watch:
    """Without controls, with a vague control (the points' stored control quality), flagged for
    re-grading; new, raised, lowered (summed from ``groups``, the distributions' grouped query) and
    (of the year before) not carried on: one query more."""
    numbers = (groups or Groups(points, one_institution=False)).watched()
    carried = RiskPoint.objects.filter(carried_from=OuterRef("pk"), year=year)
    dropped = previous.exclude(state=RiskPointState.DRAFT).filter(~Exists(carried)).order_by().count()
    before = {**query, "year": year - 1}
    return Watch(
        bars=[
            Bar(_("Without controls"), numbers["none"], list_url({**query, "controls": "none"})),
            Bar(_("With a vague control"), numbers["vague"], list_url({**query, "controls": "vague"})),
            Bar(_("Flagged for re-grading"), numbers["regrade"], list_url({**query, "regrade": "on"})),
        ],
        changes=[
            Bar(_("New"), numbers["new"], list_url({**query, "change": "new"})),
            Bar(_("Raised"), numbers["raised"], list_url({**query, "change": "raised"})),
            Bar(_("Lowered"), numbers["lowered"], list_url({**query, "change": "lowered"})),
            Bar(_("Removed (of the year before)"), dropped, list_url({**before, "change": "dropped"})),
        ],
    )


def point_figures(
    points: QuerySet[RiskPoint],
    previous: QuerySet[RiskPoint],
    *,
    institution: Institution | None,
    query: Mapping[str, object],
    year: int,
    groups: Groups | None = None,
) -> tuple[list[Chart], Watch]:
    """The distributions and what to watch of ``points`` from one grouped query (``groups`` if
    given; and one for the points of the year before not carried on)."""
    groups = groups or Groups(points, one_institution=institution is not None)
    return (
        distributions(points, institution=institution, query=query, groups=groups),
        watch(points, previous, query=query, year=year, groups=groups),
    )


@dataclass
class Comparison:
    """One institution's row of the comparison table."""

    institution: Compared
    year: int = 0
    points: int = 0
    positions: int = 0
    top: int = 0
    controls: int = 0
    runs: int = 0
    a_posts: int = 0  # posts of grade A (篇5): the decided grade, else the product's proposal
    can_open_posts: bool = False  # the post grades page is the deciding office's (``may_open_posts``)
    # Filled by the page from the cycle (a feature this layer does not read).
    filed_on_time: bool | None = None
    progress: Any = None

    @property
    def url(self) -> str:  # built for the rows shown only: a page of 50, not every institution
        return list_url({"institution": self.institution.code, "year": self.year})

    @property
    def top_url(self) -> str:
        return list_url({"institution": self.institution.code, "year": self.year, "band": TOP_BAND})

    @property
    def posts_url(self) -> str:
        return reverse("post_grade_list", args=[self.institution.code, self.year]) if self.can_open_posts else ""

    @property
    def points_per_post(self) -> float | None:
        return round(self.points / self.positions, 1) if self.positions else None

    @property
    def top_share(self) -> int | None:
        return round(100 * self.top / self.points) if self.points else None

    @property
    def controls_per_point(self) -> float | None:
        return round(self.controls / self.points, 1) if self.points else None


def within(node: Institution | None) -> Q:
    """The institutions compared, as a condition on the rows' ``institution``: ``node``'s subtree,
    or (None) the whole scope, which the querysets are already narrowed to. A path, never a list of
    a thousand ids (which cost more to send and plan than the query took to run)."""
    return Q(institution__path__startswith=node.path) if node is not None else Q()


@dataclass
class ComparisonFigures:
    """The comparison's figures of every institution compared, by institution id: from the
    per-institution counts (``counts``) and two grouped queries. The rows are built for the
    institutions shown only (``rows``); the total sums every institution compared (``total``)."""

    institutions: list[Compared]  # every institution compared, in the tree's order
    counts: InstitutionCounts
    year: int
    positions: dict[int, int] = field(default_factory=dict)
    a_posts: dict[int, int] = field(default_factory=dict)

    def row(self, inst: Compared) -> Comparison:
        bands = self.counts.bands
        return Comparison(
            institution=inst,
            year=self.year,
            points=sum(bands.get((inst.pk, band), 0) for band, _label in BANDS),
            top=bands.get((inst.pk, TOP_BAND), 0),
            controls=self.counts.controls.get(inst.pk, 0),
            positions=self.positions.get(inst.pk, 0),
            runs=self.counts.runs.get(inst.pk, 0),
            a_posts=self.a_posts.get(inst.pk, 0),
        )

    def rows(self, shown: Iterable[Compared]) -> list[Comparison]:
        return [self.row(inst) for inst in shown]

    def total(self) -> Comparison:
        """The figures summed over every institution compared, not a page's (no row built)."""
        compared = {inst.pk for inst in self.institutions}

        def summed(figures: Mapping[int, int]) -> int:
            return sum(total for pk, total in figures.items() if pk in compared)

        bands = self.counts.bands
        return Comparison(
            institution=Compared(pk=0, path="", code="", name=_("All institutions")),
            points=sum(total for (pk, _band), total in bands.items() if pk in compared),
            top=sum(total for (pk, band), total in bands.items() if pk in compared and band == TOP_BAND),
            controls=summed(self.counts.controls),
            positions=summed(self.positions),
            runs=summed(self.counts.runs),
            a_posts=summed(self.a_posts),
        )

    def ordered(self, order: str) -> list[Compared]:
        """The institutions in the tree's order, or (``serious``) those with the most points in the
        high band first, then in the middle band, then by points; the tree's order breaks ties."""
        if order != "serious":
            return self.institutions
        bands, counts = [band for band, _label in BANDS], self.counts.bands
        keys = {inst.pk: tuple(-counts.get((inst.pk, band), 0) for band in bands) for inst in self.institutions}
        return sorted(self.institutions, key=lambda inst: (*keys[inst.pk], sum(keys[inst.pk]), inst.path))


def comparison(
    user,
    institutions: list[Compared],
    *,
    year: int,
    counts: InstitutionCounts,
    node: Institution | None = None,
) -> ComparisonFigures:
    """Points per post, share in the high band, controls per point, control runs of the year and
    grade A posts per institution (``institutions``: those of ``node``'s subtree, or of the scope):
    from ``counts`` (``institution_counts`` of ``points``: the points' stored controls and runs)
    and two grouped queries (positions, grade A posts), whatever the number of institutions."""
    figures = ComparisonFigures(institutions=institutions, counts=counts, year=year)
    for grade_row in (
        access.post_grades_visible_to(user)
        .filter(within(node), year=year)
        .annotate(effective=Coalesce(NullIf("grade", Value("")), "proposed"))
        .filter(effective=PostGradeLevel.A)
        .order_by()
        .values("institution_id")
        .annotate(total=Count("id"))
    ):
        figures.a_posts[grade_row["institution_id"]] = grade_row["total"]
    for post_row in (
        access.positions_of_visible_institutions(user, path=node.path if node is not None else None)
        .order_by()
        .values("institution_id")
        .annotate(total=Count("id"))
    ):
        figures.positions[post_row["institution_id"]] = post_row["total"]
    return figures


def may_open_posts(user, rows: Iterable[Comparison]) -> None:
    """Link the grade A posts of ``rows`` (those shown) to their post grades page where ``user``
    decides them."""
    for row in rows:
        row.can_open_posts = access.can_decide_post_grades(user, row.institution)


def compared_institutions(user, node: Institution | None) -> list[Compared]:
    """The institutions a dashboard compares: ``node`` and its subtree, or the user's whole
    oversight scope, by path (all of them: the page shows ``COMPARISON_PAGE`` at a time, its totals
    count every one), as the four fields the page reads."""
    visible = access.institutions_visible_to(user)
    if node is not None:
        visible = visible.filter(path__startswith=node.path)
    return [Compared._make(row) for row in visible.order_by("path").values_list(*Compared._fields)]


def my_points(user, *, year: int) -> QuerySet[RiskPoint]:
    """The points of the posts the user holds and of the departments the user heads (the list's
    ``mine`` filter)."""
    return risk_points_for_list(user=user, filters=RiskPointFilters(mine=True, year=year))


def by_state_and_band(
    points: QuerySet[RiskPoint], *, query: Mapping[str, object]
) -> tuple[list[tuple[str, str]], list[tuple[str, str, list[Bar]]]]:
    """My points: state (rows, in the workflow's order) × county-wide band (columns), one query."""
    counts = {(row["state"], row["level__band"]): row["total"] for row in _grouped(points, "state", "level__band")}
    rows = [
        (
            state,
            str(label),
            [
                Bar(band, counts.get((state, band), 0), list_url({**query, "state": state, "band": band}))
                for band, _band_label in BANDS
            ],
        )
        for state, label in RiskPointState.choices
        if any(counts.get((state, band)) for band, _band_label in BANDS)
    ]
    return BANDS, rows


def institutions_named(ids: Iterable[int]) -> list[Institution]:
    return list(Institution.objects.filter(pk__in=list(ids)).select_related("grading_scheme").order_by("path"))
