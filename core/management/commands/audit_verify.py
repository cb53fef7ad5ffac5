from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain
from core.audit_checkpoints import checkpoint_path, checkpoint_write


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain against its checkpoints; exits non-zero "
        "and names the first broken event. A passing run checkpoints the verified head."
    )

    def handle(self, *args, **options):
        status = verify_chain()
        if not status.ok:
            where = (
                f"at event #{status.first_broken_seq}"
                if status.first_broken_seq is not None
                else "in its checkpoints"
            )
            raise CommandError(
                f"Audit chain BROKEN {where}: {status.problem} "
                f"({status.checked} events verified before it)."
            )
        try:
            checkpoint_write(
                source="audit_verify", head=(status.head_seq, status.head_hash, status.head_at)
            )
        except OSError as error:
            raise CommandError(
                f"Audit chain OK ({status.checked} events verified), but its checkpoint could "
                f"not be written to {checkpoint_path()}: {error}"
            )
        if status.checkpoints:
            anchored = f"matching {status.checkpoints} checkpoints"
        else:
            anchored = f"no earlier checkpoint in {checkpoint_path()} to compare with"
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain OK: {status.checked} events verified, {anchored}; "
                f"checkpoint written at #{status.head_seq}."
            )
        )
