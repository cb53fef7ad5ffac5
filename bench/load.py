"""Load benchmark: gunicorn on PostgreSQL, 20 (or 100) concurrent users, p50/p95 per page.

    .venv/bin/python bench/load.py [--users 20] [--think 1.0] [--seconds 120] [--workers 5]
        [--threads 1] [--patients 1000] [--audit-events N] [--scale 100000:1000000]
        [--skip-build] [--port 8799]

Builds its own database (ward_bench_load) with --patients patients (the first 1,000
through the service functions, any more by COPY: bench/seed_scale.py), 300 screenings,
100 MSC episodes and ≥ 5,000 audit events (--audit-events: more, appended to the keyed
chain by COPY), runs `audit_verify` on it, starts gunicorn (APP_ENV=development, DEBUG
off), signs the virtual users in, and for --seconds sends a mix of: the patient list, a
screening page with a live (htmx) re-evaluation, the pharmacist queue, the audit browser
and its hash-chain panel, and a PDF download, plus a trivial view that reads one row
(/health/, the floor). Each user waits 0.5–1.5 × --think seconds between requests, as a
person reading the page does; --think 0 is a closed loop that measures the host's
capacity instead (with 20 users on 2 cores every page then queues behind the others).

--scale P:E then does the same on a second database (ward_bench_scale: a copy of the
first, topped up by COPY to P patients and E audit events, e.g. 100000:1000000) and
prints both tables and "p95 at scale / p95 at the first size" (target ≤ 1.5×).
--skip-build reuses the databases built before (one per size; built if missing).

Targets: HTML p95 ≤ 150 ms, and at ≤ 20 users also ≤ 3× the floor's p95; PDFs ≤ 1.5 s.
The load generator's own CPU (threads in one process: the GIL), how late its sleeps wake
(scheduling lag) and the host's CPU are printed, to show the client is not the bottleneck.
"""

import argparse
import http.client
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
DB = "ward_bench_load"
SCALE_DB = "ward_bench_scale"
PORT = 8799
PY = str(ROOT / ".venv/bin/python")
SERVICE_PATIENTS = 1000  # seeded one by one through the services; any more by COPY


def checkpoint_dir(db):
    # Each database its own checkpoint file: a checkpoint of one trail would fail another.
    return ROOT / "var" / "bench-checkpoints" / db


def env(db=DB):
    e = dict(os.environ)
    e.update(
        {
            "APP_ENV": "development",
            "DEBUG": "0",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOGIN_FAILURE_LIMIT": "1000",
            "LOG_LEVEL": "WARNING",
            "AUDIT_CHECKPOINT_DIR": str(checkpoint_dir(db)),
        }
    )
    return e


def manage(*args, db=DB, **kw):
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env(db), check=True, **kw)


def psql(sql, db="postgres", **kw):
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qAtc", sql], check=True, **kw
    )


def db_exists(db):
    sql = f"SELECT 1 FROM pg_database WHERE datname = '{db}'"  # noqa: S608 (a constant)
    out = psql(sql, capture_output=True)
    return out.stdout.strip() == b"1"


SEED = r"""
import os
import random
from datetime import date, timedelta
from decimal import Decimal
from django.apps import apps
from django.utils import timezone
from core import services
from core.models import Patient, User, Ward
rng = random.Random(7)
wards = list(Ward.objects.order_by("code"))
nurse = {w.pk: User.objects.filter(ward=w, groups__name="nurse").first() for w in wards}
have = Patient.objects.count()
for i in range(have, int(os.environ["BENCH_SERVICE_PATIENTS"])):
    w = wards[i % 2]
    p = services.patient_create(actor=nurse[w.pk], data={"hospital_number": f"B{i:07d}", "name": f"Bench {i}",
        "sex": "F", "date_of_birth": date(1970, 1, 1) + timedelta(days=rng.randint(0, 15000)), "ward": w})
    services.measurement_record(actor=nurse[w.pk], patient=p, kind="weight_kg", value=Decimal("60.0"),
        measured_at=timezone.now() - timedelta(days=2))
    services.lab_result_record(actor=nurse[w.pk], patient=p, analyte="platelets", value=Decimal("180"),
        unit="10^9/L", lab="Hospital central lab", observed_at=timezone.now() - timedelta(days=2))
for cfg in apps.get_app_configs():
    if hasattr(cfg, "bench_seed"):
        cfg.bench_seed(screenings=300, episodes=100)
from core.models import AuditEvent
events = AuditEvent.objects.count()
print("patients", Patient.objects.count(), "audit events", events)
"""


def _fresh(db, template=None):
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}" + (f" TEMPLATE {template}" if template else ""))
    shutil.rmtree(checkpoint_dir(db), ignore_errors=True)
    if template and checkpoint_dir(template).exists():
        shutil.copytree(checkpoint_dir(template), checkpoint_dir(db))


def top_up(db, patients, audit_events):
    """Patients and audit events by COPY (bench/seed_scale.py), then a full verification
    of the chain (timed: `audit_verify` at this size)."""
    if patients or audit_events:
        subprocess.run(
            [PY, "bench/seed_scale.py", f"--patients={patients}", f"--audit-events={audit_events}"],
            cwd=ROOT,
            env=env(db),
            check=True,
        )
    started = time.perf_counter()
    manage("audit_verify", db=db)
    print(f"audit_verify on {db}: {time.perf_counter() - started:.1f} s")


def build_db(patients, audit_events, db=DB):
    _fresh(db)
    manage("migrate", "-v0", db=db)
    manage("seed_demo", db=db, stdout=subprocess.DEVNULL)
    e = env(db)
    e["BENCH_SERVICE_PATIENTS"] = str(min(patients, SERVICE_PATIENTS))
    subprocess.run([PY, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=e, check=True)
    top_up(db, patients if patients > SERVICE_PATIENTS else 0, audit_events)


def build_scale_db(patients, audit_events):
    """The first database copied (PostgreSQL's TEMPLATE: a file copy), then topped up."""
    _fresh(SCALE_DB, template=DB)
    manage("migrate", "-v0", db=SCALE_DB)
    top_up(SCALE_DB, patients, audit_events)


def patient_count(db):
    return int(psql("SELECT count(*) FROM core_patient", db=db, capture_output=True).stdout)


def audit_event_count(db):
    out = psql("SELECT coalesce(max(seq), 0) FROM core_auditevent", db=db, capture_output=True)
    return int(out.stdout)


class User:
    def __init__(self, username, password):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.cookies = {}
        self.username, self.password = username, password

    def clone(self):
        """Another virtual user on this one's session (its own connection and cookie jar;
        what `prepare` read is shared, read-only): 100 users need not sign in 400 times,
        each a password hash on the server, before the clock starts."""
        other = User(self.username, self.password)
        other.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("conn", "cookies")}
        )
        other.cookies = dict(self.cookies)
        return other

    def request(self, method, path, body=None, headers=None):
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if "csrftoken" in self.cookies:
            h["X-CSRFToken"] = self.cookies["csrftoken"]
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(body)
        h.update(headers or {})
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=h)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # gunicorn closes an idle keep-alive connection after a few seconds; a
                # browser re-sends on a fresh connection, and so does this client (the
                # retry is what gets timed).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - start
        for header in response.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie(header)
            for k, morsel in c.items():
                self.cookies[k] = morsel.value
        return response.status, data, elapsed

    def login(self):
        self.request("GET", "/login/")
        status, _, _ = self.request(
            "POST",
            "/login/",
            {
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            },
        )
        assert status == 302, f"login failed for {self.username}: {status}"


def page_mix():
    """(name, role, callable(user, rng) -> (status, elapsed)) for the pages that exist."""
    return _load_pages()[0]


def _load_pages():
    """(the page mix, the apps' ``prepare(user)`` hooks)."""
    sys.path.insert(0, str(ROOT))
    mix = [
        ("floor /health/", "dr.li", lambda u, r: u.request("GET", "/health/")),
        (
            "patient list",
            "dr.li",
            lambda u, r: u.request("GET", f"/patients/?page={r.randint(1, 20)}"),
        ),
        (
            "audit browser",
            "audit.admin",
            lambda u, r: u.request("GET", f"/audit/?page={r.randint(1, 50)}"),
        ),
        (
            "audit hash-chain panel (htmx)",
            "audit.admin",
            lambda u, r: u.request("GET", "/audit/chain/", headers={"HX-Request": "true"}),
        ),
    ]
    try:
        from bench import load_pages  # written by the screening/infusion apps
    except ImportError:
        return mix, []
    mix.extend(load_pages.PAGES)
    return mix, list(getattr(load_pages, "PREPARE", []))


PASSWORDS = {
    "dr.li": "Physician-demo-2026",
    "audit.admin": "Admin-demo-2026",
    "pharm.chen": "Pharmacist-demo-2026",
    "nurse.wang": "Nurse-demo-2026",
}


POOL = 20  # distinct signed-in sessions per role; more users share them (User.clone)


def _cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _host_busy():
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return sum(cpu) - idle, sum(cpu)


def run(users, seconds, think=0.0, server_pid=None):
    mix, prepare = _load_pages()
    results = {name: [] for name, _, _ in mix}
    errors = {name: 0 for name, _, _ in mix}
    lateness = []  # how much later than asked each think-time sleep woke (the GIL, the host)
    lock = threading.Lock()
    # Every user signs in and reads what it needs (links, form fields) before the clock
    # starts: parsing a 50 kB form in the client is client CPU, and inside the measured
    # window it would hold this process's GIL while other users' responses wait.
    pool = [None] * min(users, POOL)

    def sign_in(k):
        sessions = {}
        for _, role, _ in mix:
            if role not in sessions:
                sessions[role] = User(role, PASSWORDS[role])
                sessions[role].login()
        for hook in prepare:
            hook(sessions)
        pool[k] = sessions

    signing = [threading.Thread(target=sign_in, args=(k,)) for k in range(len(pool))]
    for t in signing:
        t.start()
    for t in signing:
        t.join()
    stop = [0.0]
    usage = {}

    def snapshot():
        workers = _children(server_pid) if server_pid else []
        return {
            "client": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
            "server": _cpu_ticks(workers),
            "host": _host_busy(),
            "wall": time.monotonic(),
        }

    def start_clock():
        usage["start"] = snapshot()
        stop[0] = time.monotonic() + seconds

    ready = threading.Barrier(users + 1, action=start_clock)  # runs before anyone is let go

    def worker(i):
        rng = random.Random(i)
        sessions = {role: user.clone() for role, user in pool[i % len(pool)].items()}
        ready.wait()
        while time.monotonic() < stop[0]:
            name, role, fn = mix[rng.randrange(len(mix))]
            try:
                status, _, elapsed = fn(sessions[role], rng)
            except (OSError, http.client.HTTPException):
                status, elapsed = 599, 0.0
            with lock:
                if status >= 400:
                    errors[name] += 1
                else:
                    results[name].append(elapsed)
            if think:
                # A person reads the page before the next click: 0.5–1.5 × --think seconds.
                pause = think * rng.uniform(0.5, 1.5)
                slept = time.perf_counter()
                time.sleep(pause)
                late = time.perf_counter() - slept - pause
                with lock:
                    lateness.append(late)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    end, start = snapshot(), usage["start"]
    wall = end["wall"] - start["wall"]
    busy = (end["host"][0] - start["host"][0]) / max(1, end["host"][1] - start["host"][1])
    load = {
        "client_cpu": (end["client"] - start["client"]) / wall,  # of one core
        "server_cpu": (end["server"] - start["server"]) / wall,  # cores
        "host_busy": busy * (os.cpu_count() or 1),  # cores
        "late_p95_ms": pct(lateness, 0.95),
        "requests_per_s": sum(len(v) for v in results.values()) / wall,
    }
    return results, errors, load


def pct(values, q):
    values = sorted(values)
    return (
        values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000
        if values
        else float("nan")
    )


def serve_and_measure(db, args):
    # Fresh planner statistics, as autovacuum keeps them in production (this machine's
    # PostgreSQL runs with autovacuum off, so a new database would never be analysed).
    psql("ANALYZE", db=db)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env(db),
    )
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/health/")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        run(2, 3)  # warm-up
        return run(args.users, args.seconds, args.think, server_pid=server.pid)
    finally:
        server.terminate()
        server.wait(10)


def table(title, args, results, errors, load):
    floor = pct(results["floor /health/"], 0.95)
    print(
        f"\n{title}: {args.users} users, think time {args.think:g} s, {args.seconds} s, "
        f"gunicorn {args.workers} workers × {args.threads} threads, PostgreSQL\n"
    )
    ratio_target = args.users <= 20
    print("| page | requests | errors | p50 ms | p95 ms | p95 / floor p95 | target | met |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    missed = []
    for name, values in results.items():
        p50, p95 = pct(values, 0.5), pct(values, 0.95)
        if name.startswith("floor"):
            target, met = "(the floor)", "—"
        elif "PDF" in name:
            target, ok = "p95 ≤ 1,500 ms", p95 <= 1500
            met = "yes" if ok else "no"
        elif ratio_target:
            target, ok = "p95 ≤ 150 ms and ≤ 3× floor", p95 <= 150 and p95 <= 3 * floor
            met = "yes" if ok else "no"
        else:
            target, ok = "p95 ≤ 150 ms", p95 <= 150
            met = "yes" if ok else "no"
        if met == "no" or errors[name] or not values:
            missed.append(name)
        print(
            f"| {name} | {len(values)} | {errors[name]} | {p50:.1f} | {p95:.1f} | "
            f"{p95 / floor:.2f} | {target} | {met} |"
        )
    print(
        f"\n{load['requests_per_s']:.0f} requests/s; the load generator used "
        f"{100 * load['client_cpu']:.0f} % of one core (its threads share one GIL), its "
        f"think-time sleeps woke {load['late_p95_ms']:.1f} ms late at p95; gunicorn's "
        f"workers used {load['server_cpu']:.2f} cores, the whole host "
        f"{load['host_busy']:.2f} of {os.cpu_count()} (PostgreSQL and anything else included)."
    )
    print("targets: " + ("met" if not missed else "missed for " + ", ".join(missed)))
    return missed


def compare(first, second, results_a, results_b):
    print(f"\np95 at {second} / p95 at {first} (target ≤ 1.5×)\n")
    # The same ratio over each run's floor too: on a shared host the floor moves with
    # the other load, and this column shows what the size alone changed.
    print(
        f"| page | p95 ms at {first} | p95 ms at {second} | ratio | met | "
        "ratio of (p95 / floor p95) |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: |")
    floor_a = pct(results_a["floor /health/"], 0.95)
    floor_b = pct(results_b["floor /health/"], 0.95)
    missed = []
    for name in results_a:
        if name.startswith("floor"):
            continue
        a, b = pct(results_a[name], 0.95), pct(results_b.get(name, []), 0.95)
        ok = b <= 1.5 * a
        missed += [] if ok else [name]
        print(
            f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} | {'yes' if ok else 'no'} | "
            f"{(b / floor_b) / (a / floor_a):.2f} |"
        )
    print("scale target: " + ("met" if not missed else "missed for " + ", ".join(missed)))
    return missed


def _size(patients, events):
    return f"{patients:,} patients / {events:,} audit events"


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=120)  # ~300 samples a page: a steadier p95
    # The README's production command: (2 × cores) + 1 = 5 sync workers on this host.
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a user waits between requests (0: closed loop, saturates the host)",
    )
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument(
        "--audit-events",
        type=int,
        default=0,
        help="audit events in the first database (default: what the seed writes, ≥ 5,000)",
    )
    ap.add_argument(
        "--scale",
        default="",
        metavar="PATIENTS:EVENTS",
        help="then measure again at this size (ward_bench_scale), e.g. 100000:1000000",
    )
    ap.add_argument("--skip-build", action="store_true", help="reuse the databases built before")
    ap.add_argument("--port", type=int, default=PORT)
    args = ap.parse_args()
    PORT = args.port
    scale = tuple(int(v) for v in args.scale.split(":")) if args.scale else None

    if not args.skip_build or not db_exists(DB):
        build_db(args.patients, args.audit_events)
    else:
        manage("migrate", "-v0")
        if patient_count(DB) < args.patients or audit_event_count(DB) < args.audit_events:
            top_up(DB, args.patients, args.audit_events)
    events = audit_event_count(DB)
    assert events >= 5000, f"the benchmark needs at least 5,000 audit events, has {events}"
    first = _size(args.patients, events)
    results, errors, load = serve_and_measure(DB, args)
    missed = table(first, args, results, errors, load)
    if scale:
        if not args.skip_build or not db_exists(SCALE_DB):
            build_scale_db(*scale)
        else:
            manage("migrate", "-v0", db=SCALE_DB)
            if patient_count(SCALE_DB) < scale[0] or audit_event_count(SCALE_DB) < scale[1]:
                top_up(SCALE_DB, *scale)
        second = _size(scale[0], audit_event_count(SCALE_DB))
        results_b, errors_b, load_b = serve_and_measure(SCALE_DB, args)
        missed += table(second, args, results_b, errors_b, load_b)
        missed += compare(first, second, results, results_b)
    print("\nall targets: " + ("met" if not missed else "missed"))


if __name__ == "__main__":
    main()
