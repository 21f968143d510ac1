"""In Chromium: the discipline office filters the list, exports it from the menu (the filters
kept, downloaded at once), then a large export runs as a job with a progress bar and a link."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from config.celery import app
from conftest import PASSWORD
from risk_registry.documents import rendering
from risk_registry.documents.models import ExportJob
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.browser


def cells(path) -> str:
    with open(path, "rb") as handle:  # Playwright's download has no .xlsx suffix, which openpyxl wants
        workbook = load_workbook(io.BytesIO(handle.read()))
    return "\n".join(str(v) for s in workbook.worksheets for r in s.iter_rows(values_only=True) for v in r if v)


def test_discipline_exports_the_filtered_list_and_a_large_export_as_a_job(live_world, live_server, page, monkeypatch):
    page.goto(f"{live_server.url}/accounts/login/?next=/risks/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=risk-point-table]")).to_contain_text("虚报冒领")

    # Filter without reloading (htmx), then export: the menu takes the filters at click time.
    page.fill("#id_q", "虚报")
    page.locator("#id_q").press("Enter")
    expect(page).to_have_url(re.compile(r"q="))
    expect(page.locator("[data-testid=risk-point-table]")).not_to_contain_text("违规简化审批程序")
    page.click("[data-testid=export-menu] button")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-overview-xlsx]")
    download = download_info.value
    # A filtered list is a working copy, never the official register: its name and title say so.
    assert download.suggested_filename.endswith("廉政风险点排查及防控措施一览表-工作稿.xlsx")
    text = cells(download.path())
    assert "虚报冒领" in text and "违规简化审批程序" not in text and "（工作稿）" in text

    # A large export: a job, its progress, then the download link.
    monkeypatch.setitem(rendering.SYNC_LIMITS, "xlsx", 0)
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    page.goto(f"{live_server.url}/risks/?institution=bureau-a&year=")  # every year: a list, not a register
    page.click("[data-testid=export-menu] button")
    page.click("[data-testid=export-unit-register-xlsx]")
    expect(page.locator("[data-testid=job-status] .progress")).to_be_visible()
    link = page.locator("[data-testid=job-download]")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    text = cells(download_info.value.path())
    assert "虚报冒领" in text and "违规简化审批程序" in text and "（工作稿）" in text  # no year: a list
    job = ExportJob.objects.get(form="unit-register")
    assert job.state == ExportJob.State.DONE and job.owner == live_world.discipline
    assert AuditEntry.objects.filter(action="document.export", actor=live_world.discipline).count() == 2
    with open(job.file_path, "rb") as handle:
        load_workbook(io.BytesIO(handle.read()))
