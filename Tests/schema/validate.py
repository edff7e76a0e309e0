#!/usr/bin/env python3
"""Validates ghostport EVE JSON lines against eve.schema.json (JSON Schema draft 2020-12).

usage: validate.py [--schema SCHEMA] FILE.jsonl...

Checks the schema itself, then every line of every file, with format checking (ipv4, ipv6).
Prints each failing line as FILE:LINE: path: message, and a summary. Exit 0 when every line
is valid, 1 when some line is not (or a file has no lines), 3 when jsonschema is missing.
"""
import argparse, json, os, sys

try:
    import jsonschema
except ImportError:
    print("validate.py: the python jsonschema package is not installed", file=sys.stderr)
    sys.exit(3)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", default=os.path.join(here, "eve.schema.json"))
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    schema = json.load(open(a.schema))
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    bad = 0
    total = 0
    by_type = {}
    for path in a.files:
        lines = 0
        with open(path) as f:
            for number, line in enumerate(f, 1):
                lines += 1
                total += 1
                try:
                    record = json.loads(line)
                except ValueError as error:
                    print("%s:%d: not JSON: %s" % (path, number, error))
                    bad += 1
                    continue
                kind = record.get("event_type", "?") if isinstance(record, dict) else "?"
                if kind == "alert" and isinstance(record.get("ghostport"), dict) and record["ghostport"].get("kind") == "scan":
                    kind = "alert/scan"
                by_type[kind] = by_type.get(kind, 0) + 1
                errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
                if errors:
                    bad += 1
                    for error in errors:
                        where = "/".join(str(p) for p in error.absolute_path) or "(record)"
                        print("%s:%d: %s: %s" % (path, number, where, error.message))
        if lines == 0:
            print("%s: no records" % path)
            bad += 1
    summary = ", ".join("%s %d" % item for item in sorted(by_type.items()))
    print("%d records (%s); %d invalid" % (total, summary, bad))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
