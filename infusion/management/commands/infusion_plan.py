"""manage.py infusion_plan FILE.json [--format text|json]: print the MSC infusion plan.

FILE is a plan-input document (infusion/schema/plan-input.schema.json); "-" reads stdin.
Invalid input: the field errors on stderr, exit status 1. The JSON output is the same as
POST /api/infusion/plan returns. The ward's protocol settings (cold-chain hours, bleeding
platelet threshold) come from the Django settings, as for the API.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from infusion.engine import plan_from_json, plan_to_text
from infusion.protocol import protocol_settings


class Command(BaseCommand):
    help = "Print the MSC infusion plan for a plan-input JSON document."

    def add_arguments(self, parser):
        parser.add_argument("file", help="plan-input JSON document, or - for stdin")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, file, format, **options):
        if file == "-":
            raw = sys.stdin.buffer.read()
        else:
            try:
                raw = Path(file).read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror or exc}")
        plan, errors = plan_from_json(raw, protocol_settings())
        if errors:
            lines = [f"{e.path or '(document)'}: {e.message}" for e in errors]
            raise CommandError("invalid plan input:\n  " + "\n  ".join(lines))
        if format == "json":
            self.stdout.write(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(plan_to_text(plan), ending="")
