"""Checkpoints countersigned by an RFC 3161 timestamp authority (AUDIT_TSA_URL).

No network here: the authority is OpenSSL's own (`openssl ts -reply`) behind a local HTTP
server, with a root and a TSA certificate made for the test. What a real authority adds
(its trusted root, its clock) is configuration: AUDIT_TSA_URL and AUDIT_TSA_ROOTS_FILE.
"""

import base64
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import audit, tasks
from core.audit_checkpoints import checkpoint_path

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A local timestamp authority: (url, roots PEM path)."""
    d = tmp_path_factory.mktemp("tsa")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-subj", "/CN=Test TSA Root", "-days", "2",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    (d / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
        "-subj", "/CN=Test TSA", cwd=d,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "ext.cnf",
        cwd=d,
    )  # fmt: skip
    (d / "tsaserial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CONFIG.format(dir=d))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (d / "q.tsq").write_bytes(query)
                _openssl(
                    "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq",
                    "-out", "r.tsr", cwd=d,
                )  # fmt: skip
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", str(d / "ca.crt")
    server.shutdown()


def _lines():
    return [json.loads(line) for line in checkpoint_path().read_text().splitlines()]


def test_a_checkpoint_carries_the_authoritys_verified_token(tsa, physician, settings):
    settings.AUDIT_TSA_URL, settings.AUDIT_TSA_ROOTS_FILE = tsa
    audit.record("update", actor=physician, object_type="x", object_id="1")
    tasks.write_audit_checkpoint()
    line = _lines()[0]
    assert "tsa_error" not in line
    token = base64.b64decode(line["tsa"])
    from rfc3161_client import decode_timestamp_response

    assert decode_timestamp_response(token).tst_info.serial_number >= 1
    call_command("audit_verify")  # the token is checked against the root again


def test_a_token_moved_to_another_line_is_named(tsa, physician, settings):
    settings.AUDIT_TSA_URL, settings.AUDIT_TSA_ROOTS_FILE = tsa
    audit.record("update", actor=physician, object_type="x", object_id="1")
    tasks.write_audit_checkpoint()
    audit.record("update", actor=physician, object_type="x", object_id="2")
    tasks.write_audit_checkpoint()
    first, second = _lines()
    # Someone holding the audit key re-signs line 2 with line 1's (older) token.
    from core.audit_checkpoints import _canonical, _mac

    second["tsa"] = first["tsa"]
    second["mac"] = _mac(second, second["kid"])
    checkpoint_path().write_text(_canonical(first) + "\n" + _canonical(second) + "\n")
    with pytest.raises(CommandError, match="line 2 of audit-checkpoints.jsonl: its timestamp"):
        call_command("audit_verify")


def test_an_unreachable_authority_still_writes_the_checkpoint_and_says_why(physician, settings):
    settings.AUDIT_TSA_URL = "http://127.0.0.1:9/tsa"  # the discard port: nothing listens
    settings.AUDIT_TSA_TIMEOUT_SECONDS = 2
    audit.record("update", actor=physician, object_type="x", object_id="1")
    tasks.write_audit_checkpoint()
    line = _lines()[0]
    assert "tsa" not in line and "request failed" in line["tsa_error"]
    call_command("audit_verify")


def test_a_token_from_an_authority_outside_the_trusted_roots_is_refused(
    tsa, physician, settings, tmp_path
):
    url, _roots = tsa
    other = tmp_path / "other-root.crt"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
        "-out", str(other), "-subj", "/CN=Another Root", "-days", "2",
        "-addext", "basicConstraints=critical,CA:TRUE", cwd=tmp_path,
    )  # fmt: skip
    settings.AUDIT_TSA_URL, settings.AUDIT_TSA_ROOTS_FILE = url, str(other)
    audit.record("update", actor=physician, object_type="x", object_id="1")
    tasks.write_audit_checkpoint()
    line = _lines()[0]
    assert "tsa" not in line and "signature does not verify" in line["tsa_error"]
