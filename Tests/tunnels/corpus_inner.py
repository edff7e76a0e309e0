#!/usr/bin/python3
"""Compares the inner tuples `ghostport decode` reports for tunneled frames with tshark's.

usage: corpus_inner.py GHOSTPORT FILE[:TSHARK_OPTION,...] ...

For every frame tshark dissects through at least one encapsulation (an IP layer after
another, or GRE, ERSPAN, VXLAN, GENEVE, Teredo) down to an innermost TCP or UDP header, the
innermost addresses and ports (the last ip/ipv6 src and dst, the last tcp/udp ports) must
equal ghostport's row; ghostport's `tunnel` column must not be empty for it. Frames through
an encapsulation ghostport does not open (GTP, AYIYA, PPP in GRE version 1, Aruba's GRE) are
left out and counted. Prints one line per file (frames compared, agreeing) and exits 1 on
any disagreement, 2 when tshark or ghostport fails.

A file may carry tshark options after a colon, comma-separated, e.g.
`tunnels__Teredo.pcap:--enable-heuristic,teredo_udp`; ghostport options go after `+`, e.g.
`file.pcap+--vxlan-port,8472`.
"""
import csv
import io
import subprocess
import sys

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]
OPENED = {"gre", "erspan", "vxlan", "geneve", "teredo"}
NOT_OPENED = {"gtp", "ayiya", "ppp", "wlan", "nsh", "mpls", "l2tp", "pppoes"}


def tshark(path, options):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"] + options
    for field in FIELDS:
        cmd += ["-e", field]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        sys.exit(f"tshark failed on {path}: {result.stderr.strip()}")
    rows = {}
    for line in result.stdout.splitlines():
        columns = line.split("\t") + [""] * len(FIELDS)
        rows[int(columns[0])] = dict(zip(FIELDS, columns))
    return rows


def innermost(row):
    """(src, dst, sport, dport) of a tunneled frame tshark dissects to TCP/UDP, 'skip', or None."""
    layers = row["frame.protocols"].split(":")
    ips = [i for i, layer in enumerate(layers) if layer in ("ip", "ipv6")]
    if len(ips) < 2 and not OPENED.intersection(layers):
        return None
    joined = ":".join(layers)
    if NOT_OPENED.intersection(layers) or "udp:gre" in joined:
        return "skip"  # GRE in UDP (RFC 8086) is not opened either
    icmp = [i for i, layer in enumerate(layers) if layer in ("icmp", "icmpv6")]
    if icmp:
        # An ICMP error's quoted header is not a tunnel: the packet is the IP layer before it.
        before = [i for i in ips if i < icmp[0]]
        prefix = "ip" if layers[before[-1]] == "ip" else "ipv6"
        same = [i for i in before if layers[i] == layers[before[-1]]]
        src = row[prefix + ".src"].split(",")[len(same) - 1]
        dst = row[prefix + ".dst"].split(",")[len(same) - 1]
        return (src, dst, "", "")
    transports = [i for i, layer in enumerate(layers) if layer in ("tcp", "udp")]
    if not transports or not ips or transports[-1] < ips[-1]:
        return None
    family = layers[ips[-1]]
    prefix = "ip" if family == "ip" else "ipv6"
    src = row[prefix + ".src"].split(",")[-1]
    dst = row[prefix + ".dst"].split(",")[-1]
    proto = layers[transports[-1]]
    sport = row[proto + ".srcport"].split(",")[-1]
    dport = row[proto + ".dstport"].split(",")[-1]
    return (src, dst, sport, dport)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary = sys.argv[1]
    failed = False
    for argument in sys.argv[2:]:
        ghostport_options = []
        if "+" in argument:
            argument, extra = argument.split("+", 1)
            ghostport_options = extra.split(",")
        path, _, options = argument.partition(":")
        expected = tshark(path, options.split(",") if options else [])
        result = subprocess.run([binary, "decode", *ghostport_options, path], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            print(f"{path}: ghostport decode exited {result.returncode}: {result.stderr.strip()}")
            sys.exit(2)
        rows = {int(r["frame"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
        compared = agreed = skipped = 0
        for frame, row in sorted(expected.items()):
            want = innermost(row)
            if want is None:
                continue
            if want == "skip":
                skipped += 1
                continue
            compared += 1
            got_row = rows.get(frame, {})
            got = (got_row.get("src"), got_row.get("dst"), got_row.get("sport"), got_row.get("dport"))
            if got == want and got_row.get("tunnel"):
                agreed += 1
            elif compared - agreed <= 5:
                print(f"  {path} frame {frame}: tshark {want} ({row['frame.protocols']}), "
                      f"ghostport {got} tunnel {got_row.get('tunnel')!r}")
        failed |= agreed != compared
        print(f"{path}: {compared} tunneled frames compared (innermost addresses and ports), {agreed} agree"
              + (f"; {skipped} through encapsulations ghostport does not open" if skipped else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
