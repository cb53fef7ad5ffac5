"""Shared fixtures: two wards and a user of every role on ward A, a nurse and a physician
on ward B (the "other ward"), and an auditor and system administrators, who belong to no ward."""

import pytest
from django.db import connection
from django.test import Client

from tests.factories import make_patient, make_user, make_ward


@pytest.fixture(autouse=True)
def _postgres_only(request):
    # Database tests run on PostgreSQL only (scripts/test provides it): the audit trigger,
    # row locks and skip_locked are PostgreSQL behaviour we must exercise for real.
    if "django_db_setup" in request.fixturenames and connection.vendor != "postgresql":
        pytest.exit("Database tests must run on PostgreSQL: use scripts/test.", returncode=2)


@pytest.fixture(autouse=True, scope="session")
def _private_media(tmp_path_factory):
    # Uploaded files (scanned consent forms, B-CONSENT-1) go to a directory of the test
    # run, never to the app's var/media.
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_truncate_guard():
    # A transactional test (transaction=True, live_server) ends with Django's flush: one
    # TRUNCATE of every table, which the audit table's trigger refuses, as it must in
    # production (migration core 0004). The test database belongs to the test run's
    # superuser: its flush turns that one trigger off inside its own transaction.
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return flush(
            self,
            [
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_truncate",
                *sql_list,
                "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_truncate",
            ],
        )

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = flush


@pytest.fixture(autouse=True)
def _audit_checkpoints(tmp_path, settings):
    # Each test's database starts empty, so each gets its own audit checkpoint file (one
    # shared across tests would record a head that a later test's table never had).
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture
def ward_a(db):
    return make_ward("ward-a", "Ward A")


@pytest.fixture
def ward_b(db):
    return make_ward("ward-b", "Ward B")


@pytest.fixture
def physician(ward_a):
    return make_user("physician", ward_a, username="doc", investigator=True)


@pytest.fixture
def physician2(ward_a):
    return make_user("physician", ward_a, username="doc2")


@pytest.fixture
def nurse(ward_a):
    return make_user("nurse", ward_a, username="nurse")


@pytest.fixture
def pharmacist(ward_a):
    return make_user("pharmacist", ward_a, username="pharm")


@pytest.fixture
def pharmacist2(ward_a):
    return make_user("pharmacist", ward_a, username="pharm2")


@pytest.fixture
def auditor(db):
    return make_user("auditor", None, username="auditor", is_staff=True)


@pytest.fixture
def sysadmin(db):
    return make_user("sysadmin", None, username="sysadmin", is_staff=True)


@pytest.fixture
def sysadmin2(db):
    """A second system administrator: approves what the first proposes."""
    return make_user("sysadmin", None, username="sysadmin2", is_staff=True)


@pytest.fixture
def nurse_b(ward_b):
    return make_user("nurse", ward_b, username="nurse_b")


@pytest.fixture
def physician_b(ward_b):
    return make_user("physician", ward_b, username="doc_b", investigator=True)


@pytest.fixture
def patient(ward_a):
    return make_patient(ward_a, name="Alice Example")


@pytest.fixture
def patient_b(ward_b):
    return make_patient(ward_b, name="Bob Otherward")


@pytest.fixture
def login():
    """login(user) -> a test client signed in as that user."""

    def _login(user):
        client = Client()
        client.force_login(user)
        return client

    return _login


def pytest_terminal_summary(terminalreporter):
    # Issue 16: how many hostile cases the fuzz suites sent (printed with or without -s).
    from tests.security.hostile import CASES

    if CASES:
        counts = ", ".join(f"{n} {suite}" for suite, n in sorted(CASES.items()))
        terminalreporter.write_line(f"hostile-input fuzz cases: {counts}")
