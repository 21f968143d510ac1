"""Every page carries the Content-Security-Policy, and no page needs what it refuses: no inline
script, no inline event handler, no inline style (the pages would break under the policy)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.harness import CASES, Scene

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered to PDF by WeasyPrint, never served to a browser: the policy does not apply.
PDF_TEMPLATES = (TEMPLATES / "documents" / "pdf", TEMPLATES / "warnings" / "pdf")


class InlineCode(HTMLParser):
    """Collects what the policy refuses: scripts without src (data blocks aside), on* attributes,
    style attributes and elements."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        # A data block (Django's json_script: type="application/json") is never executed, so the
        # policy does not apply to it; any other script must come from a file.
        data_block = dict(attrs).get("type") == "application/json"
        if tag == "script" and "src" not in names and not data_block:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        self.found += [f"<{tag} {name}=…>" for name in sorted(names) if name.startswith("on") or name == "style"]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


# Pages of the harness that answer with a file, not HTML.
FILES = {
    "documents_export",
    "documents_version_export",
    "documents_job_download",
    "documents_import_template",
    "power_import_template",
    "rule_attachment",
}


def _main_pages():
    """Every page of the permission harness that some persona may open, as the first such persona."""
    for case in CASES:
        persona = next((persona for persona, status in case.expected.items() if status == 200), None)
        if case.method == "get" and persona is not None and case.route not in FILES and not case.get_writes:
            yield pytest.param(persona, case, id=f"{case.route}:{case.label}")


@pytest.mark.parametrize(("persona", "case"), list(_main_pages()))
def test_main_pages_carry_the_policy_and_no_inline_code(world, login, persona, case):
    client = login(getattr(world, persona))
    scene = Scene(world, persona, client)
    try:
        response = client.get(case.url(scene))
    finally:
        scene.close()

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY
    assert inline_code(response.content.decode()) == []


def test_the_login_and_admin_pages_carry_the_policy_and_no_inline_script(client, db, django_user_model):
    login_page = client.get(reverse("login"))
    assert login_page["Content-Security-Policy"] == settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY
    assert inline_code(login_page.content.decode()) == []

    client.force_login(django_user_model.objects.create_superuser(username="root", password="x-password-1"))
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 200
    assert admin["Content-Security-Policy"] == settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY
    assert [found for found in inline_code(admin.content.decode()) if "script" in found] == []


def test_the_policy_allows_no_inline_script_or_style():
    directives = dict(part.strip().split(" ", 1) for part in settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_no_template_has_inline_code():
    """All templates, also those no test above renders (a partial, an error page, a rarely used form)."""
    offenders = {
        str(path.relative_to(TEMPLATES)): found
        for path in sorted(TEMPLATES.rglob("*.html"))
        if not any(folder in path.parents for folder in PDF_TEMPLATES) and (found := inline_code(path.read_text()))
    }
    assert offenders == {}
