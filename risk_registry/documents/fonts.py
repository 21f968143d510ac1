"""The documents' own CJK font: Noto Serif CJK SC cut down to what the product prints, built once.

Debian's Noto Serif CJK comes as two collections (Regular 26 MB, Bold 27 MB) of five faces sharing
65,535 glyphs. WeasyPrint copies the whole collection into memory for each face it embeds and
subsets it there: about 110 MiB of every PDF process, whatever the document's size
(docs/performance.md, "PDF, round 3"). ``build_document_fonts`` (``manage.py build_document_fonts``,
run by ``make run`` and ``make test``; never at request time) extracts the SC face of each weight
with fontTools and keeps the characters of ``printed_characters``: GB 2312's 6,763 Hanzi (GB 18030's
level 1 and 2) and symbols, Latin and the punctuation and symbol blocks, 5 MB a weight. The files
go to ``settings.RISK_REGISTRY_FONTS_DIR`` (``var/fonts/``) with Noto's licence (SIL OFL 1.1, which
allows a subset; the subset is renamed ``FAMILY`` so it is never taken for the full font).

A document names ``FAMILY`` first (``pdf.cjk_font``) and loads it by ``@font-face``
(``font_face_css``); the installed Noto CJK and the fallbacks for rare characters follow it in the
stack, so a character the subset lacks is still printed by the font that printed it before, and
the missing-glyph check (the union of the installed fonts) is unchanged. Without the built files
(``make`` not run) documents print with the installed Noto as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

FAMILY = "RR Noto Serif CJK SC"  # "Noto Serif CJK SC" in it: the PDFs name the font they embed
SOURCE_FACE = "Noto Serif CJK SC"
LICENCE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
MANIFEST = "fonts.json"
FORMAT = 1  # raise when the characters or the options change: the files are then built again


@dataclass(frozen=True)
class Weight:
    css: str  # the @font-face font-weight
    source: str  # Debian's collection
    file: str  # the built font in RISK_REGISTRY_FONTS_DIR


WEIGHTS = (
    Weight("normal", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "rr-noto-serif-cjk-sc-regular.otf"),
    Weight("bold", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", "rr-noto-serif-cjk-sc-bold.otf"),
)
# Blocks kept whole (what Noto has of them): Latin, general punctuation, letter-like symbols,
# number forms, arrows, mathematical operators, enclosed numbers, box drawing and geometric shapes,
# CJK symbols and punctuation, full-width forms.
BLOCKS = (
    (0x0020, 0x024F),
    (0x2000, 0x206F),
    (0x2100, 0x21FF),
    (0x2200, 0x22FF),
    (0x2460, 0x25FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
)


def printed_characters() -> set[int]:
    """The code points the subset keeps: every character GB 2312 encodes (GB 18030's level 1 and
    2 Hanzi, 6,763, and its symbols) and the blocks of ``BLOCKS``."""
    kept = {code for first, last in BLOCKS for code in range(first, last + 1)}
    for code in range(0x00A0, 0x10000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        kept.add(code)
    return kept


def _fonts_dir() -> Path:
    return Path(settings.RISK_REGISTRY_FONTS_DIR)


def _source_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _manifest() -> dict:
    try:
        return json.loads((_fonts_dir() / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _subset(weight: Weight, out: Path) -> int:
    """The SC face of ``weight.source`` cut to ``printed_characters`` and renamed ``FAMILY``,
    written to ``out``; returns its number of characters."""
    # imported here: only the build needs the subsetter, and loading it costs every process 0.3 s
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs every glyph's name at INFO
    collection = TTCollection(weight.source, lazy=True)
    names = [face["name"].getDebugName(1) for face in collection.fonts]
    font = collection.fonts[names.index(SOURCE_FACE)]
    keep = printed_characters() & set(font.getBestCmap())
    options = subset.Options()
    options.layout_features = ["*"]  # vertical and full-width forms, as the full font
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=keep)
    subsetter.subset(font)
    style = "Bold" if weight.css == "bold" else "Regular"
    postscript = FAMILY.replace(" ", "") + "-" + style
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} {style}"
        elif record.nameID in (3, 6):
            record.string = postscript
    font.save(str(out))
    return len(keep)


def build_document_fonts(*, force: bool = False) -> list[str]:
    """Build the documents' fonts into ``RISK_REGISTRY_FONTS_DIR`` unless they are there already,
    made from the same Debian files; returns what was done, a line each. Writes each file under a
    temporary name and renames it, and the manifest last, so a reader never sees half a font."""
    folder = _fonts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    missing = [weight.source for weight in WEIGHTS if not Path(weight.source).is_file()]
    if missing:
        return [f"not built: {', '.join(missing)} missing (Debian's fonts-noto-cjk)"]
    digests = {weight.file: _source_digest(weight.source) for weight in WEIGHTS}
    manifest = _manifest()
    if (
        not force
        and manifest.get("format") == FORMAT
        and manifest.get("sources") == digests
        and all((folder / weight.file).is_file() for weight in WEIGHTS)
    ):
        return [f"up to date: {folder}"]
    done = []
    characters = {}
    for weight in WEIGHTS:
        partial = folder / (weight.file + ".part")
        characters[weight.file] = _subset(weight, partial)
        partial.replace(folder / weight.file)
        done.append(f"built {folder / weight.file}: {characters[weight.file]:,} characters from {weight.source}")
    if LICENCE.is_file():
        shutil.copyfile(LICENCE, folder / "NOTO-CJK-COPYRIGHT.txt")
    record = {"format": FORMAT, "family": FAMILY, "sources": digests, "characters": characters}
    partial = folder / (MANIFEST + ".part")
    partial.write_text(json.dumps(record, indent=1), encoding="utf-8")
    partial.replace(folder / MANIFEST)
    font_face_css.cache_clear()
    build_id.cache_clear()
    return done


@functools.cache
def build_id() -> str:
    """The built fonts' identity (the SHA-256 of their manifest: the format and the Debian files
    they were made from), ``""`` when they are not built; read once per process."""
    manifest = _manifest()
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest() if manifest else ""


@functools.cache
def font_face_css() -> str:
    """The ``@font-face`` rules of the built fonts, or ``""`` when they are not built (read once
    per process; the manifest is written last, so its presence means the files are whole)."""
    folder = _fonts_dir()
    if _manifest().get("format") != FORMAT or not all((folder / weight.file).is_file() for weight in WEIGHTS):
        return ""
    return "".join(
        f'@font-face {{ font-family: "{FAMILY}"; font-weight: {weight.css}; '
        f'src: url("{(folder / weight.file).resolve().as_uri()}"); }}\n'
        for weight in WEIGHTS
    )
