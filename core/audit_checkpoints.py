"""Checkpoints of the audit chain's head, kept outside PostgreSQL.

The keyed chain (core/audit.py) shows any row changed, inserted or reordered, but not rows
removed from its end: the shortened chain is still a valid chain. So the head (seq, hash,
time) is written, every AUDIT_CHECKPOINT_MINUTES by beat and after every passing
`audit_verify`, to an append-only file, one JSON line each:

    {"at": …, "hash": …, "kid": …, "mac": …, "seq": …, "source": …, "written_at": …}

in ``AUDIT_CHECKPOINT_DIR/audit-checkpoints.jsonl``, opened with O_APPEND (a line is one
``write``, then fsync). ``mac`` is an HMAC of the line under the audit key, so a line
cannot be forged without it. With ``AUDIT_TSA_URL`` set, an RFC 3161 timestamp authority
also countersigns each line (``tsa``: the DER response, base64), which dates it
independently of this server's clock and key.

`audit.verify_chain()` reads the lines in order (their seq never goes down: a line below
the one before means the trail was shortened between them) and each must match the
table's event of that seq; a checkpoint beyond the table's newest event means its end
was removed. Events written since the last checkpoint are covered by the next one only.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .audit import GENESIS_HASH, UnknownKeyError, hmac_key
from .models import AuditEvent

logger = logging.getLogger(__name__)

FILE_NAME = "audit-checkpoints.jsonl"
_MAC_CONTEXT = b"ward audit checkpoint v1\n"
_MAX_LINE = 64 * 1024  # a line with a TSA token is ~5 kB
_MAX_TSA_RESPONSE = 256 * 1024


class CheckpointError(Exception):
    """The checkpoint file itself shows tampering; `seq` is the first event it implicates
    (None when only the file is at fault)."""

    def __init__(self, seq, problem):
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


class TimestampError(Exception):
    """The timestamp authority did not countersign the checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    line: int
    seq: int
    hash: str
    written_at: str
    source: str

    def describe(self):
        where = f"line {self.line}" if self.line else "the last line"
        return f"written {self.written_at} ({where} of {FILE_NAME})"


def checkpoint_path():
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def _canonical(fields):
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _mac(fields, key_id):
    body = _canonical({k: v for k, v in fields.items() if k != "mac"}).encode("ascii")
    return hmac.new(hmac_key(key_id), _MAC_CONTEXT + body, hashlib.sha256).hexdigest()


def _signed_part(fields):
    """The bytes a timestamp authority countersigns: the line without its tsa and mac."""
    return _canonical({k: v for k, v in fields.items() if k not in {"tsa", "mac"}}).encode()


def _iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def checkpoint_write(*, source, head=None, skip_unchanged=False):
    """Append the chain's head to the checkpoint file; returns the fields written (None
    when ``skip_unchanged`` and the last line already holds this head).

    ``head`` is (seq, entry_hash, at) as `audit_verify` verified it; by default the
    newest committed event, read now (beat's checkpoint anchors what exists; the chain
    itself shows any of it that was altered).
    """
    if head is None:
        row = AuditEvent.objects.order_by("-seq").values_list("seq", "entry_hash", "at").first()
        head = row or (0, GENESIS_HASH, None)
    seq, entry_hash, at = head
    if skip_unchanged:
        last = _last_line()
        if last and last.get("seq") == seq and last.get("hash") == entry_hash:
            return None
    fields = {
        "seq": seq,
        "hash": entry_hash,
        "at": _iso(at),
        "written_at": _iso(timezone.now()),
        "source": source,
        "kid": settings.AUDIT_HMAC_KEY_ID,
    }
    if settings.AUDIT_TSA_URL:
        try:
            fields["tsa"] = base64.b64encode(timestamp(_signed_part(fields))).decode("ascii")
        except TimestampError as error:
            # The line still anchors the head; say in it (and the log) what went wrong.
            logger.error(
                "audit checkpoint: no timestamp from %s: %s", settings.AUDIT_TSA_URL, error
            )
            fields["tsa_error"] = str(error)[:300]
    fields["mac"] = _mac(fields, fields["kid"])
    line = (_canonical(fields) + "\n").encode("ascii")
    directory = Path(settings.AUDIT_CHECKPOINT_DIR)
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, whoever else has the file open; one write
    # per line, so lines from two processes never interleave.
    fd = os.open(
        directory / FILE_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
    )
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return fields


def _last_line():
    """The newest line's fields, or None (no file, or a last line that does not parse:
    then a new line is written, and audit_verify judges the old one)."""
    try:
        with open(checkpoint_path(), "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _MAX_LINE))
            tail = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return json.loads(tail) if tail else None
    except (OSError, ValueError):
        return None


def last_checkpoint():
    """The newest checkpoint (its line number not counted), or None when there is none;
    raises CheckpointError when that line is not genuine. Reads only the file's tail:
    what the audit browser compares on every view (`audit.verify_new_events`)."""
    try:
        with open(checkpoint_path(), "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _MAX_LINE - 1))
            tail = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(None, f"the checkpoint file cannot be read: {error}") from error
    return _parse(None, tail) if tail else None


def read_checkpoints():
    """The checkpoints in the file as it is *now* (its size is taken at this call, so
    lines appended later are not read), as a generator of Checkpoint that raises
    CheckpointError at the first line that is not genuine or goes backwards."""
    try:
        f = open(checkpoint_path(), "rb")
    except FileNotFoundError:
        return iter(())
    except OSError as error:  # unreadable: the trail cannot be said to match its anchors
        raise CheckpointError(None, f"the checkpoint file cannot be read: {error}") from error
    size = os.fstat(f.fileno()).st_size
    return _lines(f, size)


def _lines(f, size):
    previous = None
    read = 0
    with f:
        for number, raw in enumerate(f, start=1):
            read += len(raw)
            if read > size:  # appended after this run began
                return
            checkpoint = _parse(number, raw)
            if previous is not None and checkpoint.seq < previous.seq:
                raise CheckpointError(
                    checkpoint.seq + 1,
                    f"event #{checkpoint.seq + 1} and later were removed: the checkpoint "
                    f"{checkpoint.describe()} records #{checkpoint.seq}, below #{previous.seq} "
                    f"of the checkpoint {previous.describe()}",
                )
            previous = checkpoint
            yield checkpoint


def _parse(number, raw):
    where = f"line {number} of {FILE_NAME}" if number else f"the last line of {FILE_NAME}"
    try:
        if len(raw) > _MAX_LINE:
            raise ValueError("too long")
        fields = json.loads(raw)
        seq, entry_hash, kid, mac = fields["seq"], fields["hash"], fields["kid"], fields["mac"]
        if type(seq) is not int or seq < 0 or not isinstance(entry_hash, str):
            raise ValueError("bad seq or hash")
        expected = _mac(fields, kid)
    except UnknownKeyError as error:
        raise CheckpointError(
            None, f"checkpoint {where} names key id {error.args[0]!r}, which is not configured"
        )
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(None, f"checkpoint {where} is not a checkpoint (damaged or forged)")
    if not hmac.compare_digest(str(mac), expected):
        raise CheckpointError(
            None, f"checkpoint {where} is not signed with the audit key (forged or altered)"
        )
    if "tsa" in fields and not _token_covers(fields):
        raise CheckpointError(None, f"checkpoint {where}: its timestamp token is not for this line")
    return Checkpoint(
        line=number,
        seq=seq,
        hash=entry_hash,
        written_at=str(fields.get("written_at")),
        source=str(fields.get("source", "")),
    )


# --- RFC 3161 timestamps (optional: AUDIT_TSA_URL) ------------------------------------------


def timestamp(data):
    """Ask the timestamp authority to countersign SHA-256(data); the DER response.

    The response must be granted and carry our nonce and imprint; with
    AUDIT_TSA_ROOTS_FILE (PEM) its signature is also verified up to those roots.
    """
    from rfc3161_client import (
        HashAlgorithm,
        PKIStatus,
        TimestampRequestBuilder,
        decode_timestamp_response,
    )

    query = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    request = urllib.request.Request(  # noqa: S310 (the URL is an http(s) setting)
        settings.AUDIT_TSA_URL,
        data=query.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.AUDIT_TSA_TIMEOUT_SECONDS) as reply:  # noqa: S310
            body = reply.read(_MAX_TSA_RESPONSE + 1)
    except OSError as error:
        raise TimestampError(f"request failed: {error}") from error
    if len(body) > _MAX_TSA_RESPONSE:
        raise TimestampError("response too large")
    try:
        response = decode_timestamp_response(body)
    except Exception as error:  # the parser raises its own types for bad DER
        raise TimestampError(f"not a timestamp response: {error}") from error
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"refused (status {response.status})")
    info = response.tst_info
    if info.nonce != query.nonce or info.message_imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("the response is not for this request (nonce or imprint)")
    roots = _tsa_roots()
    if roots:
        _verify_token(response, data, roots, nonce=query.nonce)
    return response.as_bytes()


def _tsa_roots():
    path = settings.AUDIT_TSA_ROOTS_FILE
    if not path:
        return []
    from cryptography import x509

    with open(path, "rb") as f:
        return x509.load_pem_x509_certificates(f.read())


def _verify_token(response, data, roots, *, nonce=None):
    from rfc3161_client import VerificationError, VerifierBuilder

    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as error:
        raise TimestampError(f"signature does not verify: {error}") from error


def _token_covers(fields):
    """A stored token is for this line: its imprint is SHA-256 of the line's signed part
    (and, with AUDIT_TSA_ROOTS_FILE, its signature verifies)."""
    from rfc3161_client import decode_timestamp_response

    data = _signed_part(fields)
    try:
        response = decode_timestamp_response(base64.b64decode(fields["tsa"], validate=True))
        if response.tst_info.message_imprint.message != hashlib.sha256(data).digest():
            return False
        roots = _tsa_roots()
        if roots:
            _verify_token(response, data, roots)
    except Exception:  # any decoding or verification failure: not a token for this line
        return False
    return True
