"""Request hygiene: a path, query string or form field holding a control character is
refused with a 400 before any view reads it.

NUL cannot be stored by PostgreSQL (``GET /patients/?q=%00`` was a 500), a vertical tab
in a name folds every e-mail header it reaches, and no person types either. Multi-line
form text keeps tab, line feed and carriage return (a textarea sends CRLF); everything
else below U+0020, DEL and the C1 block is refused (``core.text``). JSON bodies of the
APIs are their contracts' business and are not read here.
"""

from urllib.parse import quote

from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from . import text

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _first_control(data, *, single_line):
    for key, values in data.lists():
        char = text.control_character(key, single_line=True)
        if char is not None:
            return key, char
        for value in values:
            if isinstance(value, str):
                char = text.control_character(value, single_line=single_line)
                if char is not None:
                    return key, char
    return None


def find_control_character(request):
    """``(where, character)`` for the first control character of the request's path,
    query string or form data; None when there is none."""
    char = text.control_character(request.path, single_line=True)
    if char is not None:
        return "", char
    # A query string is one line per value: a search box sends no line break.
    found = _first_control(request.GET, single_line=True)
    if found is None and request.method == "POST" and request.content_type in _FORM_TYPES:
        if not request.path.startswith("/api/"):
            found = _first_control(request.POST, single_line=False)
    return found


class RequestHygieneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = find_control_character(request)
        if found is None:
            return self.get_response(request)
        field, char = found
        field, code = text.header_safe(field)[:60], text.describe(char)
        if field:
            message = _(
                "The field “%(field)s” contains a control character (%(char)s); "
                "the request was not processed."
            ) % {"field": field, "char": code}
        else:
            message = _(
                "The address contains a control character (%(char)s); "
                "the request was not processed."
            ) % {"char": code}
        if request.path.startswith("/api/"):
            return JsonResponse({"errors": [{"field": field, "message": message}]}, status=400)
        response = TemplateResponse(request, "400.html", {"message": message}, status=400)
        # htmx swaps no 400: the page's script shows this instead of a bare "failed (400)".
        response["X-Refusal"] = quote(message)
        return response.render()
