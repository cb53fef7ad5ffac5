"""Django's makemessages, which also extracts the strings of Jinja2 templates (*.jinja).

Django's own command would feed a ``.jinja`` file through the Django template
"templatizer"; here Jinja2's own extractor finds its ``_()``/``gettext``/``ngettext``/
``pgettext`` calls and ``{% trans %}`` blocks, and each becomes a Python call on the same
line for xgettext. ``scripts/i18n`` passes ``-e html,txt,py,jinja``.
"""

from django.core.management.commands import makemessages
from django.utils.functional import cached_property


class JinjaBuildFile(makemessages.BuildFile):
    @cached_property
    def is_jinja(self):
        return self.translatable.file.endswith(".jinja")

    def preprocess(self):
        if not self.is_jinja:
            return super().preprocess()
        from django.template import engines
        from jinja2.ext import extract_from_ast

        with open(self.path, encoding="utf-8") as fp:
            source = fp.read()
        env = engines["jinja2"].env
        lines = [""] * (source.count("\n") + 2)
        found = extract_from_ast(env.parse(source), babel_style=False)
        for lineno, function, message in found:
            args = message if isinstance(message, tuple) else (message,)
            if not args:
                continue  # a message that is not a constant string: nothing to extract
            function = {"_": "gettext"}.get(function, function)
            lines[lineno - 1] += f"{function}({', '.join(repr(a) for a in args)}); "
        with open(self.work_path, "w", encoding="utf-8") as fp:
            fp.write("\n".join(lines))


class Command(makemessages.Command):
    build_file_class = JinjaBuildFile
