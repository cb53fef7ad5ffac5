"""Issue 16, item 3: PDF rendering has a hard time budget. Oversized HTML is refused
before rendering; a render that overruns is stopped (its renderer process killed) with a
message; the next PDF renders normally. Never a worker timeout."""

import time

import pytest

from core import pdf

SMALL = "<p>Hello</p>"
# A long word without a break point in a table cell: WeasyPrint's line breaking is slow
# on it (the issue measured 3.8 s for 100 kB), well over a one-second budget.
# Its render takes well over a second on this machine; the budget below is a fifth of a
# second, so the test does not depend on how fast the host is today.
SLOW = "<table><tr><td>" + "x" * 900_000 + "</td></tr></table>"


def test_oversized_html_is_refused_before_rendering(settings):
    settings.PDF_MAX_HTML_BYTES = 10_000
    started = time.perf_counter()
    with pytest.raises(pdf.PdfTooLarge) as raised:
        pdf.html_to_pdf("<p>" + "a" * 20_000 + "</p>")
    assert time.perf_counter() - started < 0.1
    assert "too much text to print" in raised.value.message


def test_a_render_that_overruns_its_budget_is_stopped_and_the_next_one_works(settings):
    assert pdf.html_to_pdf(SMALL).startswith(b"%PDF")  # the renderer is up
    settings.PDF_RENDER_TIMEOUT_SECONDS = 0.2
    started = time.perf_counter()
    with pytest.raises(pdf.PdfTimeout) as raised:
        pdf.html_to_pdf(SLOW)
    elapsed = time.perf_counter() - started
    assert 0.15 < elapsed < 1.5, elapsed
    assert "within 0.2 seconds" in raised.value.message
    settings.PDF_RENDER_TIMEOUT_SECONDS = 30  # a fresh renderer starts for the next PDF
    assert pdf.html_to_pdf(SMALL).startswith(b"%PDF")


def test_a_renderer_that_died_is_replaced(settings):
    assert pdf.html_to_pdf(SMALL).startswith(b"%PDF")
    pdf._renderer.process.kill()
    pdf._renderer.process.wait()
    assert pdf.html_to_pdf(SMALL).startswith(b"%PDF")
