"""Tests of the infusion app.

Guard: if tests/ has no ``__init__.py``, pytest's default (prepend) import mode imports
this directory as the top-level package ``infusion`` and the real app becomes
unimportable, with a confusing ImportError. Fail with the actual cause instead.
"""

if __name__ == "infusion":
    raise ImportError(
        "tests/__init__.py is missing: pytest imported tests/infusion as the top-level "
        "package 'infusion', shadowing the real infusion app. Add an empty tests/__init__.py."
    )
