"""The engine is pure Python: no Django import anywhere in infusion/engine."""

import ast
import subprocess
import sys

from . import repo_root

ENGINE_DIR = repo_root() / "infusion" / "engine"


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(first, ast.Constant):
                yield str(first.value)


def test_it_has_engine_modules_to_scan():
    assert len(list(ENGINE_DIR.rglob("*.py"))) >= 10


def test_no_engine_module_imports_django():
    offenders = {
        str(path.relative_to(repo_root())): module
        for path in ENGINE_DIR.rglob("*.py")
        for module in imported_modules(path)
        if module == "django" or module.startswith("django.")
    }
    assert not offenders


def test_importing_the_engine_loads_no_django_module():
    code = (
        "import sys, infusion.engine\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'django')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo_root(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
