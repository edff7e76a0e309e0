#!/usr/bin/env python3
"""Shows the schemas catch a value of the wrong JSON type in every field ghostport writes.

usage: mistyped.py [--suricata SURICATA_SCHEMA] FILE.jsonl...

For a record of each kind and each shape in the files (a TCP and a UDP flow, an ICMP alert, a
live stats record with capture counters ...: up to 20 distinct sets of fields a kind), and for every field outside the `ghostport`
object (and outside `alert.metadata`, whose keys are the rule's own), writes the record again
with that one value retyped: a string becomes a number, a number a string ("7" where 7 was), a
boolean a string, an object or array a number. ghostport's schema must reject each, and so must
Suricata's (with the `ghostport` object removed) when given. Prints what was tried per kind and
every mutation a schema let through; exit 0 when none was, 1 otherwise.
"""
import argparse, collections, copy, json, os, sys

import jsonschema


def kind_of(record):
    ghostport = record.get("ghostport")
    kind = record.get("event_type", "?")
    if kind == "alert" and isinstance(ghostport, dict) and ghostport.get("kind") in ("scan", "flood", "backscatter"):
        kind += "/" + ghostport["kind"]
    return kind


def leaves(value, path=()):
    """Every (path, value) below `value`, objects and arrays included, the ghostport object and metadata skipped."""
    if isinstance(value, dict):
        for key, child in value.items():
            if path == () and key == "ghostport" or path == ("alert",) and key == "metadata":
                continue
            yield path + (key,), child
            yield from leaves(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield path + (index,), child
            yield from leaves(child, path + (index,))


def retyped(value):
    if isinstance(value, bool):
        return "true"
    if isinstance(value, str):
        return 7
    if isinstance(value, (int, float)):
        return str(value)
    return 7


def set_path(record, path, value):
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", default=os.path.join(here, "eve.schema.json"))
    ap.add_argument("--suricata")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    ours = jsonschema.Draft202012Validator(json.load(open(a.schema)), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    suricata = jsonschema.Draft7Validator(json.load(open(a.suricata))) if a.suricata else None

    samples = collections.defaultdict(dict)  # kind -> shape -> record
    for path in a.files:
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            shape = frozenset(tuple(str(p) for p in path if not isinstance(p, int)) for path, _ in leaves(record))
            shapes = samples[kind_of(record)]
            if len(shapes) < 20:
                shapes.setdefault(shape, record)
    tried = collections.Counter()
    passed = []
    for kind, shapes in sorted(samples.items()):
        for record in shapes.values():
            for path, value in list(leaves(record)):
                mutated = copy.deepcopy(record)
                set_path(mutated, path, retyped(value))
                tried[kind] += 1
                where = ".".join(str(p) for p in path)
                if ours.is_valid(mutated):
                    passed.append("%s %s=%r: ghostport's schema let it through" % (kind, where, retyped(value)))
                if suricata is not None:
                    stripped = {k: v for k, v in mutated.items() if k != "ghostport"}
                    if suricata.is_valid(stripped):
                        passed.append("%s %s=%r: Suricata's schema let it through" % (kind, where, retyped(value)))
    for line in passed:
        print(line)
    print("retyped fields tried: %s; %d let through" % (", ".join("%s %d" % item for item in sorted(tried.items())), len(passed)))
    return 1 if passed or not tried else 0


if __name__ == "__main__":
    sys.exit(main())
