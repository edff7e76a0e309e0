#!/usr/bin/python3
"""Checks the figures of a `ghostport report` page against an aggregation of the same EVE
records made here, with Python's json module, from the README's definitions: none of
ghostport's code. Prints every difference; exit 0 when none, 1 otherwise.

usage: check_report.py PAGE.html EVE [EVE...]   (EVE files may be gzip-compressed)

What is compared: every tile; every port row on the page (and that the rows shown are the
busiest ports); every answered listener; the busiest sources; every scanner; the stats
counters; the count of lines that are not EVE records. Figures the page marks as estimates
(past its bounds) are not compared: the inputs here stay within them.
"""
import gzip
import json
import sys
from collections import defaultdict
from html.parser import HTMLParser

VERDICTS = ["unanswered", "rejected", "answered", "backscatter"]


def records(paths):
    malformed = 0
    out = []
    for path in paths:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as f:
            for raw in f:
                text = raw.rstrip(b"\n")
                if text.strip(b" \t\r") == b"":
                    continue
                try:
                    value = json.loads(text.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    malformed += 1
                    continue
                if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
                    malformed += 1
                    continue
                out.append(value)
    return out, malformed


def aggregate(recs):
    a = {
        "alerts": 0, "sev": defaultdict(int), "flows": defaultdict(int), "folded": 0, "sources": set(),
        "scan_alerts": 0, "ports": {}, "src": {}, "listeners": {}, "scanners": {},
    }

    def port(key):
        return a["ports"].setdefault(key, {"verdicts": defaultdict(int), "folded": 0, "alerts": 0, "sources": set()})

    def source(ip):
        return a["src"].setdefault(ip, {"records": 0, "flows": 0, "alerts": 0, "answered": 0, "ports": set()})

    def listener(key):
        return a["listeners"].setdefault(key, {"flows": 0, "alerts": 0, "clients": set(), "severity": None})

    runs, current = [], None
    for r in recs:
        kind = r["event_type"]
        own = r.get("ghostport") or {}
        proto = str(r.get("proto", "?")).lower()
        if kind == "alert":
            a["alerts"] += 1
            sev = (r.get("alert") or {}).get("severity") or 3
            a["sev"][sev] += 1
            to_client = r.get("direction") == "to_client"
            flow = r.get("flow") or {}
            client = flow.get("src_ip") or (r.get("dest_ip") if to_client else r.get("src_ip"))
            if own.get("kind") == "scan":
                a["scan_alerts"] += 1
                scan = own.get("scan") or {}
                s = scan.get("source") or r.get("src_ip")
                a["sources"].add(s)
                sc = a["scanners"].setdefault(s, {"alerts": 0, "ports": set(), "hosts": set()})
                sc["alerts"] += 1
                sc["ports"].update(scan.get("ports") or [])
                sc["hosts"].update(scan.get("hosts") or [])
                e = source(s)
                e["records"] += 1
                e["alerts"] += 1
                continue
            if own.get("kind") == "flood":
                continue
            watched = own.get("watched_port")
            if watched is None:
                watched = r.get("src_port") if to_client else r.get("dest_port")
            key = "%s/%s" % (watched or 0, proto)
            port(key)["alerts"] += 1
            if client is not None:
                a["sources"].add(client)
                e = source(client)
                e["records"] += 1
                e["alerts"] += 1
                e["ports"].add(key)
            if own.get("kind") == "answered":
                server = flow.get("dest_ip") or (r.get("src_ip") if to_client else r.get("dest_ip"))
                l = listener((server, watched, proto))
                l["alerts"] += 1
                if client is not None:
                    l["clients"].add(client)
                l["severity"] = sev if l["severity"] is None else min(l["severity"], sev)
        elif kind == "flow":
            verdict = own.get("verdict")
            if verdict not in VERDICTS:
                continue
            a["flows"][verdict] += 1
            watched = own.get("watched_port", r.get("dest_port"))
            key = "%s/%s" % (watched, proto)
            p = port(key)
            p["verdicts"][verdict] += 1
            client = r.get("src_ip")
            if client is not None:
                p["sources"].add(client)
                a["sources"].add(client)
                e = source(client)
                e["records"] += 1
                e["flows"] += 1
                e["ports"].add(key)
                if verdict == "answered":
                    e["answered"] += 1
            if verdict == "answered":
                l = listener((r.get("dest_ip"), watched, proto))
                l["flows"] += 1
                if client is not None:
                    l["clients"].add(client)
        elif kind == "flood":
            flood = own.get("flood") or {}
            a["folded"] += flood.get("flows", 0)
            port("%s/%s" % (flood.get("port", 0), proto))["folded"] += flood.get("flows", 0)
        elif kind == "stats":
            stats = r.get("stats") or {}
            gstats = own.get("stats") or {}
            c = {
                "uptime": stats.get("uptime", 0),
                "packets": (stats.get("decoder") or {}).get("pkts", 0),
                "flows": (gstats.get("flow") or {}).get("created", 0),
                "kernel_drops": (stats.get("capture") or {}).get("kernel_drops", 0),
                "kernel_ifdrops": (stats.get("capture") or {}).get("kernel_ifdrops", 0),
                "ring_drops": (gstats.get("capture") or {}).get("ring_drops", 0),
            }
            engines = (stats.get("detect") or {}).get("engines") or []
            if engines and "rules_loaded" in engines[0]:
                a["rules_loaded"] = engines[0]["rules_loaded"]
            # cumulative per run: a run ends where uptime stops growing or packets go back
            if current is not None and (c["uptime"] <= current["uptime"] or c["packets"] < current["packets"]):
                runs.append(current)
            current = c
    if current is not None:
        runs.append(current)
    a["counters"] = {k: sum(run[k] for run in runs) for k in ["packets", "flows", "kernel_drops", "kernel_ifdrops", "ring_drops"]} if runs else None
    return a


class Page(HTMLParser):
    """Every element's id with its data-v (or text), and the tables' rows keyed by data-key."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = {}
        self.tables = {}
        self.table = None
        self.row = None
        self.cell = None
        self.capture = []  # (id, depth, text parts)
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("meta", "br", "input", "path", "rect", "line"):
            self.depth += 1
        if tag == "table":
            self.table = attrs.get("id")
            self.tables.setdefault(self.table, {})
        if tag == "tr" and self.table and "data-key" in attrs:
            self.row = attrs["data-key"]
            self.tables[self.table][self.row] = []
        if tag == "td" and self.row is not None:
            self.cell = {"v": attrs.get("data-v"), "text": ""}
        if "id" in attrs:
            self.ids[attrs["id"]] = attrs.get("data-v")
            if attrs.get("data-v") is None:
                self.capture.append((attrs["id"], self.depth, []))

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None and self.row is not None:
            self.tables[self.table][self.row].append(self.cell)
            self.cell = None
        if tag == "tr":
            self.row = None
        if tag == "table":
            self.table = None
        for item in list(self.capture):
            if item[1] == self.depth:
                self.ids[item[0]] = "".join(item[2])
                self.capture.remove(item)
        if tag not in ("meta", "br", "input", "path", "rect", "line"):
            self.depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data
        for item in self.capture:
            item[2].append(data)


def number(cell):
    """A cell's figure; None for an estimate (marked ≈), which is not compared."""
    if cell["text"].strip().startswith("\u2248"):
        return None
    return int(cell["v"]) if cell["v"] is not None else None


def estimated(rows):
    return any(c["text"].strip().startswith("\u2248") for cells in rows.values() for c in cells)


def main():
    page_path, eve = sys.argv[1], sys.argv[2:]
    recs, malformed = records(eve)
    a = aggregate(recs)
    page = Page()
    with open(page_path, encoding="utf-8") as f:
        page.feed(f.read())
    problems = []

    def same(what, got, want):
        if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
            want = [None if g is None else w for g, w in zip(got, want)]  # estimates are not compared
        if got != want:
            problems.append("%s: page %r, EVE %r" % (what, got, want))

    def tile(element):
        value = page.ids.get(element)
        return int(value) if value is not None else None

    same("alerts", tile("tile-alerts"), a["alerts"])
    for sev in (1, 2, 3):
        same("alerts of severity %d" % sev, tile("alerts-sev%d" % sev), a["sev"].get(sev, 0))
    same("watched flows", tile("tile-flows"), sum(a["flows"].values()))
    for verdict in VERDICTS:
        same("flows %s" % verdict, tile("flows-" + verdict), a["flows"].get(verdict, 0))
    same("answered tile", tile("tile-answered"), a["flows"].get("answered", 0))
    if a["folded"]:
        same("folded flows", tile("flows-folded"), a["folded"])
    if not page.ids.get("tile-sources-estimate"):
        same("distinct sources", tile("tile-sources"), len(a["sources"]))
    same("scan alerts", tile("tile-scans"), a["scan_alerts"])
    same("scanners", tile("scanners"), len(a["scanners"]))
    same("unreadable lines", tile("malformed") or 0, malformed)

    # Ports: the rows shown are the busiest (flows + alerts + folded), each figure exact.
    ports = page.tables.get("ports", {})
    busy = lambda p: sum(p["verdicts"].values()) + p["alerts"] + p["folded"]
    ranked = sorted(a["ports"].items(), key=lambda kv: (-busy(kv[1]), int(kv[0].split("/")[0]), kv[0].split("/")[1]))
    same("ports shown", list(ports.keys()), [k for k, _ in ranked[:len(ports)]])
    more = page.ids.get("ports-more")
    same("ports beyond the table", int(more) if more else 0, len(ranked) - len(ports))
    for key, cells in ports.items():
        p = a["ports"].get(key)
        if p is None:
            problems.append("port %s on the page, not in the EVE" % key)
            continue
        figures = [number(c) for c in cells[2:10]]
        want = [sum(p["verdicts"].values())] + [p["verdicts"].get(v, 0) for v in VERDICTS] + [p["folded"], p["alerts"], len(p["sources"])]
        same("port %s (flows, verdicts, folded, alerts, sources)" % key, figures, want)

    # Listeners: every one that answered, exactly.
    listeners = page.tables.get("listeners", {})
    want = {}
    for (server, port_number, proto), l in a["listeners"].items():
        host = "[%s]" % server if ":" in server else server
        want["%s:%s/%s" % (host, port_number, proto)] = l
    if not estimated(listeners):
        # the most severe first, then the most answered flows, then by address and port
        ranked = sorted(a["listeners"].items(), key=lambda kv: (kv[1]["severity"] if kv[1]["severity"] is not None else 10**9,
                                                                -kv[1]["flows"], kv[0][0], kv[0][1]))
        shown = ["%s:%s/%s" % ("[%s]" % k[0] if ":" in k[0] else k[0], k[1], k[2]) for k, _ in ranked[:len(listeners)]]
        same("listeners shown", list(listeners.keys()), shown)
        more = page.ids.get("listeners-more")
        same("listeners beyond the table", int(more) if more else 0, len(ranked) - len(listeners))
    for key, cells in listeners.items():
        l = want.get(key)
        if l is None:
            continue
        same("listener %s severity" % key, number(cells[3]) if l["severity"] is not None else None, l["severity"])
        same("listener %s (answered flows, alerts, clients)" % key, [number(cells[4]), number(cells[5]), number(cells[6])],
             [l["flows"], l["alerts"], len(l["clients"])])

    # Sources: the busiest by records (ties by address), each figure exact.
    sources = page.tables.get("sources", {})
    ranked = sorted(a["src"].items(), key=lambda kv: (-kv[1]["records"], kv[0]))
    if not estimated(sources):
        same("sources shown", list(sources.keys()), [k for k, _ in ranked[:len(sources)]])
    for key, cells in sources.items():
        s = a["src"].get(key)
        if s is None:
            problems.append("source %s on the page, not in the EVE" % key)
            continue
        ports_cell = cells[5]
        if ports_cell["text"].strip().endswith("+"):
            # past the page's cap of ports kept per source: at least that many
            if len(s["ports"]) <= int(ports_cell["v"]):
                problems.append("source %s: page says more than %s ports, EVE %d" % (key, ports_cell["v"], len(s["ports"])))
            ports_cell = {"text": "\u2248", "v": None}
        same("source %s (records, flows, alerts, answered, ports)" % key, [number(c) for c in cells[1:5]] + [number(ports_cell)],
             [s["records"], s["flows"], s["alerts"], s["answered"], len(s["ports"])])

    scans = page.tables.get("scans", {})
    ranked = sorted(a["scanners"].items(), key=lambda kv: (-len(kv[1]["ports"]), kv[0]))
    same("scanners shown", list(scans.keys()), [k for k, _ in ranked[:len(scans)]])
    for key, cells in scans.items():
        s = a["scanners"].get(key)
        if s is None:
            problems.append("scanner %s on the page, not in the EVE" % key)
            continue
        same("scanner %s (alerts, ports, hosts)" % key, [number(c) for c in cells[1:4]], [s["alerts"], len(s["ports"]), len(s["hosts"])])

    if a.get("rules_loaded") is not None:
        shown = (page.ids.get("rules") or "").split(" ")[0].replace(",", "")
        same("rules loaded", int(shown) if shown.isdigit() else None, a["rules_loaded"])

    counters = page.tables.get("counters", {})
    if a["counters"] is None:
        same("counters table", counters, {})
    else:
        for key in ["packets", "flows", "ring_drops"]:
            same("counter %s" % key, number(counters[key][1]) if key in counters else None, a["counters"][key])
        dropped = a["counters"]["kernel_drops"] + a["counters"]["kernel_ifdrops"] + a["counters"]["ring_drops"]
        same("dropped packets banner", tile("dropped") or 0, dropped)

    for problem in problems[:40]:
        print(problem[:400])
    if len(problems) > 40:
        print("and %d more differences" % (len(problems) - 40))
    print("%d records, %d ports, %d listeners, %d sources, %d scanners checked: %d differences"
          % (len(recs), len(ports), len(listeners), len(sources), len(scans), len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
