"""`manage.py audit_verify` at 100,000 and 1,000,000 events: wall time and peak memory.

    .venv/bin/python bench/audit_verify.py [--sizes 100000,1000000] [--skip-build]
        [--db ward_bench_audit]

Builds its own database (migrations, the demo users, 1,000 patients), appends a valid
keyed chain by COPY (bench/seed_scale.py: hashed exactly as core/audit.py does) up to
each size in turn, and after each runs the full verification in a fresh process, which
reports its wall time and peak resident memory (getrusage). The verification streams the
table (a server-side cursor, 2,000 rows a fetch) and the checkpoint file, so the peak
should not grow with the trail. Targets: ≤ 60 s for 1,000,000 events; peak memory flat
(within 10 % between the sizes). --skip-build reuses the database (topped up if smaller).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # bench/load.py: its database helpers

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, ".")
import django
django.setup()
from django.core.management import call_command
from core.models import AuditEvent
events = AuditEvent.objects.count()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
call_command("audit_verify")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"events": events, "seconds": seconds, "before_kb": before, "peak_kb": peak}))
"""


def build(db, skip):
    if skip and load.db_exists(db):
        load.manage("migrate", "-v0", db=db)
        return
    load._fresh(db)
    load.manage("migrate", "-v0", db=db)
    load.manage("seed_demo", db=db, stdout=subprocess.DEVNULL)


def measure(db):
    env = load.env(db)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out = subprocess.run(
        [load.PY, "-c", MEASURE], cwd=load.ROOT, env=env, check=True, capture_output=True
    )
    print(out.stdout.decode().splitlines()[0])  # audit_verify's own line
    return json.loads(out.stdout.decode().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--db", default="ward_bench_audit")
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    build(args.db, args.skip_build)
    rows = []
    for size in sizes:
        subprocess.run(
            [load.PY, "bench/seed_scale.py", "--patients=1000", f"--audit-events={size}"],
            cwd=load.ROOT,
            env=load.env(args.db),
            check=True,
        )
        rows.append(measure(args.db))
    print("\n| events | audit_verify s | events/s | peak RSS MB | RSS before verifying MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['events']:,} | {r['seconds']:.1f} | {r['events'] / r['seconds']:,.0f} | "
            f"{r['peak_kb'] / 1024:.0f} | {r['before_kb'] / 1024:.0f} |"
        )
    largest = rows[-1]
    flat = largest["peak_kb"] <= 1.1 * rows[0]["peak_kb"]
    fast = largest["seconds"] <= 60 or largest["events"] < 1_000_000
    print(
        f"\ntargets (≤ 60 s at 1,000,000 events; peak memory within 10 % across sizes): "
        f"{'met' if flat and fast else 'missed'}"
    )


if __name__ == "__main__":
    main()
