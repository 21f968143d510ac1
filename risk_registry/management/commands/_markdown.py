"""The benchmarks' one way to put their table in a Markdown file (not a command: the name starts
with an underscore)."""

from __future__ import annotations

from pathlib import Path


def write_marked_section(path: Path, *, start: str, end: str, text: str, heading: str) -> None:
    """Replace what lies between the ``start`` and ``end`` markers of ``path`` with ``text``; a file
    without them gets a new section ``heading`` with the markers at its end."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        new = head + start + "\n" + text + end + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + f"\n\n## {heading}\n\n" + start + "\n" + text + end + "\n"
    path.write_text(new, encoding="utf-8")
