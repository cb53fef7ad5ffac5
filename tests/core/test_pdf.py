import pytest
from pypdf import PdfReader

from core.pdf import RefusedURL, StaticOnlyFetcher, html_to_pdf, render_pdf


def _text(pdf_bytes):
    import io

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def test_the_fetcher_reads_static_files_from_disk():
    response = StaticOnlyFetcher().fetch("file:///static/css/pdf.css")
    assert b"@page" in response.read()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///static/../../../../etc/passwd",
        "http://127.0.0.1:6379/",
        "https://example.org/x.css",
        "ftp://example.org/x",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher().fetch(url)


def test_a_pdf_referencing_etc_passwd_renders_without_it():
    fetcher = StaticOnlyFetcher()
    html = '<p>Hello</p><img src="file:///etc/passwd"><link rel="stylesheet" href="http://example.org/a.css">'
    pdf = html_to_pdf(html, fetcher=fetcher)
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://example.org/a.css" in fetcher.refused
    assert "root:" not in _text(pdf)


def test_user_text_is_escaped_and_chinese_renders(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    pdf = render_pdf("pdf/base.html", {"ward_time_zone": "Asia/Shanghai"}, language="zh-hans")
    text = _text(pdf)
    assert "病区细胞治疗" in text
    # Cached: the second render returns identical bytes without rendering again.
    assert (
        render_pdf("pdf/base.html", {"ward_time_zone": "Asia/Shanghai"}, language="zh-hans") == pdf
    )
    assert len(list(tmp_path.glob("pdf-cache/*.pdf"))) == 1


def test_the_same_record_rendered_by_several_requests_at_once_never_fails(settings, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    settings.VAR_DIR = tmp_path
    context = {"ward_time_zone": "Asia/Shanghai"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(lambda _: render_pdf("pdf/base.html", context), range(8)))
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert len(list(tmp_path.glob("pdf-cache/*.pdf"))) == 1
    assert not list(tmp_path.glob("pdf-cache/*.tmp"))
