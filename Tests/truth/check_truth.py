#!/usr/bin/env python3
"""Checks ghostport's EVE output against a truth file: genpcap.py's (../shared/bench) or TrafficGen's
(ghostport-bench gen-scenario), which share the `watched` counts and `scanners` read here.

For every watched port in the truth: the flows ghostport ended with a verdict, per verdict,
must equal the truth's counts; every scanner must have a scan alert. Prints the comparison;
exit 1 on any difference.

usage: check_truth.py TRUTH.json EVE.jsonl
"""
import collections, json, sys


def main():
    truth = json.load(open(sys.argv[1]))
    seen = collections.defaultdict(collections.Counter)
    scanners = set()
    lines = 0
    for line in open(sys.argv[2]):
        lines += 1
        record = json.loads(line)
        gp = record.get("ghostport", {})
        if record["event_type"] == "flow" and "verdict" in gp:
            key = "%d/%s" % (gp["watched_port"], record["proto"].lower())
            seen[key][gp["verdict"]] += 1
        if record["event_type"] == "alert" and gp.get("kind") == "scan":
            scanners.add(gp["scan"]["source"])
    ok = True
    print("%-10s %-28s %-28s" % ("port", "truth (flows u/r/a)", "ghostport (flows u/r/a)"))
    for key, want in sorted(truth["watched"].items()):
        got = seen.get(key, collections.Counter())
        t = (want["flows"], want["unanswered"], want["rejected"], want["answered"])
        g = (sum(got.values()), got["unanswered"], got["rejected"], got["answered"])
        mark = "" if t == g else "  <-- differs"
        ok &= t == g
        print("%-10s %-28s %-28s%s" % (key, "%d %d/%d/%d" % t, "%d %d/%d/%d" % g, mark))
    extra = set(seen) - set(truth["watched"])
    for key in sorted(extra):
        print("%-10s not in the truth: %s" % (key, dict(seen[key])))
    missing = set(truth["scanners"]) - scanners
    print("scanners: truth %d, reported %d, missed %s, extra %s" % (
        len(truth["scanners"]), len(scanners), sorted(missing), sorted(scanners - set(truth["scanners"]))))
    ok &= not missing and not (scanners - set(truth["scanners"]))
    print("records: %d; %s" % (lines, "MATCH" if ok else "DIFFERENT"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
