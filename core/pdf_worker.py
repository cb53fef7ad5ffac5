"""The PDF renderer child (``python -m core.pdf_worker``), started by ``core.pdf``.

It reads requests from stdin, each two frames (WeasyPrint's write options as JSON, then
the HTML), and answers each with two frames on stdout: a JSON header (``ok``, the URLs the
static-only fetcher refused, an error) and the PDF bytes.
A frame is a 4-byte big-endian length and that many bytes. It exits when stdin closes
(its parent went away). The parent kills it when a render overruns its time budget.
"""

import json
import os
import struct
import sys


def _read_exactly(stream, size):
    data = stream.read(size)
    if len(data) != size:
        return None
    return data


def _read_frame(stream):
    header = _read_exactly(stream, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    return _read_exactly(stream, size)


def _write_frame(stream, data):
    stream.write(struct.pack(">I", len(data)) + data)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from core import pdf

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the protocol owns stdout: anything printed goes to stderr
    while True:
        options = _read_frame(requests)
        html = _read_frame(requests) if options is not None else None
        if html is None:
            return
        fetcher = pdf.StaticOnlyFetcher()
        try:
            body = pdf.render_in_process(html.decode("utf-8"), fetcher, json.loads(options))
            meta = {"ok": True, "refused": fetcher.refused}
        except Exception as exc:  # reported to the parent, which logs it
            body = b""
            meta = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            meta["refused"] = fetcher.refused
        _write_frame(answers, json.dumps(meta).encode("utf-8"))
        _write_frame(answers, body)
        answers.flush()


if __name__ == "__main__":
    main()
