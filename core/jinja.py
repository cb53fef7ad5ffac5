"""The Jinja2 environment for fragments a page repeats hundreds of times (issue 23).

Django runs both engines side by side (settings.TEMPLATES): pages are Django templates;
the hot fragments they repeat (a screening form line, a queue card, an audit row) are
Jinja2 templates under ``<app>/jinja2/<app>/…jinja``, autoescaped, drawn through
``fragment()`` and printed into the Django page as safe markup. Jinja2 renders such a
fragment several times faster than Django's engine; the markup still lives in a template.

Translations: ``{{ _("…") }}``, ``gettext``, ``ngettext``, ``pgettext`` are Django's
(new-style: ``_("%(n)s days", n=3)``); ``scripts/i18n`` extracts them from ``*.jinja``
files (core/management/commands/makemessages.py). Apps add filters and globals in an
optional ``<app>/jinja_env.py`` with ``FILTERS`` and ``GLOBALS`` dicts.
"""

from importlib import import_module

from django.apps import apps
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize
from jinja2 import Environment
from markupsafe import Markup

from core.templatetags.ward_time import when

EXTENSIONS = ["jinja2.ext.i18n"]


def _url(name, *args, **kwargs):
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options):
    options.setdefault("extensions", EXTENSIONS)
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)  # always: nothing prints unescaped text
    env.install_gettext_callables(
        gettext=translation.gettext,
        ngettext=translation.ngettext,
        pgettext=translation.pgettext,
        npgettext=translation.npgettext,
        newstyle=True,
    )
    env.filters.update({"localize": localize, "when": _when})
    env.globals.update({"url": _url, "static": static})
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.jinja_env")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.jinja_env":
                raise
            continue
        env.filters.update(getattr(module, "FILTERS", {}))
        env.globals.update(getattr(module, "GLOBALS", {}))
    return env


def _when(value, arg):
    """Django's ``|when`` (core.templatetags.ward_time), the value in the ward's zone."""
    from django.utils import timezone

    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return when(value, arg)


_templates = {}


def template(name):
    """The compiled Jinja2 template ``name`` (kept: fragments are drawn in loops)."""
    found = _templates.get(name)
    if found is None:
        from django.template import engines

        found = _templates[name] = engines["jinja2"].env.get_template(name)
    return found


def fragment(name, **context):
    """The fragment ``name`` rendered with ``context``, as markup a Django template prints
    unescaped: the output of an autoescaping template is safe by construction."""
    return Markup(template(name).render(context))  # noqa: S704 (autoescaped output)
