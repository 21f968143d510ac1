"""The Chinese catalog is complete, compiled and current, and the pages really speak it.

Chinese (zh-hans) is the product's default language and English its source language. When a test
here fails after you added or changed a UI string, refresh the catalogs, translate, and compile:

    .venv/bin/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var \\
        --ignore=static/vendor --no-obsolete
    (translate the new entries of locale/zh_Hans/LC_MESSAGES/django.po, remove any "fuzzy" flag)
    .venv/bin/python manage.py compilemessages --ignore=.venv

The catalog is read with a small parser of our own: no translation library is needed at runtime.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# The folders makemessages is told to skip (see the module docstring).
IGNORED_DIRS = {".venv", "var", "node_modules", ".git"}
IGNORED_PREFIXES = (BASE_DIR / "static" / "vendor",)
REFRESH_HINT = "refresh and translate the catalog (see the docstring of tests/test_translations.py)"


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def __str__(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def parse_po(path: Path) -> tuple[Entry, list[Entry]]:
    """The header entry and the message entries of a .po file (obsolete ``#~`` entries skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # which string the continuation lines extend
    seen_msgstr = False

    def append(text: str) -> None:
        assert current is not None and target is not None
        name, index = target
        if name == "msgstr":
            current.msgstr[index or 0] = current.msgstr.get(index or 0, "") + text
        else:
            setattr(current, name, (getattr(current, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#"):
            if current is None or seen_msgstr:  # a comment opens the next entry
                current, seen_msgstr = Entry(line=number), False
                entries.append(current)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            target = None
            continue
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: a string continues nothing"
            append(_unescape(line[1:-1]))
            continue
        match = _KEYWORD.match(line)
        assert match, f"{path}:{number}: cannot read {raw!r}"
        keyword, index, text = match.groups()
        if keyword in ("msgctxt", "msgid") and (current is None or seen_msgstr):
            current, seen_msgstr = Entry(line=number), False
            entries.append(current)
        assert current is not None
        if keyword.startswith("msgstr"):
            seen_msgstr = True
            target = ("msgstr", int(index) if index is not None else 0)
            current.msgstr.setdefault(target[1], "")
        else:
            target = (keyword, None)
            if getattr(current, keyword) is None:
                setattr(current, keyword, "")
        append(_unescape(text))
    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(headers) == 1, f"{path}: expected one header entry, found {len(headers)}"
    return headers[0], [e for e in entries if e is not headers[0]]


@pytest.fixture(scope="module")
def catalog() -> tuple[Entry, list[Entry]]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: {REFRESH_HINT}"
    return parse_po(PO_PATH)


def _nplurals(header: Entry) -> int:
    match = re.search(r"^Plural-Forms:\s*nplurals=(\d+);", header.msgstr.get(0, ""), re.MULTILINE)
    assert match, "the catalog header has no Plural-Forms"
    return int(match.group(1))


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


# --- (a) complete -------------------------------------------------------------------------------


def test_catalog_header_is_chinese_with_one_plural_form(catalog):
    header, _entries = catalog
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    assert re.search(r"^Language: zh_Hans$", header.msgstr[0], re.MULTILINE)
    assert re.search(r"^Plural-Forms: nplurals=1; plural=0;$", header.msgstr[0], re.MULTILINE)
    assert "charset=UTF-8" in header.msgstr[0]


def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    header, entries = catalog
    nplurals = _nplurals(header)
    assert len(entries) > 100, "the catalog looks truncated"
    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"{entry}: fuzzy")
        expected = range(nplurals) if entry.msgid_plural is not None else range(1)
        if any(not entry.msgstr.get(i, "").strip() for i in expected):
            problems.append(f"{entry}: not translated")
    assert not problems, f"{len(problems)} problems, {REFRESH_HINT}:\n" + "\n".join(problems)


def test_translations_keep_their_placeholders(catalog):
    _header, entries = catalog
    problems = []
    for entry in entries:
        if "python-format" not in entry.flags:
            continue
        wanted = sorted(set(_PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or ""))))
        for index, text in entry.msgstr.items():
            if text and sorted(set(_PLACEHOLDER.findall(text))) != wanted:
                problems.append(f"{entry}: msgstr[{index}] {text!r} should use {wanted}")
    assert not problems, "\n".join(problems)


def test_catalog_has_no_duplicate_messages(catalog):
    _header, entries = catalog
    keys = [entry.key for entry in entries]
    assert len(keys) == len(set(keys))


# --- (b) compiled -------------------------------------------------------------------------------


def test_compiled_catalog_matches_the_po(catalog):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "zh_Hans"
    _header, entries = catalog
    stale = []
    for entry in entries:
        if entry.msgid_plural is not None:
            for n in (1, 2, 5):
                got = (
                    compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt is not None
                    else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                )
                if got != entry.msgstr[0]:
                    stale.append(f"{entry} (n={n}): .mo has {got!r}, .po has {entry.msgstr[0]!r}")
        else:
            got = (
                compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt is not None
                else compiled.gettext(entry.msgid)
            )
            if got != entry.msgstr[0]:
                stale.append(f"{entry}: .mo has {got!r}, .po has {entry.msgstr[0]!r}")
    assert not stale, "the .mo is out of date, run compilemessages:\n" + "\n".join(stale)


# --- (c) current ----------------------------------------------------------------------------------


def _project_files(pattern: str) -> list[Path]:
    return sorted(
        path
        for path in BASE_DIR.glob(pattern)
        if not IGNORED_DIRS.intersection(path.relative_to(BASE_DIR).parts)
        and not any(path.is_relative_to(prefix) for prefix in IGNORED_PREFIXES)
    )


_TRANSLATE_TAG = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<msgid>.*?)(?P=q)"""
    r"""(?:\s+context\s+(?P<cq>["'])(?P<context>.*?)(?P=cq))?[^%]*%\}""",
    re.DOTALL,
)
_BLOCK_TAG = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)\b(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*(?:endblocktranslate|endblocktrans)\s*%\}",
    re.DOTALL,
)
_BLOCK_CONTEXT = re.compile(r"""\bcontext\s+(?P<q>["'])(?P<context>.*?)(?P=q)""")
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_PLURAL_TAG = re.compile(r"\{%\s*plural\s*%\}")


def _block_msgid(text: str, trimmed: bool) -> str:
    """What makemessages extracts from a blocktranslate body: ``{{ n }}`` → ``%(n)s``, ``%`` → ``%%``."""
    if trimmed:
        text = re.sub(r"\s*\n\s*", " ", text.strip())
    return _VARIABLE.sub(r"%(\1)s", text.replace("%", "%%"))


def template_messages() -> list[tuple[str, str | None, str]]:
    """(where, context, msgid) of every translate and blocktranslate tag in the project's templates."""
    found = []
    for path in _project_files("**/templates/**/*.html"):
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(BASE_DIR))
        for match in _TRANSLATE_TAG.finditer(source):  # "noop" and "as var" strings are extracted too
            found.append((where, match.group("context"), match.group("msgid")))
        for match in _BLOCK_TAG.finditer(source):
            args = match.group("args")
            context = _BLOCK_CONTEXT.search(args)
            trimmed = re.search(r"\btrimmed\b", args) is not None
            for part in _PLURAL_TAG.split(match.group("body")):
                found.append((where, context.group("context") if context else None, _block_msgid(part, trimmed)))
    return found


def test_template_scan_finds_the_known_strings():
    """Guards the regexes below: if they stopped matching, the staleness test would pass vacuously."""
    msgids = {msgid for _where, _context, msgid in template_messages()}
    assert {"Integrity Risk Registry", "Log in", "Risk points"} <= msgids
    assert "%(counter)s risk point" in msgids


def test_every_template_string_is_in_the_catalog(catalog):
    _header, entries = catalog
    known = {entry.key for entry in entries} | {(e.msgctxt, e.msgid_plural) for e in entries if e.msgid_plural}
    missing = sorted(
        {f"{where}: {msgid!r}" for where, context, msgid in template_messages() if (context, msgid) not in known}
    )
    assert not missing, f"{len(missing)} template strings are not in {PO_PATH.name}, {REFRESH_HINT}:\n" + "\n".join(
        missing
    )


_GETTEXT_NAMES = {
    "_": (0, None, None),
    "gettext": (0, None, None),
    "gettext_lazy": (0, None, None),
    "gettext_noop": (0, None, None),
    "ngettext": (0, 1, None),
    "ngettext_lazy": (0, 1, None),
    "pgettext": (1, None, 0),
    "pgettext_lazy": (1, None, 0),
    "npgettext": (1, 2, 0),
    "npgettext_lazy": (1, 2, 0),
}


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def python_messages() -> list[tuple[str, str | None, str]]:
    """(where, context, msgid) of every gettext call with literal arguments in the project's Python."""
    found = []
    for path in _project_files("**/*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in _GETTEXT_NAMES:
                continue
            singular, plural, context = _GETTEXT_NAMES[name]
            args = node.args
            if len(args) <= max(i for i in (singular, plural, context) if i is not None):
                continue
            context_text = _literal(args[context]) if context is not None else None
            if context is not None and context_text is None:
                continue
            where = f"{path.relative_to(BASE_DIR)}:{node.lineno}"
            for index in (singular, plural):
                if index is not None and (text := _literal(args[index])) is not None:
                    found.append((where, context_text, text))
    return found


def test_every_python_string_is_in_the_catalog(catalog):
    _header, entries = catalog
    known = {entry.key for entry in entries} | {(e.msgctxt, e.msgid_plural) for e in entries if e.msgid_plural}
    found = python_messages()
    assert any(msgid == "Prevention" for _where, _context, msgid in found), "the Python scan found nothing"
    missing = sorted({f"{where}: {msgid!r}" for where, context, msgid in found if (context, msgid) not in known})
    assert not missing, f"{len(missing)} Python strings are not in {PO_PATH.name}, {REFRESH_HINT}:\n" + "\n".join(
        missing
    )


# --- (d) served -----------------------------------------------------------------------------------


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.django_db
def test_login_page_defaults_to_chinese(client):
    page = _text(client.get(reverse("login")))
    assert '<html lang="zh-hans">' in page
    assert "廉政风险防控管理平台" in page
    assert "用户名" in page and "密码" in page and "登录" in page
    assert "Integrity Risk Registry" not in page


def test_logged_in_pages_default_to_chinese(client, world):
    client.force_login(world.holder)
    home = _text(client.get(reverse("home")))
    assert "廉政风险防控管理平台" in home
    assert "风险点" in home
    assert "我的岗位" in home and "退出" in home
    assert "Integrity Risk Registry" not in home and "Log out" not in home

    # Choices and form labels from models and forms (gettext_lazy) are translated too.
    listing = _text(client.get(reverse("risk_point_list")))
    assert "风险类型" in listing and "草稿" in listing and "已自查上报" in listing
    assert "Risk type" not in listing and "Draft" not in listing


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client, world):
    """Chinese first (risk_registry.web.middleware.DefaultLanguageMiddleware): the browser's
    Accept-Language is ignored; only the switcher's cookie selects English."""
    client.force_login(world.holder)
    page = _text(client.get(reverse("home"), headers={"accept-language": "en"}))
    assert '<html lang="zh-hans">' in page
    assert "廉政风险防控管理平台" in page
    assert "Integrity Risk Registry" not in page


def test_language_switcher_sets_english_then_back_to_chinese(client, world):
    client.force_login(world.holder)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = _text(client.get(reverse("home")))
    assert "Integrity Risk Registry" in page and "My positions" in page
    assert "廉政风险防控管理平台" not in page

    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})
    page = _text(client.get(reverse("home")))
    assert "廉政风险防控管理平台" in page and "我的岗位" in page
