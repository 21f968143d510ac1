"""Every page the permission harness lists, read by the discipline office in the Chinese UI (the
default), says nothing in English and shows no internal code (issue 16: "导出: archive · ZIP",
``unit-register.pdf``, ``yunling-scjgj``). The browser walk (test_browser_accessibility.py) reads
each persona's main pages at two widths; this one reads every GET route of tests/harness.py that
the office may open — inbox, coaching, control runs, the print views included — from the HTML the
server sends: the text of its elements (not scripts, styles or hidden templates) and, for a JSON
answer such as the coaching's, its strings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from risk_registry.organisation.models import Institution
from tests.harness import CASES, Scene

pytestmark = pytest.mark.django_db

PERSONA = "discipline"
# Latin that may stand on a Chinese page, each for a reason: file types known by these names (the
# upload fields list them: PDF、PNG、JPEG 或 Word（docx）; .xlsx files), the units of sizes, the hash's
# name, the language switcher's own "English", and "XX" as source documents write it in a title
# (《XX县区环保局廉政风险点分类分级说明》, quoted as published).
ALLOWED_WORDS = frozenset(
    {"PDF", "Excel", "ZIP", "KB", "MB", "SHA", "English", "PNG", "JPEG", "Word", "docx", "xlsx", "XX"}
)
WORD = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]{2,}")
SKIPPED_ELEMENTS = frozenset({"script", "style", "template", "noscript", "code"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class _Text(HTMLParser):
    """The text a reader can see: element text outside scripts, styles, templates and code (a hash)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not SKIPPED_ELEMENTS.intersection(self.stack):
            self.parts.append(data)


def visible_text(response) -> str:
    content = response.content.decode()
    if "json" in response.get("Content-Type", ""):
        strings: list[str] = []

        def walk(value):
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(json.loads(content))
        return "\n".join(strings)
    parser = _Text()
    parser.feed(content)
    return " ".join(parser.parts)


def foreign_words(text: str, codes: set[str]) -> list[str]:
    found = [code for code in codes if code in text]
    return found + [word for word in WORD.findall(text) if word not in ALLOWED_WORDS]


READ_BY_THE_OFFICE = [
    pytest.param(case, id=f"{case.route}:{case.label}")
    for case in CASES
    if case.method == "get" and case.expected[PERSONA] == 200
]


@pytest.mark.parametrize("case", READ_BY_THE_OFFICE)
def test_the_office_reads_every_page_in_chinese(world, client, case):
    client.force_login(getattr(world, PERSONA))
    scene = Scene(world, PERSONA, client)
    try:
        if case.setup is not None:
            case.setup(scene)
        response = client.get(case.url(scene))
        assert response.status_code == 200
        if getattr(response, "streaming", False) or not any(
            kind in response.get("Content-Type", "") for kind in ("html", "json")
        ):
            return  # a file (its name and contents have their own tests)
        codes = {code for code in Institution.objects.values_list("code", flat=True) if "-" in code}
        assert sorted(set(foreign_words(visible_text(response), codes))) == []
    finally:
        scene.close()


def test_the_scan_sees_english_and_codes():
    """The scan itself: an English word and an institution code are found, Chinese and file types not."""
    assert foreign_words("导出: archive · ZIP", set()) == ["archive"]
    assert foreign_words("云岭 yunling-scjgj", {"yunling-scjgj"})[0] == "yunling-scjgj"
    assert foreign_words("下载 Excel · PDF · 12 KB", set()) == []
    parser = _Text()
    parser.feed("<p>台账<script>var x = 'hidden';</script><code>abcdef</code></p>")
    assert " ".join(parser.parts).strip() == "台账"
    assert len(READ_BY_THE_OFFICE) > 50  # the walk reaches the harness's pages, not a handful


def test_a_point_under_revision_reads_in_chinese(world, client):
    """The page the office lands on after 重新修订 (not in the harness as a state of its own)."""
    from risk_registry.models import RiskPoint, RiskPointState
    from risk_registry.workflow.transitions import Change, transition_apply

    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.ISSUED)
    transition_apply(by=world.discipline, name="revise", changes=[Change(world.submitted.pk)], reason="措施需细化")
    client.force_login(world.discipline)
    response = client.get(f"/risks/{world.submitted.pk}/")
    text = visible_text(response)
    assert "修订中" in text and "措施需细化" in text
    assert foreign_words(text, {"bureau-a", "bureau-b", "county-jw"}) == []
