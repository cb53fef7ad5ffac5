"""Issue 16: the hostile values the fuzz suites post into every form field and every JSON
field (tests/security/test_fuzz_forms.py, test_fuzz_json.py), and the count of cases
sent, printed at the end of the run (tests/conftest.py, ``pytest_terminal_summary``).

Each class is a thing a real request has done to a web app: a year-1 or year-9999 time,
a number whose exponent would make Decimal or float work for minutes, control characters
(NUL breaks PostgreSQL, a vertical tab folds an e-mail header), a 1 MB string.
"""

from collections import Counter

MEGA = "x" * 1_000_000

# Form fields: text as a browser would post it.
FORM_VALUES = {
    "year 1": "0001-01-01T00:00",
    "year 9999": "9999-12-31T23:59",
    "year-1 date": "0001-01-01",
    "year-9999 date": "9999-12-31",
    "tiny exponent": "1e-999999999",
    "huge exponent": "1e999999999",
    "NUL": "fuzz\x00fuzz",
    "control characters": "fuzz\x0b\x0c\x1c\x85fuzz",
    "1 MB string": MEGA,
}

# JSON fields: literals as they appear in the body (numbers are never read as floats).
JSON_NUMBERS = {
    "tiny exponent": "1e-999999999",
    "huge exponent": "1e999999999",
    "negative huge exponent": "-1e999999999",
}
JSON_VALUES = {
    **JSON_NUMBERS,
    "year 1": '"0001-01-01T00:00:00+00:00"',
    "year 9999": '"9999-12-31T23:59:59+14:00"',
    "year-1 date": '"0001-01-01"',
    "year-9999 date": '"9999-12-31"',
    "NUL": '"fuzz\\u0000fuzz"',
    "control characters": '"fuzz\\u000b\\u000c\\u001c\\u0085fuzz"',
    "1 MB string": '"' + MEGA + '"',
}

# The answer to any one request, and to a hostile number in an API.
REQUEST_BUDGET_S = 2.0
HOSTILE_NUMBER_BUDGET_MS = 50

CASES = Counter()  # suite -> requests sent


def count(suite, n=1):
    CASES[suite] += n
