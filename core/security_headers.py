"""Response headers every answer of the app carries (issue 16):

- ``Content-Security-Policy``. Pages: scripts and styles from this site only — htmx and
  the app's scripts are static files, no inline script, no inline event handler, no
  inline style; htmx's own indicator style is in app.css (``includeIndicatorStyles`` is
  off in base.html). The Django admin keeps ``'unsafe-inline'`` for styles only (its
  change list has one ``<style>`` element). PDFs and images get ``frame-ancestors``
  only: Chrome shows them in a viewer page of its own that the response's policy would
  otherwise block (crbug.com/271452). Everything else (JSON, CSV, calendars, text) is
  never a document to render: ``default-src 'none'``.
- ``Cache-Control: no-store`` on every response of the app (pages, htmx fragments, PDFs,
  CSV, the calendar feed, the APIs): nearly all of them carry patient data, and a
  browser or proxy cache on a shared ward tablet must keep none. Static files are served
  by WhiteNoise before this middleware and keep their long cache.
- ``Permissions-Policy``: no camera, microphone, location or other device access.
- ``Referrer-Policy: same-origin`` comes from Django's SecurityMiddleware
  (``SECURE_REFERRER_POLICY``).
"""

_PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_POLICY = _PAGE_POLICY
ADMIN_POLICY = _PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
VIEWER_POLICY = "frame-ancestors 'none'"
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def content_security_policy(request, response):
    content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type == "text/html":
        return ADMIN_POLICY if request.path.startswith("/django-admin/") else PAGE_POLICY
    if content_type == "application/pdf" or content_type.startswith("image/"):
        return VIEWER_POLICY
    return DATA_POLICY


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request, response)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response
