#!/usr/bin/env python3
"""Compares `ghostport decode` with tshark on every capture under a folder.

For each frame that tshark decodes with exactly one IP layer (one ip.src or ipv6.src) over a
link type ghostport supports, compares (src, dst, proto, sport, dport). Prints the share that
agree and each kind of difference with examples.

usage: corpus_agreement.py GHOSTPORT_BINARY CORPUS_DIR [--jobs N] [--examples N]
"""
import argparse, collections, csv, io, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

FIELDS = ["frame.number", "ip.src", "ip.dst", "ip.proto", "ipv6.src", "ipv6.dst", "ipv6.nxt",
          "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
          "ip.frag_offset", "ipv6.fraghdr.offset"]
EXT = {"0": "ipv6.hopopts.nxt", "43": "ipv6.routing.nxt", "44": "ipv6.fraghdr.nxt", "60": "ipv6.dstopts.nxt"}


def tshark_rows(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    for f in FIELDS:
        cmd += ["-e", f]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=120).stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rec = dict(zip(FIELDS, cols))
        if rec["frame.number"].isdigit():
            rows[int(rec["frame.number"])] = rec
    return rows


def tshark_tuple(rec):
    """(src, dst, proto, sport, dport) for a frame with one IP layer, else None."""
    v4 = [x for x in rec["ip.src"].split(",") if x]
    v6 = [x for x in rec["ipv6.src"].split(",") if x]
    if len(v4) + len(v6) != 1:
        return None
    if v4:
        src, dst, proto = v4[0], rec["ip.dst"], rec["ip.proto"]
        later = rec["ip.frag_offset"] not in ("", "0")
    else:
        src, dst = v6[0], rec["ipv6.dst"]
        # Follow the extension-header chain through tshark's per-header next fields.
        proto = rec["ipv6.nxt"]
        used = collections.Counter()
        for _ in range(10):
            field = EXT.get(proto)
            if not field:
                break
            values = [x for x in rec[field].split(",") if x]
            if used[field] >= len(values):
                break
            proto = values[used[field]]
            used[field] += 1
        later = rec["ipv6.fraghdr.offset"] not in ("", "0")
    sport = dport = ""
    for p in ("tcp", "udp", "sctp"):
        if rec[p + ".srcport"]:
            sport, dport = rec[p + ".srcport"].split(",")[0], rec[p + ".dstport"].split(",")[0]
            break
    if later:
        sport = dport = ""
    return (src, dst, proto, sport, dport)


def ghostport_rows(binary, path):
    res = subprocess.run([binary, "decode", path], capture_output=True, timeout=120)
    rows = {}
    for rec in csv.DictReader(io.StringIO(res.stdout.decode("utf-8", "replace"))):
        rows[int(rec["frame"])] = rec
    return rows


def compare(binary, path):
    ours = ghostport_rows(binary, path)
    if not ours:
        return path, 0, 0, [], "not decoded by ghostport (unsupported or unreadable)"
    theirs = tshark_rows(path)
    if theirs is None:
        return path, 0, 0, [], "tshark timed out"
    compared = agreed = 0
    diffs = []
    for frame, rec in theirs.items():
        t = tshark_tuple(rec)
        if t is None or frame not in ours:
            continue
        g = ours[frame]
        mine = (g["src"], g["dst"], g["proto"], g["sport"], g["dport"])
        compared += 1
        if mine == t:
            agreed += 1
        else:
            which = "+".join(n for n, a, b in zip(("src", "dst", "proto", "sport", "dport"), mine, t) if a != b)
            diffs.append((which, frame, mine, t, g["events"]))
    return path, compared, agreed, diffs, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("corpus")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--examples", type=int, default=3)
    a = ap.parse_args()
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.corpus) for f in fs
                   if f.endswith((".pcap", ".pcapng", ".cap")))
    total = agree = 0
    kinds = collections.defaultdict(list)
    skipped = collections.Counter()
    with ThreadPoolExecutor(a.jobs) as pool:
        for path, compared, agreed, diffs, skip in pool.map(lambda p: compare(a.binary, p), files):
            if skip:
                skipped[skip] += 1
            total += compared
            agree += agreed
            for which, frame, mine, t, events in diffs:
                kinds[which].append((os.path.relpath(path, a.corpus), frame, mine, t, events))
    print(f"files: {len(files)}; skipped: {dict(skipped)}")
    share = 100.0 * agree / total if total else 0.0
    print(f"frames compared: {total}; agree: {agree} ({share:.3f}%)")
    for which, items in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        files_hit = len({i[0] for i in items})
        print(f"differ in {which}: {len(items)} frames in {files_hit} files")
        for path, frame, mine, t, events in items[:a.examples]:
            print(f"    {path} frame {frame}: ghostport {mine} tshark {t} events [{events}]")
    return 0 if share >= 99.5 else 1


if __name__ == "__main__":
    sys.exit(main())
