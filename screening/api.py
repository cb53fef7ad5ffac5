"""POST /api/screening/evaluate: a facts document in, the engine's evaluation out.

Authenticated by the session (with its CSRF check) or by ``Authorization: Bearer
<token>`` (``manage.py api_token_create USERNAME``). The JSON returned is the same as
``manage.py screen FILE.json --format json``. Bad input is a 400 with field errors,
``{"errors": [{"field": "labs.inr.unit", "message": "…"}]}``; nothing is saved.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core import audit, numbers, text

from .evaluation import errors_as_fields, evaluate_document
from .models import ApiToken

PERMISSION = "screening.view_screening"


def _error(status, message, field=""):
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)


def _control_character_at(node, path=""):
    """(field path, character) of the first string holding a control character, or None."""
    if isinstance(node, str):
        char = text.control_character(node)
        return (path, char) if char else None
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found = _control_character_at(key, path) if isinstance(key, str) else None
        found = found or _control_character_at(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _token_user(request):
    """(user, None) for a valid bearer token, (None, response) for a bad one, or
    (None, None) when the request carries no token."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None, None
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, _error(401, _("Use Authorization: Bearer <token>."))
    found = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=ApiToken.hash(token.strip()), revoked=False)
        .first()
    )
    if found is None or not found.user.is_active:
        return None, _error(401, _("The token is not valid or was revoked."))
    return found.user, None


def _csrf_refused(request):
    # Session authentication keeps Django's CSRF protection; tokens do not need it.
    check = CsrfViewMiddleware(lambda r: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


@csrf_exempt
def evaluate(request):
    if request.method != "POST":
        response = _error(405, _("Use POST with a JSON facts document."))
        response["Allow"] = "POST"
        return response
    user, refused = _token_user(request)
    if refused is not None:
        return refused
    if user is None:
        if not request.user.is_authenticated:
            return _error(401, _("Sign in or send Authorization: Bearer <token>."))
        if _csrf_refused(request) is not None:
            return _error(403, _("CSRF check failed: send the X-CSRFToken header."))
        user = request.user
    if not user.has_perm(PERMISSION):
        audit.record("permission_denied", actor=user, new={"path": request.path, "method": "POST"})
        return _error(403, _("This account may not use the screening API."))
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(400, _("The document is too large."))
    try:
        # Decimals kept exact; a number literal beyond 30 digits or an exponent of ±20 is
        # not even read (core.numbers), and becomes a field error below.
        doc = numbers.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return _error(400, _("The body is not valid JSON: %(error)s") % {"error": str(exc)[:200]})
    try:
        where = _control_character_at(doc)
    except RecursionError:
        return _error(400, _("The document is nested too deeply."))
    if where is not None:
        # Issue 16: never typed by a person; NUL cannot even reach PostgreSQL.
        path, char = where
        return _error(
            400,
            _("Contains a control character (%(char)s).") % {"char": text.describe(char)},
            path,
        )
    try:
        errors, evaluation, _filled = evaluate_document(doc)
    except RecursionError:
        return _error(400, _("The document is nested too deeply."))
    if errors:
        return JsonResponse({"errors": errors_as_fields(errors)}, status=400)
    return JsonResponse(evaluation.to_dict(), json_dumps_params={"ensure_ascii": False})
