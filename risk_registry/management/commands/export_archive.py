"""``python manage.py export_archive --institution CODE --year YEAR --out DIR``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from risk_registry.documents import services
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import Institution


class Command(BaseCommand):
    help = (
        "Write the annual archive of an institution: a zip with every form in Excel and PDF (the year's "
        "points except drafts), every filed version (PDF and its frozen JSON), 文件清单.json (the manifest) and "
        "SHA256校验值.txt (check with: sha256sum -c SHA256校验值.txt); every name is Chinese."
    )

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Institution code.")
        parser.add_argument("--year", type=int, required=True, help="Year.")
        parser.add_argument("--out", required=True, help="Folder to write the zip into.")

    def handle(self, *args, institution, year, out, **options):
        found = Institution.objects.filter(code=institution).select_related("grading_scheme").first()
        if found is None:
            raise CommandError(f"No institution with the code {institution!r}.")
        try:
            path, manifest = services.archive_write(institution=found, year=year, out_dir=Path(out))
        except DocumentUnavailable as error:
            raise CommandError(str(error)) from error
        for item in manifest["files"]:
            self.stdout.write(f"{item['sha256']}  {item['name']}")
        for item in manifest["skipped"]:
            self.stdout.write(f"skipped {item['name']}: {item['reason']}")
        self.stdout.write(f"{path} ({len(manifest['files'])} files, {manifest['points']} risk points)")
