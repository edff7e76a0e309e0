/// The report's one style sheet and one script, and the policy that admits exactly them.
///
/// The policy names each by its SHA-256 (CSP's hash sources): change either text and its hash must
/// follow, or the browser refuses it (ReportTests recompute both with Python's hashlib, and the
/// headless Chromium test fails on the console error a refused one makes).
extension ReportPage {
    static let styleHash = "sha256-1FpAulFgSGW/SDsXwayfIlE1zBu7qabhC8HqO+/8488="
    static let scriptHash = "sha256-25EA6zBgilUIVt+CxfkpkRQ4SJatkPifWuD9rAmUyH8="

    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src '\(styleHash)'; script-src '\(scriptHash)'; img-src 'none'; "
            + "connect-src 'none'; form-action 'none'; base-uri 'none'"
    }

    static let style = """
        :root{--bg:#fff;--fg:#1d2228;--muted:#5d6670;--line:#dde1e5;--panel:#f5f7f9;--answered:#c62828;--rejected:#e0a800;\
        --probe:#7b8a99;--backscatter:#8e6bbf;--scan:#00897b;--flood:#ef6c00;--other:#b0b7bf;--warn-bg:#fff4e5;--warn-line:#f0a040}
        @media (prefers-color-scheme:dark){:root{--bg:#15191d;--fg:#e3e7eb;--muted:#9aa4ae;--line:#2e353c;--panel:#1d2227;\
        --answered:#ef5350;--rejected:#f2c94c;--probe:#8796a5;--backscatter:#a98bd6;--scan:#26a69a;--flood:#ffa040;--other:#5f6973;\
        --warn-bg:#3a2a12;--warn-line:#b87a20}}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:1200px;padding:24px;background:var(--bg);color:var(--fg);\
        font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
        h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid var(--line);padding-bottom:4px}
        dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;color:var(--muted)}dl.meta dd{margin:0;color:var(--fg)}
        .note,.more,.empty,footer{color:var(--muted)}.note{margin:2px 0 8px}
        .warning{background:var(--warn-bg);border-left:4px solid var(--warn-line);padding:6px 14px;margin:16px 0}
        .warning ul{margin:4px 0}
        .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:20px 0}
        .tile{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
        .tile .value{font-size:28px;font-weight:600;font-variant-numeric:tabular-nums}.tile .label{color:var(--muted)}
        .tile.strong{border-color:var(--answered)}.tile.strong .value{color:var(--answered)}
        .tile .detail{margin-top:6px;font-size:12px;display:flex;flex-wrap:wrap;gap:4px 10px}
        .sev1{color:var(--answered);font-weight:600}.sev2{color:var(--rejected)}
        svg.timeline{width:100%;height:auto;display:block}
        .axis{stroke:var(--muted);stroke-width:1}.tick{fill:var(--muted);font-size:11px}
        .s-answered{fill:var(--answered);background:var(--answered)}.s-rejected{fill:var(--rejected);background:var(--rejected)}
        .s-probe{fill:var(--probe);background:var(--probe)}.s-backscatter{fill:var(--backscatter);background:var(--backscatter)}
        .s-scan{fill:var(--scan);background:var(--scan)}.s-flood{fill:var(--flood);background:var(--flood)}
        .s-other{fill:var(--other);background:var(--other)}
        .legend span{margin-right:14px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);vertical-align:top;font-size:13px}
        th{font-weight:600;color:var(--muted);white-space:nowrap;cursor:pointer;user-select:none}
        th[aria-sort=ascending]::after{content:" \\2191"}th[aria-sort=descending]::after{content:" \\2193"}
        td.num,th.num{text-align:right;white-space:nowrap}td.time{white-space:nowrap;color:var(--muted);font-size:12px}
        td.answered{color:var(--answered);font-weight:600}td.bad{color:var(--answered);font-weight:600}
        td.ports{font-size:12px;color:var(--muted)}code{font-size:12px;word-break:break-all}
        tbody tr:hover{background:var(--panel)}
        svg.spark{width:96px;height:20px;display:block}svg.spark path{fill:var(--probe)}
        footer{margin-top:32px;font-size:12px;border-top:1px solid var(--line);padding-top:8px}
        @media print{body{max-width:none;padding:0;font-size:11px}th{cursor:auto}
        .tile,.warning{break-inside:avoid}table{break-inside:auto}tr{break-inside:avoid}
        :root{--bg:#fff;--fg:#000;--panel:#fff}}
        """

    /// Sorts a table by the column whose header is clicked (numbers by their `data-v`).
    static let script = """
        document.querySelectorAll("table.sortable th").forEach(function(th){th.tabIndex=0;\
        function sort(){var table=th.closest("table"),body=table.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),\
        asc=th.getAttribute("aria-sort")!=="ascending";table.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort")});\
        th.setAttribute("aria-sort",asc?"ascending":"descending");var rows=Array.prototype.slice.call(body.rows);\
        function key(r){var c=r.cells[i],v=c.getAttribute("data-v");return v!==null?Number(v):c.textContent}\
        rows.sort(function(a,b){var x=key(a),y=key(b),o=typeof x==="number"&&typeof y==="number"?x-y:String(x).localeCompare(String(y));\
        return asc?o:-o});rows.forEach(function(r){body.appendChild(r)})}\
        th.addEventListener("click",sort);th.addEventListener("keydown",function(e){if(e.key==="Enter")sort()})})
        """
}
