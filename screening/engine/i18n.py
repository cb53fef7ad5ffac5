"""Translation markers and message objects, without Django.

Every English message template in the engine is wrapped in ``gettext_noop`` so that
Django's ``makemessages`` extracts it; the engine itself never translates. A message is a
template plus string parameters. Parameters whose name is ``label`` or ends in ``_label``
are themselves msgids (analyte names, yes/no) and are translated too by ``render``; so
is each name of a list parameter (``drugs``, ``*_drugs``, ``*_labels``: msgids joined
with ", ").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from string import Formatter


def gettext_noop(s: str) -> str:
    """Mark ``s`` for extraction by ``makemessages``; return it unchanged."""
    return s


def _identity(s: str) -> str:
    return s


def is_translatable_param(name: str) -> bool:
    return name == "label" or name.endswith("_label")


# Issue 18: a parameter naming several drugs ("drugs": "azathioprine, mycophenolate
# mofetil") is a list of msgids joined with LIST_SEPARATOR; each is translated on display.
LIST_SEPARATOR = ", "


def is_translatable_list_param(name: str) -> bool:
    return name == "drugs" or name.endswith(("_drugs", "_labels"))


def _translated(name: str, value: str, gettext: Callable[[str], str]) -> str:
    if not value:
        return value
    if is_translatable_param(name):
        return gettext(value)
    if is_translatable_list_param(name):
        return LIST_SEPARATOR.join(gettext(item) for item in value.split(LIST_SEPARATOR))
    return value


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


_TEXT = {str: str, int: str, Decimal: _decimal_text, date: date.isoformat}


def _text(value: object) -> str:
    convert = _TEXT.get(type(value))
    return convert(value) if convert is not None else str(value)


class Message:
    """A template and its arguments; ``params`` are the arguments as text.

    Arguments are kept as given (Decimal, date, int, str) and turned into text only when
    the message is rendered, so evaluating stays cheap. (A plain slotted class rather
    than a frozen dataclass: thousands are made per second.)
    """

    __slots__ = ("template", "args")

    def __init__(self, template: str, args: Mapping[str, object]):
        self.template = template
        self.args = args

    @property
    def params(self) -> dict[str, str]:
        text = _TEXT.get
        return {
            key: value if type(value) is str else (text(type(value)) or str)(value)
            for key, value in self.args.items()
        }

    def render(self) -> str:
        return self.template.format_map(self.params)

    def to_dict(self) -> dict:
        return {"template": self.template, "params": self.params}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.template == other.template and self.params == other.params

    def __hash__(self) -> int:
        return hash((self.template, tuple(sorted(self.params.items()))))

    def __repr__(self) -> str:
        return f"Message({self.template!r}, {self.params!r})"


def render(message: Message | Mapping, gettext: Callable[[str], str] = _identity) -> str:
    """Render a message (or its ``to_dict()`` form), translating with ``gettext``.

    The UI calls ``render(part, gettext)`` for each of a result's ``reason_parts`` and
    joins them with "; " (see ``render_reason``).
    """
    if isinstance(message, Message):
        template, params = message.template, message.params
    else:  # the to_dict() form
        template, params = message["template"], message["params"]
    translated = {key: _translated(key, value, gettext) for key, value in params.items()}
    return gettext(template).format_map(translated)


def render_reason(result: Mapping, gettext: Callable[[str], str] = _identity) -> str:
    """Translate a criterion result (``CriterionResult.to_dict()``) part by part."""
    return "; ".join(render(part, gettext) for part in result["reason_parts"])


_FORMATTER = Formatter()


def compose(
    messages: list[Message] | tuple[Message, ...],
    params_list: list[dict[str, str]] | None = None,
) -> tuple[str, dict[str, str]]:
    """Join messages into one template with namespaced parameters.

    One message keeps its own template and parameters. Several become
    "{p0_x} …; {p1_y} …" so ``template.format(**params)`` still renders the English line.
    Translating such a composite needs ``render_reason`` (part by part).
    """
    if params_list is None:
        params_list = [message.params for message in messages]
    if len(messages) == 1:
        return messages[0].template, dict(params_list[0])
    templates: list[str] = []
    params: dict[str, str] = {}
    for index, (message, message_params) in enumerate(zip(messages, params_list, strict=True)):
        prefix = f"p{index}_"
        templates.append(_namespaced(message.template, prefix))
        params.update({prefix + key: value for key, value in message_params.items()})
    return "; ".join(templates), params


@lru_cache(maxsize=4096)
def _namespaced(template: str, prefix: str) -> str:
    pieces: list[str] = []
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        pieces.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            pieces.append("{" + prefix + field)
            if conversion:
                pieces.append("!" + conversion)
            if spec:
                pieces.append(":" + spec)
            pieces.append("}")
    return "".join(pieces)
