"""``python manage.py build_document_fonts [--force]``.

Builds the documents' own font (Noto Serif CJK SC cut down to what the product prints, Regular and
Bold) into ``var/fonts/`` from Debian's fonts-noto-cjk, unless it is built already from the same
files (``risk_registry/documents/fonts.py``). ``make run`` and ``make test`` run it; a running
product never builds it. Takes about half a minute of CPU per weight.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from risk_registry.documents.fonts import build_document_fonts


class Command(BaseCommand):
    help = "Build the documents' subset of Noto Serif CJK SC into var/fonts/ (once)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="build again even when up to date")

    def handle(self, *args, force: bool, **options):
        for line in build_document_fonts(force=force):
            self.stdout.write(line)
