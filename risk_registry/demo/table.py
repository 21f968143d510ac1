"""The account table printed by ``seed_demo``, aligned for terminals that draw CJK characters double-width."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from risk_registry.demo.build import DemoAccount

HEADERS = ("用户名", "姓名", "单位", "角色", "岗位")


def display_width(text: str) -> int:
    """Terminal columns: wide and full-width characters (汉字, full-width punctuation) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def account_rows(accounts: Iterable[DemoAccount]) -> list[tuple[str, ...]]:
    return [
        (
            account.username,
            account.full_name,
            account.institution,
            "、".join(account.roles) or "岗位人员",
            " / ".join(account.positions) or "—",
        )
        for account in accounts
    ]


def format_accounts(accounts: Iterable[DemoAccount]) -> list[str]:
    """The table as lines: a header, a rule, one line per account."""
    rows = account_rows(accounts)
    widths = [max(display_width(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()

    return [line(HEADERS), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
