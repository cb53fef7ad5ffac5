"""PDF rendering with WeasyPrint, shared by the screening checklist and infusion records.

- Only static files are readable: `/static/...` URLs are served from disk through
  Django's static finders; every other file:// path and every network URL is refused
  (`RefusedURL`). User text reaches the PDF through Django templates, so it is escaped.
- One FontConfiguration per process (fonts are loaded once) and one render at a time
  per process (WeasyPrint's C libraries are not thread-safe); the CJK font comes from
  the system (Debian's fonts-noto-cjk, installed by the set-up scripts).
- Rendered PDFs are cached on disk by the SHA-256 of their HTML: a record that has not
  changed is never rendered twice, so the request path renders only what is new.
- A hard time budget (issue 16): HTML larger than PDF_MAX_HTML_BYTES is refused before
  rendering, and rendering runs in a long-lived child process of its own
  (``core.pdf_worker``, one per web or Celery process, started on the first PDF) that is
  killed when it takes longer than PDF_RENDER_TIMEOUT_SECONDS. Either way the caller gets
  ``PdfUnavailable`` with a message for the user (``PdfUnavailableMiddleware`` answers
  503 with it), never a worker killed by gunicorn's timeout. The next PDF starts a new
  child.
"""

import base64
import hashlib
import json
import logging
import mimetypes
import os
import select
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_font_config = None


class RefusedURL(ValueError):
    pass


class PdfUnavailable(Exception):
    """The PDF cannot be produced; ``message`` says why, for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class PdfTooLarge(PdfUnavailable):
    pass


class PdfTimeout(PdfUnavailable):
    pass


def _weasy():
    import weasyprint  # imported lazily: only PDF requests pay for it

    return weasyprint


class StaticOnlyFetcher:
    """A WeasyPrint URL fetcher that reads static files from disk and refuses the rest."""

    def __init__(self):
        self.refused = []
        base = _weasy().urls.URLFetcher
        self._inner = base(allowed_protocols=["data"])

    def __getattr__(self, name):  # WeasyPrint reads private flags off the fetcher
        return getattr(self._inner, name)

    def __call__(self, url):
        return self.fetch(url)

    def fetch(self, url, headers=None):
        response_cls = _weasy().urls.URLFetcherResponse
        parts = urlsplit(url)
        if parts.scheme == "data":
            return self._inner.fetch(url, headers)
        if parts.scheme == "file" and not parts.netloc:
            path = unquote(parts.path)
            if path.startswith(settings.STATIC_URL):
                relative = path[len(settings.STATIC_URL) :]
                found = finders.find(relative) if ".." not in Path(relative).parts else None
                if found:
                    body = Path(found).read_bytes()
                    mime = mimetypes.guess_type(found)[0] or "application/octet-stream"
                    return response_cls(url, body=body, headers={"Content-Type": mime})
        self.refused.append(url)
        raise RefusedURL(f"refused to fetch {url!r}: only static files are allowed in PDFs")


def _font_configuration():
    global _font_config
    with _lock:
        if _font_config is None:
            _font_config = _weasy().text.fonts.FontConfiguration()
        return _font_config


# Pango and fontconfig under WeasyPrint are not thread-safe: two threads rendering at
# once abort the whole process (seen with gunicorn --threads). Rendering is CPU-bound and
# holds the GIL anyway, so one render at a time per process costs nothing in throughput.
_render_lock = threading.Lock()


def _write_options(options):
    """WeasyPrint's ``write_pdf`` options from their JSON form (``archival_pdf``): the PDF
    variant and the files to embed."""
    options = options or {}
    out = {}
    if options.get("pdf_variant"):
        out["pdf_variant"] = options["pdf_variant"]
    attachments = [
        _weasy().Attachment(
            string=base64.b64decode(item["data"]),
            name=item["name"],
            description=item.get("description"),
            created=datetime.fromisoformat(item["created"]),
            modified=datetime.fromisoformat(item["created"]),
            relationship=item.get("relationship", "Unspecified"),
        )
        for item in options.get("attachments", ())
    ]
    if attachments:
        out["attachments"] = attachments
    return out


def render_in_process(html, fetcher, options=None):
    """Render here and now, without a time budget: only the renderer child calls this."""
    weasyprint = _weasy()
    font_config = _font_configuration()
    with _render_lock:
        document = weasyprint.HTML(string=html, base_url="file:///", url_fetcher=fetcher)
        return document.write_pdf(font_config=font_config, **_write_options(options))


def _frame(data):
    return struct.pack(">I", len(data)) + data


class _Renderer:
    """The renderer child of this process: HTML in, PDF out, over its stdin and stdout
    (a 4-byte length before each frame; each request is the write options as JSON, then
    the HTML). Killed and forgotten when it overruns."""

    def __init__(self):
        self.process = None

    def _start(self):
        env = {
            **os.environ,
            "APP_ENV": settings.APP_ENV,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.pdf_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=settings.BASE_DIR,
            env=env,
        )

    def stop(self):
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                pipe.close()

    def _write(self, data, deadline):
        # Through select too: a child that never reads must not block this process.
        fd, view = self.process.stdin.fileno(), memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise TimeoutError
            view = view[os.write(fd, view[: 1 << 16]) :]

    def _read(self, size, deadline):
        fd, chunks, left = self.process.stdout.fileno(), [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the PDF renderer exited")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _read_frame(self, deadline):
        (size,) = struct.unpack(">I", self._read(4, deadline))
        return self._read(size, deadline)

    def render(self, html, timeout, options=None):
        deadline = time.monotonic() + timeout
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self._start()
        request = _frame(json.dumps(options or {}).encode("utf-8")) + _frame(html.encode("utf-8"))
        try:
            self._write(request, deadline)
            meta = json.loads(self._read_frame(deadline))
            body = self._read_frame(deadline)
        except BaseException:
            self.stop()  # overran, died or was interrupted: its state is unknown
            raise
        return meta, body


_renderer = _Renderer()


def html_to_pdf(html, *, fetcher=None, options=None):
    """PDF bytes of the HTML, within the time budget (``PdfUnavailable`` otherwise).
    URLs the static-only fetcher refused are added to ``fetcher.refused`` when given;
    ``options`` are WeasyPrint's, in their JSON form (``archival_pdf``)."""
    size = len(html.encode("utf-8"))
    if size > settings.PDF_MAX_HTML_BYTES:
        raise PdfTooLarge(
            _(
                "The PDF was not produced: this record holds too much text to print "
                "(%(size)s kB; the limit is %(limit)s kB)."
            )
            % {"size": size // 1000, "limit": settings.PDF_MAX_HTML_BYTES // 1000}
        )
    timeout = settings.PDF_RENDER_TIMEOUT_SECONDS
    started = time.monotonic()
    with _render_lock:
        try:
            meta, body = _renderer.render(html, timeout, options)
        except TimeoutError:
            logger.warning("PDF rendering stopped after %s s (%s bytes of HTML)", timeout, size)
            raise PdfTimeout(
                _("The PDF was not produced within %(seconds)s seconds.") % {"seconds": timeout}
            )
        except (EOFError, OSError, ValueError, struct.error) as exc:
            logger.error("the PDF renderer failed: %s", exc)
            raise PdfUnavailable(_("The PDF could not be produced; please try again."))
    if fetcher is not None:
        fetcher.refused.extend(meta.get("refused", ()))
    if not meta.get("ok"):
        logger.error("PDF rendering failed: %s", meta.get("error"))
        raise PdfUnavailable(_("The PDF could not be produced; please try again."))
    logger.debug("PDF rendered in %.2f s", time.monotonic() - started)
    return body


class PdfUnavailableMiddleware:
    """A PDF that cannot be produced is a page saying why (503), never a 500 or a
    worker killed by gunicorn's timeout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PdfUnavailable):
            return None
        return TemplateResponse(
            request, "pdf_unavailable.html", {"message": exception.message}, status=503
        )


def render_pdf(template_name, context, *, language=None):
    """Render a template to PDF bytes in the given language, cached by content."""
    with translation.override(language or translation.get_language()):
        html = render_to_string(template_name, context)
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    cache_dir = Path(settings.VAR_DIR) / "pdf-cache"
    cached = cache_dir / f"{key}.pdf"
    if cached.exists():
        return cached.read_bytes()
    pdf = html_to_pdf(html)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two requests rendering the same record at once must
    # not rename each other's half-written file away.
    tmp = cached.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(cached)
    return pdf


def archival_pdf(html, *, attachments):
    """PDF/A-3b bytes of the HTML (WeasyPrint's variant: fonts embedded, sRGB output
    intent, XMP metadata with pdfaid:part 3, conformance B) with files embedded as PDF/A-3
    associated files. ``attachments``: (name, bytes, description, datetime) tuples; the
    date is the files' creation date. Within the same time budget as every PDF."""
    options = {
        "pdf_variant": "pdf/a-3b",
        "attachments": [
            {
                "name": name,
                "data": base64.b64encode(data).decode("ascii"),
                "description": description,
                "created": when.isoformat(),
                # The signed document is the source the page is rendered from.
                "relationship": "Source",
            }
            for name, data, description, when in attachments
        ],
    }
    return html_to_pdf(html, options=options)
