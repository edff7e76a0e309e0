#!/usr/bin/env python3
"""Validates ghostport EVE JSON lines against ghostport's schema and, with --suricata, Suricata's.

usage: validate.py [--schema SCHEMA] [--suricata SURICATA_SCHEMA] [--require KIND,...] FILE.jsonl...

- ghostport's schema (eve.schema.json beside this script, JSON Schema 2020-12, with format
  checking for ipv4/ipv6): the whole record, its `ghostport` object described strictly.
- Suricata's schema (its etc/schema.json, draft-07 style and without `$schema`, so validated
  with Draft7Validator): the record with its `ghostport` object removed, as a consumer of
  Suricata's EVE sees it.

Prints each failing line as FILE:LINE: [schema] path: message, then records per kind and the
invalid counts for each schema. Exit 0 when every line is valid against every schema given and
every kind named by --require was seen; 1 otherwise (or when a file has no lines); 3 when
jsonschema is missing.
"""
import argparse, collections, json, multiprocessing, os, signal, sys

try:
    import jsonschema
except ImportError:
    print("validate.py: the python jsonschema package is not installed", file=sys.stderr)
    sys.exit(3)


def kind_of(record):
    """event_type, with scan alerts and flood records told apart by their ghostport object."""
    if not isinstance(record, dict):
        return "?"
    kind = record.get("event_type", "?")
    ghostport = record.get("ghostport")
    if kind == "alert" and isinstance(ghostport, dict) and ghostport.get("kind") in ("scan", "flood", "backscatter"):
        kind = "alert/" + ghostport["kind"]
    return kind


CHUNK = 2000
CHECKERS = None
VALIDATORS = None


def init(checkers):
    """In each worker: the validators, built once."""
    global VALIDATORS
    ours_schema, suricata_schema = checkers
    ours = jsonschema.Draft202012Validator(ours_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    suricata = jsonschema.Draft7Validator(suricata_schema) if suricata_schema is not None else None
    VALIDATORS = (ours, suricata)


def check_chunk(job):
    """Validates one chunk of one file's lines: (messages, kinds seen, invalid counts by schema)."""
    path, start, lines = job
    ours, suricata = VALIDATORS
    messages, kinds, invalid = [], collections.Counter(), collections.Counter()
    for offset, line in enumerate(lines):
        number = start + offset + 1
        try:
            record = json.loads(line)
        except ValueError as error:
            messages.append("%s:%d: not JSON: %s" % (path, number, error))
            invalid["ghostport"] += 1
            continue
        kinds[kind_of(record)] += 1
        checks = [("ghostport", ours, record)]
        if suricata is not None and isinstance(record, dict):
            checks.append(("suricata", suricata, {k: v for k, v in record.items() if k != "ghostport"}))
        for name, validator, instance in checks:
            errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
            if errors:
                invalid[name] += 1
                for error in errors[:5]:
                    where = "/".join(str(p) for p in error.absolute_path) or "(record)"
                    messages.append("%s:%d: [%s] %s: %s" % (path, number, name, where, error.message))
    return messages, kinds, invalid


def main():
    # A parent may have blocked or ignored signals the worker pool relies on (a test runner does).
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", default=os.path.join(here, "eve.schema.json"))
    ap.add_argument("--suricata", help="Suricata's EVE schema (etc/schema.json)")
    ap.add_argument("--require", default="", help="record kinds that must appear, comma-separated")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    global CHECKERS
    ours_schema = json.load(open(a.schema))
    jsonschema.Draft202012Validator.check_schema(ours_schema)
    suricata_schema = None
    if a.suricata:
        suricata_schema = json.load(open(a.suricata))
        jsonschema.Draft7Validator.check_schema(suricata_schema)
    CHECKERS = (ours_schema, suricata_schema)

    jobs = []
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        if not lines:
            print("%s: no records" % path)
        for start in range(0, max(1, len(lines)), CHUNK):
            jobs.append((path, start, lines[start:start + CHUNK]))
    total = sum(len(job[2]) for job in jobs)
    invalid = collections.Counter()
    invalid["ghostport"] += sum(1 for path in a.files if os.path.getsize(path) == 0)
    by_kind = collections.Counter()
    shown = 0
    # Two processes for a big input (the machines here have two cores), in order; one otherwise.
    if total > 20 * CHUNK:
        pool = multiprocessing.Pool(min(2, os.cpu_count() or 1), initializer=init, initargs=(CHECKERS,))
        results = pool.imap(check_chunk, jobs)
    else:
        pool = None
        init(CHECKERS)
        results = map(check_chunk, jobs)
    for messages, kinds, bad in results:
        by_kind.update(kinds)
        invalid.update(bad)
        for message in messages:
            if shown < 200:
                print(message)
                shown += 1
    if pool is not None:
        pool.close()
        pool.join()
    suricata = suricata_schema
    missing = [kind for kind in a.require.split(",") if kind and by_kind[kind] == 0]
    kinds = ", ".join("%s %d" % item for item in sorted(by_kind.items()))
    schemas = "ghostport's schema %d invalid" % invalid["ghostport"]
    if suricata is not None:
        schemas += ", Suricata's schema %d invalid" % invalid["suricata"]
    print("%d records (%s); %s" % (total, kinds, schemas))
    if missing:
        print("no record of kind %s was written: that output went unchecked" % ", ".join(missing))
    return 0 if sum(invalid.values()) == 0 and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
