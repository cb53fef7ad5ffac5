"""Translation marker for the engine's English message templates.

The engine must not import Django, yet its messages must reach Django's ``makemessages``.
``xgettext`` (which ``makemessages`` drives) extracts every string literal passed to a
function called ``gettext_noop``, so the engine marks its templates with this no-op of
the same name. The Django layer translates a finding with
``gettext(finding.reason_template) % finding.reason_params``.
"""


def gettext_noop(s: str) -> str:
    """Return *s* unchanged; marks it for extraction by ``makemessages``."""
    return s
