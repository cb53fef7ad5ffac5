"""manage.py screen FILE.json [--format json|text]: evaluate a facts document.

The same evaluation as POST /api/screening/evaluate, with ULNs missing from the document
filled from the reference ranges. Invalid input: the field errors on stderr, exit 2.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from core import numbers
from screening.engine import evaluation_to_text
from screening.evaluation import evaluate_document


class Command(BaseCommand):
    help = "Evaluate a screening facts document (JSON) against the trial inclusion criteria."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", help='Facts document (JSON); "-" reads standard input.')
        parser.add_argument("--format", choices=("json", "text"), default="json")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            if path == "-":
                text = (options.get("stdin") or sys.stdin).read()
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2)
        try:
            doc = numbers.loads(text)
        except (ValueError, RecursionError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}", returncode=2)
        errors, evaluation, _filled = evaluate_document(doc)
        if errors:
            for error in errors:
                self.stderr.write(f"{error.path or '(document)'}: {error.message}")
            raise CommandError(f"{len(errors)} field error(s) in {path}", returncode=2)
        if options["format"] == "text":
            self.stdout.write(evaluation_to_text(evaluation), ending="")
        else:
            self.stdout.write(json.dumps(evaluation.to_dict(), indent=2, ensure_ascii=False))
