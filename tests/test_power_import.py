"""The power inventory (职权目录) from Excel: the template, a good file imported through the
inventory's services (audited, points flagged), every bad file refused with its problems by row
and column and the database unchanged, the guarded reader's refusals, who may import."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from positions.models import PowerItem
from risk_registry.documents import power_import
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "职权名称",
    "职权类别",
    "承办科室",
    "行使岗位",
    "行使依据",
    "责任主体",
    "服务承诺和工作纪律",
    "裁量权基准",
]


def workbook_bytes(rows, *, header=HEADER, hide_row: int | None = None, hidden_sheet_first=False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if hidden_sheet_first:
        sheet.title = "旧表"
        sheet.append(HEADER)
        sheet.append([1, "隐藏表中的职权", "其他"])
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("职权目录")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if hide_row:
        sheet.row_dimensions[hide_row].hidden = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_rows():
    return [
        # the existing power: its discretion benchmark and a third post are new
        [
            1,
            "企业登记审批",
            "行政审批(许可)",
            "审批科",
            "审批岗、复核岗、会计岗",
            "《行政许可法》",
            "甲局",
            "",
            "一般：5日；复杂：10日",
        ],
        # a new power of the finance office
        [2, "大额资金支付审批", "财务资金资产管理", "财务股", "财务股·会计岗", "《会计法》", "财务股", "当日办结", ""],
    ]


def upload(client, world, data: bytes, name="职权目录.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("power_import", args=[world.a.code]), {"file": file})


def snapshot():
    return (
        list(PowerItem.objects.order_by("pk").values_list("pk", "name", "discretion", "department_id")),
        AuditEntry.objects.count(),
        RiskPoint.objects.filter(needs_regrading=True).count(),
    )


def test_the_template_has_chinese_headers_and_a_category_drop_down(world, login):
    client = login(world.discipline)
    response = client.get(reverse("power_import_template", args=[world.a.code]))
    assert response.status_code == 200
    assert "%E8%81%8C%E6%9D%83%E7%9B%AE%E5%BD%95" in response["Content-Disposition"]  # 职权目录 in the name
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["职权目录"]
    assert [cell.value for cell in sheet[1]] == HEADER
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert validations["C2:C1000"].type == "list"
    assert validations["C2:C1000"].formula1 == "'可选值'!$A$2:$A$6"
    choices = [row[0].value for row in workbook["可选值"].iter_rows(min_row=2, max_row=6)]
    assert choices == ["行政审批(许可)", "行政执法(处罚、强制、征收)", "干部人事管理", "财务资金资产管理", "其他"]
    # the template read back is a file with a header and no rows
    read = power_import.read_rows(response.content, layout=power_import.LAYOUT)
    assert read.rows == [] and read.sheet == "职权目录"


def test_a_good_file_previews_then_imports_through_the_services(world, login):
    client = login(world.discipline)
    before = snapshot()
    response = upload(client, world, workbook_bytes(good_rows()))
    assert response.status_code == 200
    result = response.context["result"]
    assert result.ok and (result.new_count, result.changed_count) == (1, 1)
    assert snapshot() == before  # a preview writes nothing
    assert "行使岗位" in response.context["result"].planned[0].changed
    token = response.context["token"]
    response = client.post(reverse("power_import_confirm", args=[world.a.code]), {"token": token})
    assert response.status_code == 302
    existing = PowerItem.objects.get(pk=world.power.pk)
    assert existing.discretion == "一般：5日；复杂：10日"
    assert set(existing.positions.all()) == {world.position, world.position2, world.position3}
    new = PowerItem.objects.get(institution=world.a, name="大额资金支付审批")
    assert new.department == world.finance and list(new.positions.all()) == [world.position3]
    assert new.category.code == "finance" and new.commitment == "当日办结"
    # audited as the pages audit, and the register path flagged the points of the posts concerned
    assert AuditEntry.objects.filter(action="power_item.update", target_id=world.power.pk).exists()
    assert AuditEntry.objects.filter(action="power_item.create", target_id=new.pk, actor=world.discipline).exists()
    entry = AuditEntry.objects.get(action="power_item.import")
    assert entry.changes["created"] == 1 and entry.changes["updated"] == 1 and entry.changes["file"] == "职权目录.xlsx"
    assert RiskPoint.objects.get(pk=world.submitted.pk).needs_regrading
    assert RiskPoint.objects.get(pk=world.finance_point.pk).needs_regrading  # 会计岗 now exercises the power
    # the same file again changes nothing and writes no update entry
    response = upload(client, world, workbook_bytes(good_rows()))
    assert response.context["result"].new_count == 0 and response.context["result"].changed_count == 0


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_written(world, login):
    client = login(world.discipline)
    rows = [
        [1, "", "行政审批(许可)", "审批科", "审批岗", "", "", "", ""],
        [2, "新职权", "不存在的类别", "不存在的科室", "不存在的岗位", "", "", "", ""],
        [3, "新职权", "其他", "", "", "", "", "", ""],
        [4, "另一职权", "", "", "审批岗\u202e", "", "", "", ""],
    ]
    before = snapshot()
    response = upload(client, world, workbook_bytes(rows))
    result = response.context["result"]
    assert not result.ok and response.context["token"] == ""
    found = {(p.row, p.column) for p in result.problems}
    assert found == {
        (2, "职权名称"),  # empty name
        (3, "职权类别"),
        (3, "承办科室"),
        (3, "行使岗位"),
        (4, "职权名称"),  # duplicate of row 3
        (5, "行使岗位"),  # direction-control character
        (5, "职权类别"),  # empty category
    }
    text = response.content.decode()
    assert "未知" in text or "不存在" in text
    assert "不存在的类别" in text and "行政审批(许可)" in text  # what was found and what is expected
    assert snapshot() == before


def test_the_guarded_reader_refuses_hidden_rows_and_reads_only_the_visible_sheet(world, login):
    client = login(world.discipline)
    before = snapshot()
    response = upload(client, world, workbook_bytes(good_rows(), hide_row=3))
    problems = response.context["result"].problems
    assert len(problems) == 1 and problems[0].row is None and "3" in problems[0].message
    response = upload(client, world, workbook_bytes(good_rows(), hidden_sheet_first=True))
    result = response.context["result"]
    assert result.ok and result.sheet == "职权目录"
    assert "隐藏表中的职权" not in {p.name for p in result.planned}
    response = upload(client, world, b"not a workbook")
    assert response.context["result"].problems[0].row is None
    response = upload(client, world, workbook_bytes(good_rows(), header=["序号", "名称", "说明"]))
    assert "职权名称" in response.context["result"].problems[0].expected
    assert snapshot() == before


def test_the_file_is_checked_again_on_confirming_and_then_refused_whole(world, login):
    client = login(world.discipline)
    response = upload(client, world, workbook_bytes(good_rows()))
    token = response.context["token"]
    # between preview and confirm a second power of that name is added in force: the file no
    # longer says which one its first row means, and its second (good) row is not imported either
    PowerItem.objects.create(institution=world.a, name="企业登记审批", category=world.power.category)
    before = snapshot()
    response = client.post(reverse("power_import_confirm", args=[world.a.code]), {"token": token})
    assert response.status_code == 200 and response.context["result"].problems
    assert snapshot() == before
    assert not PowerItem.objects.filter(name="大额资金支付审批").exists()


def test_only_the_discipline_office_imports_a_whole_inventory(world, login):
    data = workbook_bytes(good_rows())
    for persona, status in ((world.head, 403), (world.holder, 403), (world.outsider, 404)):
        client = login(persona)
        assert client.get(reverse("power_import", args=[world.a.code])).status_code == status
        assert upload(client, world, data).status_code == status
        assert client.get(reverse("power_import_template", args=[world.a.code])).status_code == status
    assert not PowerItem.objects.filter(name="大额资金支付审批").exists()


def test_an_expired_or_foreign_token_imports_nothing(world, login):
    client = login(world.discipline)
    response = client.post(reverse("power_import_confirm", args=[world.a.code]), {"token": "0" * 32})
    assert response.status_code == 302
    assert not PowerItem.objects.filter(name="大额资金支付审批").exists()
