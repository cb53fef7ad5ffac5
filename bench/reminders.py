"""Reminder benchmark: 10,000 due reminders drained by one Celery worker on Redis.

    .venv/bin/python bench/reminders.py [--count 10000] [--concurrency 2] [--sweep beat|direct]
                                        [--redis-url redis://…] [--keep-db]

Builds its own database (ward_bench_reminders, dropped at the end unless --keep-db),
starts a private redis-server on a free port (or uses --redis-url), one `celery worker`
(prefork, --concurrency) and, with --sweep beat (the default), one `celery beat` with the
production 30 s sweep interval. Each reminder goes to one nurse with an e-mail address, so
every reminder is two deliveries: the notification centre and one e-mail (file backend,
so the e-mails can be counted).

Timing is the worst case for the beat phase: the reminders are made due right after a
beat tick, so each waits almost a whole interval before the sweep claims it.
`--sweep direct` instead sweeps in this process the moment they are due (claim and
enqueue cost, without the beat phase).

Prints throughput (reminders delivered per second from the first claim to the last
delivery), due→delivered p50/p95/max, and duplicates (e-mails written minus distinct
Message-IDs, plus delivery rows beyond one per channel). Targets: ≥ 500/s, p95 ≤ 60 s,
0 duplicates.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = "ward_bench_reminders"
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sweep", choices=["beat", "direct"], default="beat")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    procs = []
    redis_port = None
    if args.redis_url:
        broker = args.redis_url
    else:
        redis_port = free_port()
        broker = f"redis://127.0.0.1:{redis_port}/0"

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        APP_ENV="test",
        APP_VAR_DIR=str(work / "var"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        CELERY_BROKER_URL=broker,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        REMINDER_SWEEP_SECONDS="30",
        LOG_LEVEL="WARNING",
    )

    def spawn(name, cmd):
        log = open(work / f"{name}.log", "ab")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        procs.append(proc)
        return work / f"{name}.log"

    try:
        subprocess.run([*PG, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"], check=True)
        subprocess.run([*PG, f"CREATE DATABASE {DB}"], check=True)
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

        if redis_port:
            spawn(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(work),
                ],
            )
            wait_for(lambda: redis_ping(redis_port), 10, "redis-server")

        celery = [sys.executable, "-m", "celery", "-A", "config"]
        worker_log = spawn(
            "worker",
            [
                *celery,
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(args.concurrency),
                "--pool",
                "prefork",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"bench-{uuid.uuid4().hex[:6]}@%h",
            ],
        )
        wait_for(lambda: b" ready." in worker_log.read_bytes(), 60, "the worker")
        if args.sweep == "beat":
            beat_log = spawn(
                "beat",
                [
                    *celery,
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(work / "beat-schedule"),
                    "--pidfile",
                    str(work / "beat.pid"),
                ],
            )
            # Worst case: make them due right after a tick, so they wait a whole interval.
            wait_for(lambda: b"Sending due task" in beat_log.read_bytes(), 90, "beat's first tick")

        result = run(args, mail_dir)
        report(args, result)
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - best effort before dropping the database
            pass
        if not args.keep_db:
            subprocess.run([*PG, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"], check=False)
        shutil.rmtree(work, ignore_errors=True)


def run(args, mail_dir):
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from core.models import Patient, User, Ward
    from core.reminders import services
    from core.reminders.models import Reminder, ReminderDelivery, ReminderStatus
    from core.roles import sync_runtime

    sync_runtime()
    ward = Ward.objects.create(code="bench", name="Bench ward")
    nurse = User.objects.create_user("bench.nurse", email="nurse@bench.example", ward=ward)
    from django.contrib.auth.models import Group

    nurse.groups.add(Group.objects.get(name="nurse"))
    patient = Patient.objects.create(
        hospital_number="B0000001",
        name="Bench Patient",
        sex="F",
        date_of_birth="1980-01-01",
        ward=ward,
    )
    due_at = timezone.now()
    # Set-up only: rows straight in (reminder_schedule would add 10,000 audit events, which
    # is the plan's cost, not delivery's).
    Reminder.objects.bulk_create(
        (
            Reminder(
                subject_type="bench.Episode",
                subject_id=str(i),
                step="dexamethasone",
                patient=patient,
                ward=ward,
                recipient_role="nurse",
                due_at=due_at,
                title_template="Give dexamethasone 5 mg IV to %(patient)s (bench %(n)s)",
                title_params={"patient": patient.name, "n": i},
                rule_id="B-PREMED-1",
            )
            for i in range(args.count)
        ),
        batch_size=2000,
    )
    print(f"{args.count} reminders due at {due_at:%H:%M:%S}Z; sweep: {args.sweep}", flush=True)
    claim_seconds = None
    if args.sweep == "direct":
        started = time.monotonic()
        services.sweep()
        claim_seconds = time.monotonic() - started

    def sent():
        return Reminder.objects.filter(status=ReminderStatus.SENT).count()

    last = -1
    deadline = time.monotonic() + args.timeout
    while (done := sent()) < args.count:
        if done != last:
            print(f"  delivered {done}/{args.count}", flush=True)
            last = done
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out with {done}/{args.count} delivered")
        time.sleep(2)
    time.sleep(3)  # let any straggling duplicate task land before counting

    span = Reminder.objects.aggregate(first_claim=Min("claimed_at"), last_sent=Max("sent_at"))
    latencies = sorted(
        (r.sent_at - r.due_at).total_seconds()
        for r in Reminder.objects.only("sent_at", "due_at").iterator(chunk_size=5000)
    )
    ids = []
    for path in mail_dir.glob("*.log"):
        ids += re.findall(r"^Message-ID: (<reminder-[^>]+>)$", path.read_text(), re.M)
    per_channel = Counter(ReminderDelivery.objects.values_list("channel", flat=True))
    extra_rows = sum(
        row["n"] - 1
        for row in ReminderDelivery.objects.values("reminder_id", "channel").annotate(n=Count("id"))
        if row["n"] > 1
    )
    drain = (span["last_sent"] - span["first_claim"]).total_seconds()
    return {
        "count": args.count,
        "concurrency": args.concurrency,
        "drain_seconds": drain,
        "throughput": args.count / drain if drain else float("inf"),
        "claim_seconds": claim_seconds,
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
        "emails": len(ids),
        "distinct_emails": len(set(ids)),
        "in_app": per_channel["in_app"],
        "email_rows": per_channel["email"],
        "duplicates": (len(ids) - len(set(ids))) + extra_rows,
        "late": Reminder.objects.filter(late=True).count(),
        "reclaimed": Reminder.objects.filter(attempts__gt=1).count(),
    }


def report(args, r):
    ok = r["throughput"] >= 500 and r["p95"] <= 60 and r["duplicates"] == 0
    claim = (
        f" (claim + enqueue in this process: {r['claim_seconds']:.1f} s)"
        if r["claim_seconds"]
        else ""
    )
    print(f"""
| reminders (sweep: {args.sweep}) | worker | drain | throughput | due→delivered p50 / p95 / max | duplicates |
| --- | --- | --- | --- | --- | --- |
| {r["count"]:,} | 1 × prefork {r["concurrency"]} | {r["drain_seconds"]:.1f} s{claim} | {r["throughput"]:.0f} /s | {r["p50"]:.1f} / {r["p95"]:.1f} / {r["max"]:.1f} s | {r["duplicates"]} |

deliveries: {r["in_app"]:,} in-app, {r["email_rows"]:,} e-mail rows, {r["emails"]:,} e-mails written \
({r["distinct_emails"]:,} distinct); marked late: {r["late"]:,}; re-claimed: {r["reclaimed"]:,}
targets (≥ 500/s, p95 ≤ 60 s, 0 duplicates): {"met" if ok else "NOT MET"}""")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
