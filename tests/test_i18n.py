"""Every string is translatable and the Chinese catalogues are complete."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CATALOGUES = [p for p in CATALOGUES if ".venv" not in p.parts]


def test_there_is_a_chinese_catalogue_for_the_shell():
    assert ROOT / "locale/zh_Hans/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_chinese_catalogue_has_no_untranslated_or_fuzzy_entry(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_makemessages_finds_no_string_missing_from_the_catalogues(tmp_path):
    """Re-extract into a copy of the tree: any msgid not already in a catalogue is a string
    someone added without translating it."""
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".git", "__pycache__", "test-artifacts", "node_modules"
        ),
    )
    (copy / ".venv").symlink_to(ROOT / ".venv")
    subprocess.run(["bash", "scripts/i18n"], cwd=copy, check=True, capture_output=True, timeout=300)
    new_ids = {}
    for po_path in CATALOGUES:
        rel = po_path.relative_to(ROOT)
        before = {e.msgid for e in polib.pofile(str(po_path))}
        after = {e.msgid for e in polib.pofile(str(copy / rel))}
        if after - before:
            new_ids[str(rel)] = sorted(after - before)[:10]
    for po_path in copy.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"):
        if not (ROOT / po_path.relative_to(copy)).exists() and any(
            e.msgid for e in polib.pofile(str(po_path))
        ):
            new_ids[str(po_path.relative_to(copy))] = ["(no catalogue committed)"]
    assert not new_ids, (
        f"strings missing from the catalogues (run scripts/i18n and translate): {new_ids}"
    )


@pytest.mark.django_db
def test_the_ui_switches_to_chinese_and_remembers_it_on_the_user(login, nurse, patient):
    client = login(nurse)
    response = client.post("/language/", {"language": "zh-hans", "next": "/patients/"})
    assert response.status_code == 302
    body = client.get("/patients/").content.decode()
    assert "患者" in body and "住院号" in body and '<html lang="zh-hans">' in body
    nurse.refresh_from_db()
    assert nurse.language == "zh-hans"


@pytest.mark.django_db
def test_an_unknown_language_is_refused(login, nurse):
    assert login(nurse).post("/language/", {"language": "xx"}).status_code == 400


def test_python_can_compile_the_catalogues():
    result = subprocess.run(
        [sys.executable, "manage.py", "compilemessages", "-v0", "--ignore=.venv", "--ignore=var"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
