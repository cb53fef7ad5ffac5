"""PDF rendering with WeasyPrint, shared by the screening checklist and infusion records.

- Only static files are readable: `/static/...` URLs are served from disk through
  Django's static finders; every other file:// path and every network URL is refused
  (`RefusedURL`). User text reaches the PDF through Django templates, so it is escaped.
- One FontConfiguration per process (fonts are loaded once) and one render at a time
  per process (WeasyPrint's C libraries are not thread-safe); the CJK font comes from
  the system (Debian's fonts-noto-cjk, installed by the set-up scripts).
- Rendered PDFs are cached on disk by the SHA-256 of their HTML: a record that has not
  changed is never rendered twice, so the request path renders only what is new.
"""

import hashlib
import mimetypes
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

_lock = threading.Lock()
_font_config = None


class RefusedURL(ValueError):
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


def html_to_pdf(html, *, fetcher=None):
    weasyprint = _weasy()
    fetcher = fetcher or StaticOnlyFetcher()
    font_config = _font_configuration()
    with _render_lock:
        document = weasyprint.HTML(string=html, base_url="file:///", url_fetcher=fetcher)
        return document.write_pdf(font_config=font_config)


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
