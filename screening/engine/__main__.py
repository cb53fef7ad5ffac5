"""python -m screening.engine FACTS.json [--json]: evaluate one facts document."""

from __future__ import annotations

import argparse
import json
import sys

from . import evaluate, evaluation_to_text, validate_facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m screening.engine")
    parser.add_argument("facts", help="facts document (JSON); - for stdin")
    parser.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    args = parser.parse_args(argv)
    with open(args.facts if args.facts != "-" else 0, encoding="utf-8") as handle:
        doc = json.load(handle)
    errors = validate_facts(doc)
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        return 2
    evaluation = evaluate(doc)
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(evaluation_to_text(evaluation), end="")
    return {"eligible": 0, "incomplete": 1, "ineligible": 3}[evaluation.overall.value]


if __name__ == "__main__":
    sys.exit(main())
