"""The three catalogues (职权目录, 流程图, 制度目录) as Excel and PDF documents: requested by POST, named
in Chinese, audited, filled only with what the reader may see and what is in force."""

from __future__ import annotations

import datetime
import io
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from controls import services as rule_services
from controls.models import Control
from positions.models import PowerItem
from risk_registry import services
from risk_registry.documents import catalogues, pdf
from risk_registry.documents.pdf import installed_cjk_families
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db


def _cells(data: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(data))
    return [str(c) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]


def _export(client, world, kind, fmt="xlsx"):
    return client.post(reverse("catalogue_export", args=[world.a.code]), {"kind": kind, "fmt": fmt})


def test_power_catalogue_in_excel_has_the_powers_in_force_and_a_chinese_name(world, login):
    PowerItem.objects.filter(pk=world.power.pk).update(discretion="一般情形：5个工作日", responsible_subject="审批科")
    retired = PowerItem.objects.create(institution=world.a, name="已取消的审批", category=world.power.category)
    services.power_item_retire(item=retired, on=datetime.date(2026, 2, 1), reason="取消", by=world.discipline)
    response = _export(login(world.discipline), world, "powers")
    assert response.status_code == 200
    disposition = unquote(response["Content-Disposition"])
    assert "甲局-职权目录-" in disposition and disposition.endswith(".xlsx")
    cells = _cells(response.content)
    assert "甲局职权目录" in cells[0]
    assert {"企业登记审批", "《行政许可法》", "一般情形：5个工作日", "审批科·审批岗、审批科·复核岗"} <= set(cells)
    assert "已取消的审批" not in cells
    entry = AuditEntry.objects.get(action="catalogue.export")
    assert entry.actor == world.discipline and entry.changes == {"catalogue": "powers", "format": "xlsx", "rows": 1}


def test_flow_catalogue_has_one_sheet_per_power_with_its_steps(world, login):
    response = _export(login(world.holder), world, "flows")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["1. 企业登记审批"]
    cells = _cells(response.content)
    assert [c for c in cells if c in ("受理", "审查", "决定", "送达")] == ["受理", "审查", "决定", "送达"]
    assert "违规简化审批程序" not in cells  # no risk points in a catalogue


def test_rule_catalogue_lists_rules_in_force_with_their_controls(world, login):
    rule = rule_services.rule_create(institution=world.a, title="审批工作规程", document_number="甲局发〔2025〕3号")
    gone = rule_services.rule_create(institution=world.a, title="旧制度")
    services.rule_repeal(rule=gone, on=datetime.date(2026, 1, 2), reason="过时")
    Control.objects.filter(risk_point=world.submitted).update(rule=rule)
    cells = _cells(_export(login(world.discipline), world, "rules").content)
    assert {"审批工作规程", "甲局发〔2025〕3号", "全单位"} <= set(cells)
    assert "旧制度" not in cells


def test_a_get_writes_nothing_and_outsiders_get_404(world, login):
    client = login(world.discipline)
    assert client.get(reverse("catalogue_export", args=[world.a.code])).status_code == 405
    assert _export(login(world.outsider), world, "powers").status_code == 404
    assert not AuditEntry.objects.filter(action="catalogue.export").exists()


def test_a_bad_request_is_refused_with_a_message(world, login):
    client = login(world.discipline)
    response = client.post(
        reverse("catalogue_export", args=[world.a.code]), {"kind": "secrets", "fmt": "docx"}, follow=True
    )
    assert response.status_code == 200 and list(response.context["messages"])
    assert not AuditEntry.objects.filter(action="catalogue.export").exists()


@pytest.mark.skipif(not installed_cjk_families(), reason="no CJK font installed")
@pytest.mark.parametrize("kind", ["powers", "flows", "rules"])
def test_catalogues_render_as_pdf(world, login, kind):
    response = _export(login(world.discipline), world, kind, fmt="pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.skipif(not installed_cjk_families(), reason="no CJK font installed")
def test_the_flow_pdf_draws_each_powers_chart_above_its_table(world):
    from_today = datetime.date(2026, 6, 1)
    items = PowerItem.objects.filter(institution=world.a)
    document = catalogues.flow_catalogue(institution=world.a, items=items, today=from_today, charts=True)
    chart = document.figures["1. 企业登记审批"]
    assert chart.count("<rect") == 4 and "2. 审查" in chart and "Noto" in chart
    html = pdf.render_html(form=document.form, header=document.header, rows=document.rows, figures=document.figures)
    assert html.index("<svg") < html.index("<table")
    assert not catalogues.flow_catalogue(institution=world.a, items=items, today=from_today).figures  # Excel
