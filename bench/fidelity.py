"""fidelity: how our PDFs of real documentation pages compare with
Chromium's print of the same pages. Not a speed bench: it converts each page
once, one at a time, on each side.

Site: Debian's HTML manuals (bench/deps.sh installs them), served on loopback
by a static server in its own process: the PostgreSQL 15 manual (DocBook
XSL, /usr/share/doc/postgresql-doc-15/html/ under /postgresql/) and the
Python 3.11 documentation (Sphinx, /usr/share/doc/python3.11-doc/html/ under
/python/). PAGES below is the fixed selection (short, long, table-heavy and
code-heavy pages of both).

Ours: sync POST /v1/convert/url-to-pdf, direct_download, API defaults except
pdf_options.page_size "Letter" (the paper Chromium's --print-to-pdf uses; it
has no command-line flag for the paper; both use 10 mm margins) and
timeout 120 s (long pages). Peer: one fresh
`chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer
--user-data-dir=<tmp> --print-to-pdf=<out> URL` per page.

Per page and in total: pages (pdfinfo), bytes, link annotations (qpdf
--json: /Subtype /Link, split into URI and in-document), fonts and Type 3
fonts (pdffonts), and text coverage both ways: the words (pdftotext,
whitespace-separated, NFKC) of ours found in Chromium's and the other way
round, counted as multisets. JSON with every figure and the words each side
lacks goes to $BENCH_RESULTS/fidelity.json.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

import lib
from lib import log

SITES = {
    "postgresql": "/usr/share/doc/postgresql-doc-15/html",
    "python": "/usr/share/doc/python3.11-doc/html",
}

PAGES = [
    "postgresql/index.html",
    "postgresql/tutorial-select.html",
    "postgresql/datatype-numeric.html",
    "postgresql/datatype-datetime.html",
    "postgresql/functions-string.html",
    "postgresql/functions-json.html",
    "postgresql/functions-datetime.html",
    "postgresql/sql-select.html",
    "postgresql/sql-createtable.html",
    "postgresql/app-psql.html",
    "postgresql/runtime-config-wal.html",
    "postgresql/indexes-types.html",
    "postgresql/ddl-partitioning.html",
    "postgresql/libpq-connect.html",
    "postgresql/glossary.html",
    "python/index.html",
    "python/tutorial/introduction.html",
    "python/tutorial/controlflow.html",
    "python/tutorial/classes.html",
    "python/reference/datamodel.html",
    "python/reference/expressions.html",
    "python/library/functions.html",
    "python/library/stdtypes.html",
    "python/library/re.html",
    "python/library/json.html",
    "python/library/argparse.html",
    "python/howto/regex.html",
    "python/howto/logging.html",
]

OUR_OPTIONS = {"pdf_options": {"page_size": "Letter"}, "timeout": 120}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


# ---------------------------------------------------------------------------
# Site server (its own process: `fidelity.py serve` prints its port)

def serve():
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def translate_path(self, path):
            path = path.split("?", 1)[0].split("#", 1)[0]
            site, _, rest = path.lstrip("/").partition("/")
            if site not in SITES:
                return "/nonexistent"
            self.directory = SITES[site]
            return super().translate_path("/" + rest)

        def log_message(self, *a):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


class SiteServer(lib.PageServer):
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError("site server did not start")
        self.url = f"http://127.0.0.1:{line}"


# ---------------------------------------------------------------------------
# PDF measurements (poppler-utils, qpdf)

def run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, check=True)


def pdf_pages(path):
    out = run(["pdfinfo", path]).stdout.decode(errors="replace")
    info = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return int(info["Pages"]), info.get("Page size", "?")


def pdf_words(path):
    text = run(["pdftotext", "-enc", "UTF-8", path, "-"]).stdout.decode("utf-8", "replace")
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH)
    return collections.Counter(text.split())


def pdf_links(path):
    """Link annotations: (URI links, in-document links, others, distinct
    URIs). Distinct URIs: Chromium writes one annotation per inline box of
    a link (`<a><span>36.</span> ECPG</a>` gives two) and repeats a fixed
    header's links on every sheet; the set of URIs does not depend on that."""
    d = json.loads(run(["qpdf", "--json", "--json-key=qpdf", path]).stdout)
    objs = d["qpdf"][1]
    uri = internal = other = 0
    uris = set()
    for o in objs.values():
        v = o.get("value") if isinstance(o, dict) else None
        if not isinstance(v, dict) or v.get("/Subtype") != "/Link":
            continue
        a = v.get("/A")
        if isinstance(a, str) and a.endswith(" R"):  # indirect action dictionary
            a = (objs.get("obj:" + a) or {}).get("value")
        if isinstance(a, dict) and a.get("/S") == "/URI":
            uri += 1
            uris.add(str(a.get("/URI")))
        elif "/Dest" in v or (isinstance(a, dict) and a.get("/S") == "/GoTo"):
            internal += 1
        else:
            other += 1
    return uri, internal, other, len(uris)


def pdf_fonts(path):
    """(fonts, Type 3 fonts) as pdffonts lists them."""
    lines = run(["pdffonts", path]).stdout.decode(errors="replace").splitlines()[2:]
    return len(lines), sum(1 for ln in lines if "Type 3" in ln)


def measure(path):
    pages, size = pdf_pages(path)
    uri, internal, other, distinct = pdf_links(path)
    fonts, t3 = pdf_fonts(path)
    return {"pages": pages, "page_size": size, "bytes": os.path.getsize(path),
            "links_uri": uri, "distinct_uris": distinct, "links_internal": internal, "links_other": other,
            "links": uri + internal + other, "fonts": fonts, "type3_fonts": t3}


def coverage(a, b):
    """Share of a's words (multiset) that b has too."""
    total = sum(a.values())
    if not total:
        return None
    return sum(min(n, b[w]) for w, n in a.items()) / total


def lacking(a, b, n=15):
    """a's words that b lacks most often, with the count missing."""
    miss = collections.Counter({w: c - b[w] for w, c in a.items() if c > b[w]})
    return miss.most_common(n)


# ---------------------------------------------------------------------------
# Converters

def ours(st, url, out):
    t0 = time.perf_counter()
    r = st.call("POST", "/v1/convert/url-to-pdf",
                body=dict(OUR_OPTIONS, url=url, direct_download=True), timeout=180)
    ms = (time.perf_counter() - t0) * 1000
    if r.status != 200 or not r.body.startswith(b"%PDF"):
        raise RuntimeError(f"ours: {url}: HTTP {r.status} {r.body[:300]!r}")
    with open(out, "wb") as f:
        f.write(r.body)
    return ms


def chromium(url, out, tmp):
    udir = tempfile.mkdtemp(prefix="chromium-profile.", dir=tmp)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--user-data-dir={udir}", f"--print-to-pdf={out}", url]
    t0 = time.perf_counter()
    try:
        subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    finally:
        shutil.rmtree(udir, ignore_errors=True)
    ms = (time.perf_counter() - t0) * 1000
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        raise RuntimeError(f"chromium: {url}: no PDF written")
    return ms


def chromium_version():
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except OSError:
        return "?"


# ---------------------------------------------------------------------------

def ratio(a, b):
    return None if a is None or not b else a / b


def pct(x):
    return "-" if x is None else f"{x * 100:.1f} %"


def check_site():
    missing = [p for p in PAGES
               if not os.path.isfile(os.path.join(SITES[p.split("/", 1)[0]], p.split("/", 1)[1]))]
    if missing:
        raise SystemExit(f"fidelity: pages missing (bench/deps.sh installs the manuals): {missing}")


def bench_fidelity():
    check_site()
    before = lib.machine_state("before fidelity")
    tmp = tempfile.mkdtemp(prefix="enconvert-bench-fidelity.")
    rows, errors = [], []
    try:
        with SiteServer() as site, lib.BenchStack(renderers=1, views=2) as st:
            # Warm-up (not measured): one page each side.
            warm = f"{site.url}/{PAGES[0]}"
            ours(st, warm, os.path.join(tmp, "warm-ours.pdf"))
            chromium(warm, os.path.join(tmp, "warm-chromium.pdf"), tmp)
            for i, page in enumerate(PAGES):
                url = f"{site.url}/{page}"
                fo = os.path.join(tmp, f"{i:02d}-ours.pdf")
                fc = os.path.join(tmp, f"{i:02d}-chromium.pdf")
                row = {"page": page}
                try:
                    row["ours_ms"] = ours(st, url, fo)
                    row["chromium_ms"] = chromium(url, fc, tmp)
                    row["ours"], row["chromium"] = measure(fo), measure(fc)
                    wo, wc = pdf_words(fo), pdf_words(fc)
                    row["ours"]["words"], row["chromium"]["words"] = sum(wo.values()), sum(wc.values())
                    row["ours_in_chromium"] = coverage(wo, wc)
                    row["chromium_in_ours"] = coverage(wc, wo)
                    row["ours_lack"] = lacking(wc, wo)
                    row["chromium_lacks"] = lacking(wo, wc)
                    row["_words"] = (wo, wc)
                except Exception as e:  # reported, the bench goes on
                    row["error"] = str(e)[:500]
                    errors.append(f"{page}: {row['error']}")
                    log(f"{page}: {row['error']}")
                else:
                    log(f"{page}: pages {row['ours']['pages']}/{row['chromium']['pages']}, "
                        f"coverage {pct(row['ours_in_chromium'])} / {pct(row['chromium_in_ours'])}")
                rows.append(row)
            if os.environ.get("BENCH_KEEP"):
                kept = os.path.join(st.tmp, "fidelity-pdfs")
                shutil.copytree(tmp, kept)
                log(f"PDFs kept in {kept}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(rows, errors, before)
    return not errors


def report(rows, errors, before):
    ok = [r for r in rows if "error" not in r]
    chromium_v = chromium_version()
    print(f"\n== fidelity: ours (Letter, API defaults otherwise) vs {chromium_v} "
          f"--print-to-pdf, {len(ok)} of {len(rows)} documentation pages")
    head = (f"{'page':<34} {'pages o/c':>10} {'KiB o/c':>15} {'links o/c':>11} "
            f"{'in-doc o/c':>11} {'URIs o/c':>9} {'T3 o/c':>7} {'o in c':>7} {'c in o':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['page']:<34} ERROR {r['error'][:120]}")
            continue
        o, c = r["ours"], r["chromium"]
        print(f"{r['page']:<34} {o['pages']:>4}/{c['pages']:<5} "
              f"{o['bytes'] / 1024:>7.0f}/{c['bytes'] / 1024:<7.0f} "
              f"{o['links']:>5}/{c['links']:<5} "
              f"{o['links_internal']:>5}/{c['links_internal']:<5} "
              f"{o['distinct_uris']:>4}/{c['distinct_uris']:<4} "
              f"{o['type3_fonts']:>3}/{c['type3_fonts']:<3} "
              f"{r['ours_in_chromium'] * 100:>6.1f}% {r['chromium_in_ours'] * 100:>6.1f}%")
    if not ok:
        return

    def tot(side, k):
        return sum(r[side][k] for r in ok)

    def med(side, k):
        return lib.median([r[side][k] for r in ok])

    wo = sum((r["_words"][0] for r in ok), collections.Counter())
    wc = sum((r["_words"][1] for r in ok), collections.Counter())
    summary = {
        "pages_total": (tot("ours", "pages"), tot("chromium", "pages")),
        "pages_median": (med("ours", "pages"), med("chromium", "pages")),
        "bytes_total": (tot("ours", "bytes"), tot("chromium", "bytes")),
        "bytes_median": (med("ours", "bytes"), med("chromium", "bytes")),
        "links_total": (tot("ours", "links"), tot("chromium", "links")),
        "links_uri_total": (tot("ours", "links_uri"), tot("chromium", "links_uri")),
        "links_internal_total": (tot("ours", "links_internal"), tot("chromium", "links_internal")),
        "distinct_uris_total": (tot("ours", "distinct_uris"), tot("chromium", "distinct_uris")),
        "type3_fonts_total": (tot("ours", "type3_fonts"), tot("chromium", "type3_fonts")),
        "fonts_total": (tot("ours", "fonts"), tot("chromium", "fonts")),
        "words_total": (sum(wo.values()), sum(wc.values())),
        "ms_median": (lib.median([r["ours_ms"] for r in ok]),
                      lib.median([r["chromium_ms"] for r in ok])),
    }
    cov = {
        "ours_in_chromium_total": coverage(wo, wc),
        "chromium_in_ours_total": coverage(wc, wo),
        "ours_in_chromium_median": lib.median([r["ours_in_chromium"] for r in ok]),
        "chromium_in_ours_median": lib.median([r["chromium_in_ours"] for r in ok]),
        "ours_in_chromium_min": min(r["ours_in_chromium"] for r in ok),
        "chromium_in_ours_min": min(r["chromium_in_ours"] for r in ok),
    }
    page_ratios = [r["ours"]["pages"] / r["chromium"]["pages"] for r in ok]
    size_ratios = [r["ours"]["bytes"] / r["chromium"]["bytes"] for r in ok]
    table = [
        {"metric": "PDF pages, total", "ours": str(summary["pages_total"][0]),
         "peer": str(summary["pages_total"][1]),
         "ratio": f"{ratio(*summary['pages_total']):.2f}x"},
        {"metric": "PDF pages, median per page (ratio: median of per-page ratios)",
         "ours": lib.fmt(summary["pages_median"][0]), "peer": lib.fmt(summary["pages_median"][1]),
         "ratio": f"{lib.median(page_ratios):.2f}x"},
        {"metric": "size, total", "ours": lib.fmt(summary["bytes_total"][0] / 1024, " KiB"),
         "peer": lib.fmt(summary["bytes_total"][1] / 1024, " KiB"),
         "ratio": f"{ratio(*summary['bytes_total']):.2f}x"},
        {"metric": "size, median (ratio: median of per-page ratios)",
         "ours": lib.fmt(summary["bytes_median"][0] / 1024, " KiB"),
         "peer": lib.fmt(summary["bytes_median"][1] / 1024, " KiB"),
         "ratio": f"{lib.median(size_ratios):.2f}x"},
        {"metric": "link annotations, total", "ours": str(summary["links_total"][0]),
         "peer": str(summary["links_total"][1]),
         "ratio": f"{ratio(*summary['links_total']):.2f}x"},
        {"metric": "  of which URI / in-document",
         "ours": f"{summary['links_uri_total'][0]} / {summary['links_internal_total'][0]}",
         "peer": f"{summary['links_uri_total'][1]} / {summary['links_internal_total'][1]}"},
        {"metric": "distinct link URIs (summed over pages)",
         "ours": str(summary["distinct_uris_total"][0]),
         "peer": str(summary["distinct_uris_total"][1]),
         "ratio": f"{ratio(*summary['distinct_uris_total']):.2f}x"},
        {"metric": "fonts (pdffonts rows), total / of which Type 3",
         "ours": f"{summary['fonts_total'][0]} / {summary['type3_fonts_total'][0]}",
         "peer": f"{summary['fonts_total'][1]} / {summary['type3_fonts_total'][1]}"},
        {"metric": "words (pdftotext), total", "ours": str(summary["words_total"][0]),
         "peer": str(summary["words_total"][1]),
         "ratio": f"{ratio(*summary['words_total']):.3f}x"},
        {"metric": "text coverage, ours' words found in Chromium's (total / median / min)",
         "ours": f"{pct(cov['ours_in_chromium_total'])} / {pct(cov['ours_in_chromium_median'])}"
                 f" / {pct(cov['ours_in_chromium_min'])}"},
        {"metric": "text coverage, Chromium's words found in ours (total / median / min)",
         "peer": f"{pct(cov['chromium_in_ours_total'])} / {pct(cov['chromium_in_ours_median'])}"
                 f" / {pct(cov['chromium_in_ours_min'])}"},
        {"metric": "time per page, median (not a speed bench: one at a time, "
                   "Chromium starts anew each page)",
         "ours": lib.fmt(summary["ms_median"][0], " ms"),
         "peer": lib.fmt(summary["ms_median"][1], " ms")},
        {"metric": "failed conversions", "ours": str(len(errors))},
    ]
    lib.print_table("fidelity summary (o = ours, c = Chromium)", table)
    worst = sorted(ok, key=lambda r: min(r["ours_in_chromium"], r["chromium_in_ours"]))[:3]
    print("lowest coverage: words one side lacks (word, times missing):")
    for r in worst:
        print(f"  {r['page']}: ours lack {r['ours_lack'][:8]}")
        print(f"  {'':<{len(r['page'])}}  Chromium lacks {r['chromium_lacks'][:8]}")
    for r in rows:
        r.pop("_words", None)
    after = lib.machine_state("after fidelity")
    lib.save("fidelity", {"rows": rows, "summary": summary, "coverage": cov,
                          "page_ratio_median": lib.median(page_ratios),
                          "size_ratio_median": lib.median(size_ratios),
                          "options_ours": OUR_OPTIONS, "chromium": chromium_v,
                          "errors": errors, "machine": [before, after]})


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    else:
        lib.log(f"commit {lib.git_describe()}, binaries from {lib.e2e.BUILD}")
        sys.exit(0 if bench_fidelity() else 1)
