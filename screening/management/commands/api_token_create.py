"""manage.py api_token_create USERNAME: a new bearer token for the screening API.

The token is printed once; only its SHA-256 is stored. ``--revoke-all`` revokes every
token of the user.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import audit
from screening.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user of the screening API and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--revoke-all", action="store_true", help="Revoke the user's tokens instead."
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        with transaction.atomic():
            if options["revoke_all"]:
                tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked=False))
                for token in tokens:
                    token.revoked = True
                    token.save(update_fields=["revoked"])
                    audit.record("revoke", obj=token, new={"user": user.username})
                self.stdout.write(f"revoked {len(tokens)} token(s) of {user.username}")
                return
            if not user.has_perm("screening.view_screening"):
                raise CommandError(f"{user.username} may not use the screening API")
            token = secrets.token_urlsafe(32)
            row = ApiToken.objects.create(
                user=user, token_hash=ApiToken.hash(token), prefix=token[:8]
            )
            audit.record("create", obj=row, new={"user": user.username, "prefix": row.prefix})
        self.stdout.write(token)
