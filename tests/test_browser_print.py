"""Printing a page (Chromium's print media): the navigation, buttons, filters, pagination and forms
are hidden; the register, a filed version and each dashboard carry a print-only header with the
institution, the title and the print date; the PDF is A4 (issue 16)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from risk_registry.tests.test_documents_export import filed_version
from tests.browser import log_in, optional_shots

pytestmark = pytest.mark.browser

SHOTS = optional_shots("printing")
SHOTS_UX16 = optional_shots("ux16")
A4_PORTRAIT_POINTS = (595, 842)
HIDDEN_IN_PRINT = (
    "main button",
    "main .btn",
    "main select",
    "main input:not([type=hidden])",
    ".pagination",
    ".breadcrumb",
)


# A card whose header is all that shows (its form hidden in print, its list empty on screen): the
# visible text of each card of the page without its header, where a card's text outside the
# header is empty. ``innerText`` follows the styles of the media emulated.
# A closed <details> card on screen is a section the user opens; printed, it would be its summary.
EMPTY_CARDS_JS = """() => [...document.querySelectorAll('main .card')]
    .filter(card => card.getClientRects().length > 0)
    .filter(card => matchMedia('print').matches || !card.matches('details:not([open])'))
    .filter(card => {
        const header = card.querySelector(':scope > .card-header, :scope > summary');
        const all = card.innerText.trim();
        return all === '' || (header !== null && all === header.innerText.trim());
    })
    .map(card => card.innerText.trim() || card.outerHTML.slice(0, 80))"""


def empty_cards(page) -> list[str]:
    """Cards of the page that show a header and nothing under it."""
    return page.evaluate(EMPTY_CARDS_JS)


def _pages(w, version) -> list[tuple[str, str, str, str]]:
    """(name, persona, path, what the print header names) of each page printed as a document."""
    year = w.submitted.year
    return [
        ("register", "discipline", f"/registers/{w.a.code}/{year}/", w.a.name),
        ("version", "discipline", f"/versions/{version.pk}/", w.a.name),
        ("oversight", "discipline", f"/dashboards/oversight/?institution={w.a.code}", w.a.name),
        ("leadership", "leader", "/dashboards/leadership/", w.a.name),
        ("mine", "holder", "/dashboards/mine/", "张审批"),
    ]


@pytest.mark.parametrize("name", ["register", "version", "oversight", "leadership", "mine"])
def test_a_page_prints_as_a_clean_document(live_world, live_server, page, name):
    w, base = live_world, live_server.url
    version = filed_version(w)
    _name, persona, path, institution = next(item for item in _pages(w, version) if item[0] == name)
    log_in(page, base, persona)
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == 200
    header = page.get_by_test_id("print-header")
    expect(header).to_be_hidden()  # on screen the page has its own title
    assert empty_cards(page) == []
    if SHOTS:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"screen_{name}_{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(media="print")
    expect(header).to_be_visible()
    expect(header).to_contain_text(institution)
    expect(header).to_contain_text(timezone.localdate().strftime("%Y-%m-%d"))
    expect(header.get_by_test_id("print-title")).not_to_be_empty()
    expect(page.locator("nav.app-nav")).to_be_hidden()
    assert empty_cards(page) == []  # no header printed over a hidden form
    for selector in HIDDEN_IN_PRINT:
        assert page.locator(f"{selector} >> visible=true").count() == 0, selector
    assert page.locator("main form:not(:has(table)) >> visible=true").count() == 0
    if name == "register":
        expect(page.locator(".register-table")).to_be_visible()
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"print_{name}.png"), full_page=True)
        data = page.pdf(prefer_css_page_size=True, print_background=True)
        (SHOTS / f"print_{name}.pdf").write_bytes(data)
    data = page.pdf(prefer_css_page_size=True)
    box = [float(v) for v in data.split(b"/MediaBox [", 1)[1].split(b"]", 1)[0].split()]
    assert (round(box[2]), round(box[3])) == A4_PORTRAIT_POINTS


@pytest.mark.parametrize("width", [1280, 390])
def test_the_import_page_on_screen_says_how_points_arrive(live_world, live_server, page, width):
    w, base = live_world, live_server.url
    log_in(page, base, "discipline")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/documents/import/{w.a.code}/")
    expect(page.get_by_test_id("arrive-as")).to_contain_text("已自查上报")
    expect(page.get_by_test_id("print-header")).to_have_count(0)  # only the documents print one
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"import_{width}.png"), full_page=True)


@pytest.mark.parametrize(
    ("persona", "state", "card"),
    [("discipline", "approved", "publish-card"), ("leader", "defined", "approve-card")],
    ids=["publish", "approve"],
)
def test_the_registers_step_cards_stay_on_screen_and_out_of_print(live_world, live_server, page, persona, state, card):
    """The register's step cards (公示, 审定 …) are forms: on screen with their form, never printed
    as a header over nothing; the register's own cards (decisions, notice, versions) say 暂无 … or 尚未 … instead."""
    from risk_registry.models import RiskPoint
    from tests.browser import screenshot_both_widths

    w, base = live_world, live_server.url
    RiskPoint.objects.filter(pk=w.submitted.pk).update(state=state)
    log_in(page, base, persona)
    page.goto(f"{base}/registers/{w.a.code}/{w.submitted.year}/")
    expect(page.get_by_test_id(card)).to_be_visible()
    assert empty_cards(page) == []
    expect(page.get_by_test_id("decisions")).to_contain_text("暂无会议决定")
    expect(page.get_by_test_id("notice")).to_contain_text("尚未公示")
    if SHOTS_UX16:
        screenshot_both_widths(page, SHOTS_UX16, f"register-{card}-screen")
    page.emulate_media(media="print")
    expect(page.get_by_test_id(card)).to_be_hidden()
    assert empty_cards(page) == []
    expect(page.get_by_test_id("decisions")).to_contain_text("暂无会议决定")
    expect(page.get_by_test_id("notice")).to_contain_text("尚未公示")
    if SHOTS_UX16:
        page.screenshot(path=str(SHOTS_UX16 / f"register-{card}-print.png"), full_page=True)
