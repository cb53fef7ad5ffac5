"""Issue 16: the data step of the migrations that give free text a length in the database.

Before a text column becomes ``varchar(2000)`` (core 0008, infusion 0007, screening
0004), a row holding a longer text is shortened, never refused and never lost: the row
keeps the first characters followed by a marker that says how long the text was, and
the whole original text goes to ``core.TextOverflow`` with its length. The audit trail
is append-only and is not rewritten: its events still hold the text as it was written.

A shortened order note is part of the order's signed content (``CONTENT_FIELDS``): its
signatures no longer match the content, so the order needs signing again before it is
verified or given, which is what should happen when what was signed changed.

Called with the migration's historical ``apps``; plain queryset updates (historical
models have no audited manager), one row at a time.
"""

from django.db.models.functions import Length
from django.utils import timezone

MARKER = " [… shortened to {limit} characters on {date}: {length} characters originally; the whole text is kept (core.TextOverflow)]"


def shortened(text, limit):
    """``text`` cut to ``limit`` characters, the marker included."""
    marker = MARKER.format(limit=limit, length=len(text), date=timezone.now().date().isoformat())
    return text[: limit - len(marker)].rstrip() + marker


def shorten_long_texts(apps, fields, limit=2000):
    """``fields``: (app_label, model_name, field_name) triples whose rows may be longer
    than ``limit``. Returns how many values were shortened."""
    TextOverflow = apps.get_model("core", "TextOverflow")
    now = timezone.now()
    count = 0
    for app_label, model_name, field in fields:
        Model = apps.get_model(app_label, model_name)
        long_rows = (
            Model._base_manager.annotate(_length=Length(field))
            .filter(_length__gt=limit)
            .values_list("pk", field)
        )
        for pk, text in long_rows.iterator():
            TextOverflow.objects.create(
                model=f"{app_label}.{model_name}",
                object_id=str(pk),
                field=field,
                original_length=len(text),
                original_text=text,
                shortened_at=now,
            )
            Model._base_manager.filter(pk=pk).update(**{field: shortened(text, limit)})
            count += 1
    return count
