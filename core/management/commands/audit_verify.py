from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero and names the first broken event."

    def handle(self, *args, **options):
        status = verify_chain()
        if not status.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{status.first_broken_seq}: {status.problem} "
                f"({status.checked} events verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain OK: {status.checked} events verified."))
