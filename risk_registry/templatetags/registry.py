"""Template helpers of the register pages."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from controls.models import Control, in_line_order
from risk_registry.models import FoundBy, RiskPoint, RiskPointState
from risk_registry.organisation.colours import BLACK, badge_ink, readable_ink, safe_colour
from risk_registry.organisation.models import Band
from risk_registry.organisation.names import person

register = template.Library()


register.filter("person", person)
# Controls of a snapshot row, 前期预防 → 中期监控 → 后期处置 (older snapshots stored them by code).
register.filter("in_line_order", in_line_order)
# The ink class (ink-dark / ink-light) of a badge on a level's colour.
register.filter("badge_ink", badge_ink)


@register.filter
def colour(value) -> str:
    """``{{ level.colour|colour }}``: a stored colour as ``#rrggbb`` for CSS, grey if unreadable."""
    return safe_colour(value)


@register.filter
def get_item(mapping, key):
    """``{{ counts|get_item:state }}``: a dict lookup with a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def state_label(value: str) -> str:

    return str(RiskPointState(value).label) if value in RiskPointState.values else value


@register.filter
def line_label(value: str) -> str:
    """A line of defence (a snapshot's code) by its label; an unknown code as stored."""
    try:
        return str(Control.Line(value).label)
    except ValueError:
        return value


@register.filter
def frequency_label(value: str) -> str:
    """A control's frequency (a snapshot's code) by its label; empty stays empty."""
    try:
        return str(Control.Frequency(value).label) if value else ""
    except ValueError:
        return value


@register.filter
def band_label(value: str) -> str:
    """高 / 中 / 低 for a band code (in the user's language)."""
    return str(Band(value).label) if value in Band.values else ""


EXTRA_LABELS = {
    "reason": _("reason"),
    "controls": _("controls"),
    "decision": _("decision"),
    "meeting": _("meeting"),
    "override": _("level set other than proposed"),
    "revision": _("revision of the controls"),
}


@register.filter
def field_label(name: str) -> str:
    """The verbose name of a risk-point field named in an audit entry's changes."""

    if name in EXTRA_LABELS:  # first: "controls" is also the point's reverse relation, which has no label
        return str(EXTRA_LABELS[name])
    try:
        field = RiskPoint._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))  # a reverse relation has no verbose name


@register.filter
def change_value(value, field: str):
    """An audited value as people read it: states by their label (ids and text stay as they are)."""
    if field == "state" and isinstance(value, str):
        return state_label(value)
    if field == "found_by" and isinstance(value, str):
        return FoundBy(value).label if value in FoundBy.values else value
    return value


@register.filter
def is_pair(value) -> bool:
    """Audit changes are [before, after] pairs, or a single value (a reason, a count)."""
    return isinstance(value, list | tuple) and len(value) == 2


@register.simple_tag
def colour_attrs(colour: str) -> str:
    """``data-colour`` and ``data-ink`` of an element whose background is a level's colour:
    static/js/app.js paints the background and adds the ink class (black or white text, whichever
    contrasts more: ``organisation.colours.badge_ink``). Inline styles are refused by the CSP."""
    return format_html('data-colour="{}" data-ink="{}"', colour, badge_ink(colour))


@register.simple_tag
def level_badge(level, with_band: bool = False) -> str:
    """A level's badge, as ``_level.html`` draws it (with its county-wide band when ``with_band``), for
    the rows of a table: a tag costs a tenth of an ``{% include %}`` per row, and a list of 100 rows
    drew 100 includes (two with the band)."""
    if not level:
        return ""
    badge = format_html('<span class="level-badge" {}>{}</span>', colour_attrs(level.colour), level.name)
    if with_band and level.band:
        band = format_html(
            '<span class="band-badge band-{}" title="{}" data-testid="band">{}</span>',
            level.band,
            _("County-wide band"),
            level.get_band_display(),
        )
        return format_html("{} {}", badge, band)
    return badge


@register.simple_tag
def register_rows(rows) -> str:
    """The rows of the register's table (``_register_table.html``, ``TableRow``s), written here rather
    than in the template: the template's twenty-odd nodes a row cost 0.26 ms of CPU each, 26 ms for
    a page of 100 rows, most of the page's Python; this costs a fifth of that, and the labels and
    badges every row repeats are worked out once for the table (``_TableWords``). Every value is
    escaped here (``escape``); the markup is the one the template had, keep its headers in step."""
    words = _TableWords()
    return mark_safe("".join(_register_row(row, words) + "\n    " for row in rows))  # noqa: S308 (escaped)


def _register_row(row, words: _TableWords) -> str:
    point = row.point
    pk = point.pk
    cells = [f'<tr data-testid="table-row" data-point="{pk}" data-row-state="{escape(point.state)}"><td>']
    if row.actions:
        cells.append(
            f'<input type="checkbox" name="point" value="{pk}" aria-label="#{pk}" '
            f'data-actions="{escape(" ".join(sorted(row.actions)))}">'
            f'<input type="hidden" name="version_{pk}" value="{point.version}">'
        )
    department = escape(point.department.name)
    post = escape(point.position.title) if point.position else ""
    cells.append(
        f'</td><td><a href="{words.detail_url(pk)}">{pk}</a></td>'
        f"<td><details><summary>{escape(Truncator(point.description).chars(60))}</summary>"
        f'<div class="small text-muted d-md-none">{department}{f" · {post}" if post else ""}</div>'
        '<ol class="small mb-1 ps-3" data-testid="row-controls">'
    )
    controls = [
        f"<li><strong>{words.line(c.line)}</strong>：{escape(c.measure)}"
        f"{f'（{escape(c.owner)}）' if c.owner else ''}</li>"
        for c in point.controls.all()
    ]
    cells.extend(controls or [f'<li class="text-muted">{words.no_control}</li>'])
    cells.append("</ol></details>")
    if point.carried_from_id:
        cells.append(render_to_string("risk_registry/_carried_from.html", {"point": point}))
    cells.append(
        f'</td><td class="d-none d-md-table-cell">{department}</td>'
        f'<td class="d-none d-md-table-cell">{post or "—"}</td>'
        f'<td>{words.badge(point.level, with_band=False)}</td><td class="small">{words.state(point)}</td><td>'
    )
    cells.extend(
        f'<span class="badge text-bg-warning me-1" data-flag="{escape(code)}">{escape(label)}</span>'
        for code, label in row.flags
    )
    cells.append("</td></tr>")
    return "".join(cells)


class _TableWords:
    """What every row of one table repeats, worked out once for the table by the helpers the
    templates used (the point's ``state_label``, the ``state_label`` and ``line_label`` filters,
    ``level_badge``) and kept per value: the states' labels, each level's badge, the lines of
    defence, and the detail pages' address. A row then costs
    its own escaped values: looking a label up through the translation machinery, drawing the
    same badge and reversing the same URL pattern for each of 50 rows was most of a row's time."""

    DETAIL_SENTINEL = 987654321

    def __init__(self) -> None:
        self.states: dict[tuple[str, bool], str] = {}
        self.stored_states: dict[str, str] = {}
        self.badges: dict[tuple[int, bool], str] = {}
        self.lines: dict[str, str] = {}
        # str() first: escape() keeps a lazy label lazy, translated again wherever it is printed
        self.no_control = escape(str(_("No control yet.")))
        self.detail = reverse("risk_point_detail", args=[self.DETAIL_SENTINEL]).split(str(self.DETAIL_SENTINEL))

    def state(self, point) -> str:
        """``RiskPoint.state_label`` (修订中 for a reopened point), escaped, once per kind of row."""
        key = (point.state, point.under_revision)
        if key not in self.states:
            self.states[key] = escape(point.state_label)
        return self.states[key]

    def stored_state(self, state: str) -> str:
        """The ``state_label`` filter (the stored state's own label), escaped, once per state."""
        if state not in self.stored_states:
            self.stored_states[state] = escape(state_label(state))
        return self.stored_states[state]

    def badge(self, level, *, with_band: bool) -> str:
        """``level_badge(level, with_band)``, once per level."""
        if level is None:
            return ""
        key = (level.pk, with_band)
        if key not in self.badges:
            self.badges[key] = level_badge(level, with_band=with_band)
        return self.badges[key]

    def line(self, code: str) -> str:
        """``line_label(code)``, escaped, once per line of defence."""
        if code not in self.lines:
            self.lines[code] = escape(line_label(code))
        return self.lines[code]

    def detail_url(self, pk: int) -> str:
        return f"{self.detail[0]}{pk}{self.detail[1]}"


@register.simple_tag
def risk_point_rows(points) -> str:
    """The rows of a list of risk points (``_risk_point_rows.html``: the risk lists and their
    searches), written here for the reason ``register_rows`` is: the template's rows were most of a
    list page's Python (``docs/performance.md``, round 5). Every value is escaped here; the markup is
    the one the template had, keep its headers in step."""
    words = _TableWords()
    rows = []
    for point in points:
        department = escape(point.department.name)
        post = escape(point.position.title) if point.position else ""
        carried = ""
        if point.carried_from_id:
            carried = render_to_string("risk_registry/_carried_from.html", {"point": point})
        rows.append(
            f'<tr><td><a href="{words.detail_url(point.pk)}">'
            f"{escape(Truncator(point.description).chars(70))}</a> {carried}"
            '<div class="d-md-none small text-body-secondary" aria-hidden="true" data-testid="row-summary">'
            f"{words.stored_state(point.state)} · {department}{f' · {post}' if post else ''}</div></td>"
            f'<td class="text-nowrap">{words.badge(point.level, with_band=True)}</td>'
            f"<td>{escape(point.risk_type.name)}</td><td>{escape(point.institution.name)}</td>"
            f"<td>{department}</td><td>{post or '—'}</td>"
            f'<td><span class="badge text-bg-light border">{words.state(point)}</span></td>'
            f"<td>{point.year}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped)


@register.simple_tag
def inbox_point_rows(points, key: str) -> str:
    """The rows of a group of the inbox (``_inbox_points.html``), drawn as ``risk_point_rows`` is:
    the markup is the one the template had. The register link is left out of the holder's drafts
    (``to_submit``), as it was."""
    words = _TableWords()
    registers: dict[tuple[str, int], str] = {}
    link = escape(str(_("register")))
    rows = []
    for point in points:
        institution = point.institution
        register_link = ""
        if key != "to_submit":
            where = (institution.code, point.year)
            if where not in registers:
                registers[where] = escape(reverse("register_detail", args=where))
            register_link = f'<a class="ms-1" href="{registers[where]}">{link}</a>'
        rows.append(
            f'<li class="list-group-item"><a href="{words.detail_url(point.pk)}">'
            f"{escape(Truncator(point.description).chars(60))}</a> {words.badge(point.level, with_band=True)}\n"
            f'    <span class="text-muted">{escape(institution.name)} · {escape(point.department.name)}</span>\n'
            f"    {register_link}</li>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped)


@register.filter
def ink(colour: str) -> str:
    """The text colour (#000000 or #ffffff) on a level's colour, for the PDFs' inline styles."""
    return readable_ink(colour) or BLACK


@register.filter
def readable_colour(colour: str) -> bool:
    """Whether black or white text reaches 4.5:1 on ``colour`` (the scheme edit page warns if not)."""
    return readable_ink(colour) is not None
