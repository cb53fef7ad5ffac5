"""Exactly-once delivery with real processes: a private redis-server, `celery worker` and
`celery beat` subprocesses on the test database, e-mail to files we can count.

Each test commits its reminders (transaction=True) so the worker processes see them,
breaks something for real (kills Redis, SIGKILLs a worker mid-send, keeps beat away for
five minutes of due time), and then counts: one in-app delivery and one e-mail per
reminder, no more, no less.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from datetime import time as wall_time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core.reminders.models import DeliveryStatus, Reminder, ReminderDelivery, ReminderStatus
from core.reminders.times import local_hhmm, local_to_utc
from tests.factories import make_patient, make_user, make_ward

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 8  # the delivery task's hard time limit is half: 4 s


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    tails = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists()
    )
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")


class RedisServer:
    """Our own redis-server (no persistence), so restarting it disturbs nobody else."""

    def __init__(self, workdir):
        self.port = _free_port()
        self.workdir = workdir
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            start_new_session=True,
        )
        wait_for(self._pings, 10, "redis-server")

    def _pings(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def crash(self):
        """SIGKILL: everything in it (queued and unacknowledged messages) is gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def flushall(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(16).startswith(b"+OK")


class Celery:
    """A `celery -A config …` subprocess in its own process group."""

    def __init__(self, name, args, env, workdir):
        self.log = workdir / f"{name}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                *args,
                "--loglevel",
                "INFO",
                "--logfile",
                str(self.log),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"{name}.err", "ab"),
        )

    def text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def terminate(self):
        """SIGTERM, as an orderly shutdown (or a deploy) stops it; wait until it is gone."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the main process and its pool
            except ProcessLookupError:
                pass
            self.proc.wait(10)


class Cluster:
    """A Redis, and workers and beat started on demand; everything killed at the end."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.redis = RedisServer(tmp_path)
        self.procs = []

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env.update(
            APP_ENV="test",
            APP_VAR_DIR=str(self.dir / "var"),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            CELERY_BROKER_URL=self.redis.url,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            REMINDER_SWEEP_SECONDS="1",
            REMINDER_LEASE_SECONDS=str(LEASE_SECONDS),
            REMINDER_DELIVERY_BATCH="2",  # many small tasks: a real queue to lose
            PYTHONUNBUFFERED="1",
        )
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def worker(self, name="worker", **env):
        proc = Celery(
            name,
            [
                "worker",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"{name}-{uuid.uuid4().hex[:8]}@%h",
            ],
            self.env(**env),
            self.dir,
        )
        self.procs.append(proc)
        wait_for(lambda: " ready." in proc.text(), 30, f"{name} ready", self.logs())
        return proc

    def beat(self, name="beat"):
        proc = Celery(
            name,
            [
                "beat",
                "--schedule",
                str(self.dir / f"{name}-schedule"),
                "--pidfile",
                str(self.dir / f"{name}.pid"),
            ],
            self.env(),
            self.dir,
        )
        self.procs.append(proc)
        wait_for(lambda: "beat: Starting" in proc.text(), 30, f"{name} started", self.logs())
        return proc

    def logs(self):
        return sorted(self.dir.glob("*.log")) + sorted(self.dir.glob("*.err"))

    def stop(self):
        for proc in self.procs:
            proc.kill()
        self.redis.crash()

    def emails(self):
        """The Message-IDs of every e-mail written, one per message sent."""
        ids = []
        for path in self.mail_dir.glob("*.log"):
            ids += re.findall(r"^Message-ID: (<reminder-[^>]+>)$", path.read_text(), re.M)
        return ids


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path)
    cluster.redis.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def ward_nurse():
    ward = make_ward("ward-a", "Ward A")
    nurse = make_user("nurse", ward, email="nurse@ward.example")
    return ward, nurse, make_patient(ward)


def _reminders(ward_nurse, n, due_at, tag):
    ward, _nurse, patient = ward_nurse
    return [
        Reminder.objects.create(
            subject_type="reliability",
            subject_id=tag,
            step=f"s{i}",
            patient=patient,
            ward=ward,
            recipient_role="nurse",
            due_at=due_at,
            title_template="Reminder %(n)s",
            title_params={"n": i},
        ).pk
        for i in range(n)
    ]


def _sent_count(ids):
    return Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENT).count()


def assert_exactly_once(cluster, ids, nurse):
    deliveries = ReminderDelivery.objects.filter(reminder_id__in=ids)
    assert deliveries.filter(channel="in_app", status=DeliveryStatus.SENT).count() == len(ids)
    assert deliveries.filter(channel="email", status=DeliveryStatus.SENT).count() == len(ids)
    assert deliveries.count() == 2 * len(ids)
    emails = cluster.emails()
    expected = {f"<reminder-{pk}-{nurse.pk}@localhost>" for pk in ids}
    assert len(emails) == len(ids), f"{len(emails)} e-mails for {len(ids)} reminders"
    assert set(emails) == expected


@pytest.mark.parametrize("outage", ["restart", "flush"])
def test_every_reminder_is_delivered_once_when_redis_loses_its_queue(cluster, ward_nurse, outage):
    _ward, nurse, _patient = ward_nurse
    # Slow sends (0.3 s each) so a queue of claimed reminders sits in Redis.
    cluster.worker(REMINDER_TEST_DELIVERY_DELAY_SECONDS=0.3)
    cluster.beat()
    ids = _reminders(ward_nurse, 20, timezone.now(), outage)
    wait_for(lambda: _sent_count(ids) >= 2, 30, "the first deliveries", cluster.logs())

    claimed_in_redis = Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENDING).count()
    assert claimed_in_redis > 0  # messages that are about to be lost
    if outage == "restart":
        cluster.redis.crash()
        time.sleep(2)
        cluster.redis.start()  # empty: no persistence
    else:
        cluster.redis.flushall()

    wait_for(lambda: _sent_count(ids) == len(ids), 60, "every reminder sent", cluster.logs())
    time.sleep(LEASE_SECONDS / 2)  # any straggling duplicate task would land now
    assert_exactly_once(cluster, ids, nurse)
    assert Reminder.objects.filter(pk__in=ids, attempts__gt=1).exists()  # re-claimed after the loss


def test_a_worker_killed_mid_send_delivers_once_after_restart(cluster, ward_nurse):
    _ward, nurse, _patient = ward_nurse
    first = cluster.worker("doomed", REMINDER_TEST_DELIVERY_DELAY_SECONDS=2)
    cluster.beat()
    ids = _reminders(ward_nurse, 1, timezone.now(), "kill")
    # The e-mail row is "pending": the worker is inside the send.
    wait_for(
        lambda: ReminderDelivery.objects.filter(
            reminder_id__in=ids, channel="email", status=DeliveryStatus.PENDING
        ).exists(),
        30,
        "the worker to start sending",
        cluster.logs(),
    )
    first.kill()
    assert cluster.emails() == []
    assert _sent_count(ids) == 0

    cluster.worker("survivor")
    wait_for(
        lambda: _sent_count(ids) == 1, 4 * LEASE_SECONDS + 10, "the re-delivery", cluster.logs()
    )
    assert_exactly_once(cluster, ids, nurse)
    email = ReminderDelivery.objects.get(reminder_id=ids[0], channel="email")
    assert email.attempts == 2  # taken over from the dead sender


def test_workers_killed_mid_batch_send_again_at_most_the_one_message_in_flight_each(
    cluster, ward_nurse
):
    _ward, nurse, _patient = ward_nurse
    ids = _reminders(ward_nurse, 12, timezone.now(), "mid-batch")
    # One task carries all twelve (one batch), each e-mail takes 0.3 s: a SIGKILL lands in
    # the middle of the batch, after some of its e-mails have gone.
    slow = {"REMINDER_DELIVERY_BATCH": 12, "REMINDER_TEST_DELIVERY_DELAY_SECONDS": 0.3}
    beat = None
    kills = 2
    for kill in range(kills):
        doomed = cluster.worker(f"doomed-{kill}", **slow)
        beat = beat or cluster.beat()
        before = len(cluster.emails())
        wait_for(
            lambda before=before: len(cluster.emails()) >= before + 3,
            4 * LEASE_SECONDS + 20,
            "a few e-mails of the batch",
            cluster.logs(),
        )
        doomed.kill()
        on_disk = len(cluster.emails())
        marked = ReminderDelivery.objects.filter(
            reminder_id__in=ids, channel="email", status=DeliveryStatus.SENT
        ).count()
        # Each e-mail was marked "sent" as it left: at the kill, every e-mail written is
        # marked but at most the one in flight.
        assert marked <= on_disk <= marked + 1
        assert on_disk < len(ids), "the kill came after the whole batch: nothing was tested"

    cluster.worker("survivor")
    wait_for(
        lambda: _sent_count(ids) == len(ids), 4 * LEASE_SECONDS + 20, "the rest", cluster.logs()
    )
    emails = cluster.emails()
    assert set(emails) == {f"<reminder-{pk}-{nurse.pk}@localhost>" for pk in ids}  # 0 lost
    assert len(emails) - len(ids) <= kills  # at most one duplicate per killed process
    deliveries = ReminderDelivery.objects.filter(reminder_id__in=ids)
    assert deliveries.filter(status=DeliveryStatus.SENT).count() == 2 * len(ids)
    assert deliveries.count() == 2 * len(ids)


def test_after_five_minutes_without_beat_every_missed_reminder_is_sent_marked_late(
    settings, cluster, ward_nurse
):
    _ward, nurse, _patient = ward_nurse
    cluster.worker()
    # Beat is down: these came due over the last five minutes and nobody swept them.
    now = timezone.now()
    ids = []
    for minutes_ago in (5, 4, 3):
        ids += _reminders(
            ward_nurse, 3, now - timedelta(minutes=minutes_ago), f"late-{minutes_ago}"
        )
    time.sleep(2)
    assert Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SCHEDULED).count() == len(ids)

    cluster.beat()
    wait_for(lambda: _sent_count(ids) == len(ids), 30, "the catch-up", cluster.logs())
    assert_exactly_once(cluster, ids, nurse)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("late", flat=True)) == {True}
    subjects = [
        line
        for path in cluster.mail_dir.glob("*.log")
        for line in path.read_text().splitlines()
        if line.startswith("Subject: ")
    ]
    for minutes_ago in (5, 4, 3):
        hhmm = local_hhmm(now - timedelta(minutes=minutes_ago))
        assert sum(f"(late: due {hhmm})" in s for s in subjects) == 3


def _subjects(cluster):
    return [
        line
        for path in cluster.mail_dir.glob("*.log")
        for line in path.read_text().splitlines()
        if line.startswith("Subject: ")
    ]


def test_beat_stopped_for_five_minutes_then_restarted_sends_each_missed_reminder_once_late(
    cluster, ward_nurse
):
    _ward, nurse, _patient = ward_nurse
    cluster.worker()
    beat = cluster.beat()
    # Beat is running and delivering: a reminder due now goes out on time.
    on_time = _reminders(ward_nurse, 1, timezone.now(), "on-time")
    wait_for(lambda: _sent_count(on_time) == 1, 30, "the on-time reminder", cluster.logs())

    # Beat stops (SIGTERM, as in a deploy). Reminders planned for later are scheduled...
    beat.terminate()
    assert beat.proc.poll() is not None
    ids = _reminders(ward_nurse, 6, timezone.now() + timedelta(hours=1), "missed")
    time.sleep(2)  # a live beat would sweep at least once in this time: nothing does
    assert _sent_count(ids) == 0
    # ...and beat stays away for five minutes while they fall due: back-date them so.
    now = timezone.now()
    for i, pk in enumerate(ids):
        Reminder.objects.filter(pk=pk).update(due_at=now - timedelta(minutes=5, seconds=-10 * i))
    time.sleep(2)
    assert Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SCHEDULED).count() == 6

    cluster.beat()  # the same schedule file: beat picks up where it stopped
    wait_for(lambda: _sent_count(ids) == len(ids), 30, "the catch-up", cluster.logs())
    time.sleep(3)  # a few more sweeps: a duplicate would show now
    assert_exactly_once(cluster, on_time + ids, nurse)
    rows = Reminder.objects.filter(pk__in=ids)
    assert set(rows.values_list("late", flat=True)) == {True}
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert not Reminder.objects.get(pk=on_time[0]).late
    assert sum("(late: due " in s for s in _subjects(cluster)) == len(ids)


def test_two_beats_sweeping_at_once_deliver_each_reminder_once(cluster, ward_nurse):
    _ward, nurse, _patient = ward_nurse
    # Two workers and two beats (a misconfigured deploy), both sweeping every second.
    cluster.worker("worker-1")
    cluster.worker("worker-2")
    ids = []
    ids += _reminders(ward_nurse, 10, timezone.now() - timedelta(seconds=30), "two-beats-due")
    cluster.beat("beat-1")
    cluster.beat("beat-2")
    # More come due while both sweep, a few every half second.
    for batch in range(6):
        ids += _reminders(ward_nurse, 5, timezone.now(), f"two-beats-{batch}")
        time.sleep(0.5)
    wait_for(lambda: _sent_count(ids) == len(ids), 45, "every reminder sent", cluster.logs())
    time.sleep(3)  # several more sweeps by both beats
    assert_exactly_once(cluster, ids, nurse)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    # Both beats really did sweep (each sent the task), so the race was real.
    for name in ("beat-1", "beat-2"):
        log = (cluster.dir / f"{name}.log").read_text(errors="replace")
        assert log.count("Sending due task") >= 3, name


# DST change days: 8 March and 1 November 2026 in New York; Shanghai has none.
DST_DAYS = [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
DST_DAYS += [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Shanghai"])
def test_a_real_worker_shows_the_ward_wall_clock_across_dst(cluster, ward_nurse, zone):
    _ward, nurse, _patient = ward_nurse
    # 08:00 on each day, as the ward's wall clock says: 13:00 or 12:00 UTC in New York.
    dues = [local_to_utc(day, wall_time(8, 0), zone) for day in DST_DAYS]
    offsets = {(due.hour, due.minute) for due in dues}
    assert offsets == ({(13, 0), (12, 0)} if zone == "America/New_York" else {(0, 0)})
    ids = [_reminders(ward_nurse, 1, due, f"dst-{due:%m%d}")[0] for due in dues]
    cluster.worker(TIME_ZONE=zone)
    cluster.beat()
    wait_for(lambda: _sent_count(ids) == len(ids), 30, "every reminder sent", cluster.logs())
    assert_exactly_once(cluster, ids, nurse)
    subjects = _subjects(cluster)
    # The worker renders each due time in the ward's zone: 08:00 every day, DST or not.
    assert sum("(late: due 08:00)" in s for s in subjects) == len(ids), subjects
