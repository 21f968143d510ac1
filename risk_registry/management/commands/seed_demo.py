"""``python manage.py seed_demo [--year YYYY] [--password P]``: build the demo county 云岭县 (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from risk_registry.demo.build import default_year, demo_seed
from risk_registry.demo.data import DEFAULT_PASSWORD, ROOT_CODE
from risk_registry.demo.table import format_accounts


class Command(BaseCommand):
    help = (
        "Build a demo county (云岭县: 纪委监委, 市场监督管理局, 生态环境局, 青石镇 and two villages) with "
        "departments, positions, holders, powers, risk points and controls, plus one account per role. "
        "Does nothing when the demo already exists, and prints the accounts either way."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, default=None, help="Year of the risk points (default: this year, Asia/Shanghai)."
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password of every demo account (default: {DEFAULT_PASSWORD}).",
        )

    def handle(self, *args, year=None, password=DEFAULT_PASSWORD, **options):
        year = default_year() if year is None else year
        if not 2000 <= year <= 2100:
            raise CommandError("--year must be between 2000 and 2100.")
        if not password:
            raise CommandError("--password must not be empty.")

        result = demo_seed(year=year, password=password)

        if result.created:
            self.stdout.write(self.style.SUCCESS(f"已创建演示数据:云岭县({year} 年度)。"))
        else:
            self.stdout.write(self.style.WARNING(f"演示数据已存在(根单位 {ROOT_CODE}),未做任何修改。"))
        counts = result.counts
        self.stdout.write(
            f"单位 {counts.get('institutions', 0)} 个 · 部门 {counts.get('departments', 0)} 个 · "
            f"岗位 {counts.get('positions', 0)} 个 · 职权事项 {counts.get('power_items', 0)} 项 · "
            f"廉政风险点 {counts.get('risk_points', 0)} 个"
        )
        self.stdout.write("")
        for line in format_accounts(result.accounts):
            self.stdout.write(line)
        self.stdout.write("")
        if result.password_matches:
            self.stdout.write(f"所有演示账户的密码:{password}")
        else:
            self.stdout.write(
                self.style.WARNING("注意:演示账户的密码不是本次给出的密码;账户保留首次创建时设置的密码,本次未修改。")
            )
