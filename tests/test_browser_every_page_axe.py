"""axe-core on every page the permission harness lists that the discipline office may open (issue
16: "no serious violations on every page"); tests/test_browser_accessibility.py walks each persona's
main pages at two widths, this one reaches the rest.

Each page is rendered by the test client exactly as tests/test_chinese_pages.py reads it (the case's
setup inside a savepoint that is rolled back after the page), then shown in Chromium with the live
server as its base, so the stylesheets and vendored assets load as on the site, and axe runs on the
document as it stands."""

from __future__ import annotations

import json
import re

import pytest
from django.db import transaction

from tests.browser import axe_violations
from tests.harness import Scene
from tests.test_chinese_pages import PERSONA, READ_BY_THE_OFFICE

pytestmark = pytest.mark.browser


def test_every_page_the_office_reads_passes_axe(world, client, live_server, page):
    client.force_login(getattr(world, PERSONA))
    found: dict[str, list[dict]] = {}
    checked = 0
    for param in READ_BY_THE_OFFICE:
        case = param.values[0]
        with transaction.atomic():
            scene = Scene(world, PERSONA, client)
            try:
                if case.setup is not None:
                    case.setup(scene)
                response = client.get(case.url(scene))
            finally:
                scene.close()
            transaction.set_rollback(True)
        if (
            response.status_code != 200
            or getattr(response, "streaming", False)
            or "html" not in response.get("Content-Type", "")
        ):
            continue  # a file or a JSON answer: nothing for axe
        # The live server as the base; no transitions, so axe reads the colours the page settles on
        # (set_content shows a page at once: a link's colour would be read halfway through its fade).
        base = f'<base href="{live_server.url}/"><style>*{{transition:none!important}}</style>'
        html = re.sub(r"<head([^>]*)>", rf"<head\1>{base}", response.content.decode(), count=1)
        page.set_content(html, wait_until="load")
        checked += 1
        violations = axe_violations(page)
        if violations:
            found[f"{case.route}:{case.label}"] = violations
    assert checked > 40  # the walk reaches the harness's pages, not a handful
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
