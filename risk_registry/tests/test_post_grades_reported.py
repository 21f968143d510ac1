"""Post grades A/B/C (篇5) beyond their own page (issue 12): a list of them with their supervision in
the annual archive, and the number of grade A posts per institution in the county's comparison."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from risk_registry import services
from risk_registry.models import PostGrade, RiskPoint, RiskPointState
from risk_registry.organisation.models import Role
from risk_registry.organisation.services import membership_grant

pytestmark = pytest.mark.django_db


def _graded(world):
    """Bureau A's posts proposed from their points, one decided A with a reason, one confirmed."""
    RiskPoint.objects.filter(institution=world.a).exclude(state=RiskPointState.DRAFT).update(
        state=RiskPointState.ISSUED
    )
    services.post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grades = list(PostGrade.objects.filter(institution=world.a, year=2026).select_related("position", "institution"))
    approval = next(g for g in grades if g.position_id == world.position.pk)
    services.post_grade_decide(
        by=world.discipline,
        grade=approval,
        decided="A",
        reason="审批权集中" if approval.proposed != "A" else "",
    )
    return {g.position_id: g for g in PostGrade.objects.filter(institution=world.a, year=2026)}


def test_the_archive_lists_the_post_grades_with_their_supervision(world, tmp_path):
    grades = _graded(world)
    call_command("export_archive", institution="bureau-a", year=2026, out=str(tmp_path))
    (path,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(path) as archive:
        (listing,) = [name for name in archive.namelist() if name.endswith("/文件清单.json")]
        manifest = json.loads(archive.read(listing))
        entry = next(item for item in manifest["files"] if item["name"].endswith("_岗位风险等级.xlsx"))
        assert entry["posts"] == len(grades) and "监管主体" in entry["form"]
        sheet = load_workbook(io.BytesIO(archive.read(entry["name"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "甲局2026年" in rows[0][0]
    header = rows[1]
    by_title = {row[header.index("岗位")]: row for row in rows[2:]}
    approval = by_title["审批岗"]
    assert approval[header.index("核定等级")] == "A"
    assert approval[header.index("监管主体")] == grades[world.position.pk].get_supervision_display()
    assert approval[header.index("核定人")] == "钱纪检"
    undecided = by_title["会计岗"]
    assert undecided[header.index("核定等级")] == "待核定" and undecided[header.index("核定人")] in ("", None)
    assert len(by_title) == len(grades)


def test_the_comparison_counts_grade_a_posts_and_links_the_post_grades(world, login):
    grades = _graded(world)
    expected = sum(1 for g in grades.values() if (g.grade or g.proposed) == "A")
    assert expected >= 1
    page = login(world.superior).get("/dashboards/oversight/?year=2026").content.decode()
    assert "A类岗位数" in page
    row = _row(page, "bureau-a")
    assert re.search(r'<span data-testid="a-posts">(\d+)</span>', row).group(1) == str(expected)
    # the office that decides the grades gets a link to them (the superior office reads the count)
    membership_grant(user=world.holder2, institution=world.county, role=Role.DISCIPLINE)
    row = _row(login(world.holder2).get("/dashboards/oversight/?year=2026").content.decode(), "bureau-a")
    found = re.search(r'<a href="([^"]+)" data-testid="a-posts">(\d+)</a>', row)
    assert found and int(found.group(2)) == expected and found.group(1) == "/org/bureau-a/post-grades/2026/"
    assert login(world.holder2).get(found.group(1)).status_code == 200


def _row(page: str, code: str) -> str:
    row = page[page.index(f'data-code="{code}"') :]
    return row[: row.index("</tr>")]
