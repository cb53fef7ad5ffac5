"""POST /api/infusion/plan: the engine's plan for a plan-input document, as JSON.

Contract (issue 5): body = a plan-input document (`infusion/schema/plan-input.schema.json`);
200 with `InfusionPlan.to_dict()` — the same JSON as `manage.py infusion_plan --format
json`; 400 with `{"errors": [{"field", "message"}]}` for invalid input, including a body
that is not JSON; never a 500. Nothing is saved.

Authentication: a signed-in session. Anonymous → 401 JSON (`WWW-Authenticate: Session`),
checked before CSRF so an API client learns that it must sign in, not that a token is
missing. A signed-in session must send the CSRF token (X-CSRFToken) like any form:
failing that → 403 JSON.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from infusion.engine import plan_from_json

from .protocol import protocol_settings


def _errors(status, *errors):
    return JsonResponse(
        {"errors": [{"field": field, "message": message} for field, message in errors]},
        status=status,
    )


def _csrf_failed(request):
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None


@csrf_exempt  # checked below, after authentication
def plan(request):
    if not request.user.is_authenticated:
        response = _errors(401, ("", "Authentication required: sign in first."))
        response["WWW-Authenticate"] = 'Session realm="ward"'
        return response
    if request.method != "POST":
        response = _errors(405, ("", "Use POST with a JSON plan-input document."))
        response["Allow"] = "POST"
        return response
    try:
        body = request.body  # before the CSRF check, which may parse a form body
    except RequestDataTooBig:
        return _errors(400, ("", "The document is too large."))
    if _csrf_failed(request):
        return _errors(403, ("", "CSRF check failed: send the X-CSRFToken header."))
    result, errors = plan_from_json(body, protocol_settings())
    if errors:
        return _errors(400, *((e.path, e.message) for e in errors))
    return JsonResponse(result.to_dict(), json_dumps_params={"ensure_ascii": False})
