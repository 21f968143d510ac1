"""In Chromium, with a real Celery worker: the import page uploads, shows the check's progress
while it waits for the worker, then the preview; the confirmation shows the write's progress, then
what was imported (issue 15 defect 2: nothing is read or written inside the web request)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from risk_registry.documents import tasks
from risk_registry.models import RiskPoint
from risk_registry.tests.test_documents_import import good_rows, workbook_bytes
from tests.test_celery_integration import Worker, own_queue, purge_and_delete, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SHOTS = os.environ.get("IMPORT_SHOTS", "")  # a folder to keep screenshots of each step in, when set


def shoot(page, name: str) -> None:
    """At desktop and phone width: nothing wider than the phone (screenshots when IMPORT_SHOTS is set)."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"import-{name}-{width}.png"), full_page=True)
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def queue(monkeypatch):
    name = own_queue(monkeypatch, tasks.import_job_run.name, "test-browser-imports")
    yield name
    purge_and_delete(name)


def test_upload_progress_preview_confirm_imported(live_world, live_server, page, tmp_path, queue):
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/documents/import/bureau-a/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    path = tmp_path / "甲局登记表.xlsx"
    path.write_bytes(workbook_bytes(good_rows()))
    page.set_input_files("#file", str(path))
    page.fill("#year", "2026")
    page.click("text=检查文件")
    status = page.locator("[data-testid=import-status]")
    expect(status).to_have_attribute("data-state", "pending")  # no worker yet: the page waits, polling
    expect(page.locator("[data-testid=import-progress]")).to_contain_text("正在读取文件")
    shoot(page, "1-waiting")
    worker = Worker(queue, tmp_path / "worker.log")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)
        expect(page.locator("[data-testid=preview]")).to_contain_text("3个风险点", timeout=30_000)
        expect(page.locator("[data-testid=import-status]")).to_contain_text("受理材料时索要好处")
        shoot(page, "2-preview")
        before = RiskPoint.objects.count()
        page.click("[data-testid=confirm]")
        expect(page.locator("[data-testid=imported]")).to_contain_text("已导入 3 个风险点", timeout=30_000)
        shoot(page, "3-imported")
        assert RiskPoint.objects.count() == before + 3
        page.click("[data-testid=imported-list]")
        page.wait_for_url("**/risks/**")
    finally:
        worker.stop()
