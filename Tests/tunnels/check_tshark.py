#!/usr/bin/python3
"""Check a tunnel capture against its truth file using tshark (independent of ghostport).

Usage: check_tshark.py PCAP TRUTH [--chain] [--tshark-arg ARG ...]

For every frame, tshark's innermost ip.src/ipv6.src, ip.dst/ipv6.dst, tcp.srcport and
tcp.dstport must equal the truth's "inner" tuple. When the truth's inner is null, tshark must
report no TCP ports for the frame. "Innermost" is the last "ip" or "ipv6" in frame.protocols
and the last occurrence of that family's address fields (and of the tcp ports).

Decode-as options are derived from the truth: every port in a frame's needs_config.vxlan_ports
becomes `-d udp.port==PORT,vxlan`. Nothing else is needed for tshark 4.0: GRE 0x88BE / 0x22EB
(ERSPAN I/II/III), UDP 6081 (GENEVE), UDP 4789 (VXLAN) and UDP 3544 (Teredo) are decoded by
default. Extra tshark arguments can be passed with --tshark-arg (repeatable).

With --chain, the encapsulation chain (frame.protocols mapped to the truth's layer names) must
also match the truth's "chain" (erspan1/2/3 compare equal to tshark's "erspan"); without it,
chain differences are printed as notes only.

Exit status: 0 when everything agrees, 1 on any disagreement (a table is printed), 2 on usage
or tshark errors.
"""

import json
import subprocess
import sys

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport"]

TOKEN = {"eth": "eth", "vlan": "vlan", "ip": "ipv4", "ipv6": "ipv6", "gre": "gre",
         "erspan": "erspan", "vxlan": "vxlan", "geneve": "geneve", "teredo": "teredo",
         "udp": "udp", "tcp": "tcp"}


def tshark_args(truth, extra):
    ports = sorted({p for f in truth["frames"] if f.get("needs_config")
                    for p in f["needs_config"].get("vxlan_ports", [])})
    args = []
    for p in ports:
        args += ["-d", "udp.port==%d,vxlan" % p]
    return args + extra


def run_tshark(pcap, args):
    cmd = ["tshark", "-n", "-r", pcap] + args + ["-T", "fields", "-E", "separator=\t",
                                                 "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write("tshark failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
        sys.exit(2)
    rows = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rows[int(cols[0])] = dict(zip(FIELDS, cols))
    return cmd, rows


def last(v):
    return v.split(",")[-1] if v else None


def innermost(row):
    protos = row["frame.protocols"].split(":")
    fam = None
    for t in protos:
        if t in ("ip", "ipv6"):
            fam = t
    src = dst = None
    if fam == "ip":
        src, dst = last(row["ip.src"]), last(row["ip.dst"])
    elif fam == "ipv6":
        src, dst = last(row["ipv6.src"]), last(row["ipv6.dst"])
    sport, dport = last(row["tcp.srcport"]), last(row["tcp.dstport"])
    return {"src": src, "dst": dst,
            "sport": int(sport) if sport else None, "dport": int(dport) if dport else None}


def chain_of(row):
    return [TOKEN[t] for t in row["frame.protocols"].split(":") if t in TOKEN]


def norm_chain(chain):
    return ["erspan" if c.startswith("erspan") else c for c in chain]


def main(argv):
    args = argv[1:]
    strict_chain = "--chain" in args
    args = [a for a in args if a != "--chain"]
    extra = []
    while "--tshark-arg" in args:
        k = args.index("--tshark-arg")
        extra.append(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.stderr.write("usage: check_tshark.py PCAP TRUTH [--chain] [--tshark-arg ARG ...]\n")
        return 2
    pcap, truth_path = args
    with open(truth_path) as f:
        truth = json.load(f)
    cmd, rows = run_tshark(pcap, tshark_args(truth, extra))
    print("tshark:", " ".join(cmd[:cmd.index("-T")]))
    bad, notes = [], []
    per_case = {}
    for fr in truth["frames"]:
        n = fr["frame"]
        row = rows.get(n)
        c = per_case.setdefault(fr["case"], [0, 0])
        c[0] += 1
        if row is None:
            bad.append((n, fr["case"], "frame", "present", "missing"))
            c[1] += 1
            continue
        got = innermost(row)
        exp = fr["inner"]
        diffs = []
        if exp is None:
            if got["sport"] is not None or got["dport"] is not None:
                diffs.append(("inner", "none", "%s:%s -> %s:%s" % (got["src"], got["sport"], got["dst"], got["dport"])))
        else:
            for k in ("src", "dst", "sport", "dport"):
                if got[k] != exp[k]:
                    diffs.append((k, str(exp[k]), str(got[k])))
        tchain = chain_of(row)
        if exp is not None and norm_chain(tchain) != norm_chain(fr["chain"]):
            d = ("chain", ":".join(fr["chain"]), ":".join(tchain))
            if strict_chain:
                diffs.append(d)
            else:
                notes.append((n, fr["case"]) + d)
        for d in diffs:
            bad.append((n, fr["case"]) + d)
        if diffs:
            c[1] += 1
    nbad = sum(v[1] for v in per_case.values())
    print("frames: %d, agree: %d, disagree: %d" % (len(truth["frames"]), len(truth["frames"]) - nbad, nbad))
    if bad:
        print()
        print("%-6s %-34s %-6s %-40s %s" % ("frame", "case", "field", "truth", "tshark"))
        for n, case, field, t, g in bad:
            print("%-6d %-34s %-6s %-40s %s" % (n, case, field, t, g))
        print()
        print("cases with disagreements:")
        for case, (tot, b) in per_case.items():
            if b:
                print("  %-34s %d of %d frames" % (case, b, tot))
    if notes:
        print()
        print("chain notes (not counted; use --chain to enforce):")
        for n, case, field, t, g in notes:
            print("  frame %d %s: truth %s, tshark %s" % (n, case, t, g))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
