"""render: N URL-to-PDF conversions of the fixture pages at concurrency C
through the API (sync requests, direct_download so the client ends up with
the bytes, as page.pdf() gives them) vs a warm Playwright-driven headless
Chromium with C pages in parallel. Same page server, same pages, same order,
alternating rounds; the median round is reported.

Page sets (BENCH_PAGE_SET for render, BENCH_SWEEP_SETS for render-sweep):
`fixtures`, the renderable test pages with their sub-resources, and `docs`,
30 pages of a real documentation site, Debian's PostgreSQL 15 manual
(DocBook XSL HTML and its stylesheet), served on loopback by
fidelity.SiteServer, each page converted once per round or level."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import lib
from lib import fmt, log

N = lib.env_int("BENCH_PAGES", 40)
C = lib.env_int("BENCH_CONCURRENCY", 4)
ROUNDS = lib.env_int("BENCH_RENDER_ROUNDS", 3)
RENDERERS = lib.env_int("BENCH_RENDERERS", 2)
VIEWS = lib.env_int("BENCH_VIEWS", 2)
# BENCH_PERF=1: `perf record` of the whole machine over our timed rounds,
# summarised into $BENCH_RESULTS/render-perf.txt (lib.Profile).
PERF = os.environ.get("BENCH_PERF") == "1"
PAGE_SET = os.environ.get("BENCH_PAGE_SET", "fixtures")
SWEEP_SETS = os.environ.get("BENCH_SWEEP_SETS", "fixtures,docs").split(",")

# The manual's pages: short and long, prose, tables and code listings.
DOC_PAGES = [
    "index.html", "tutorial-select.html", "tutorial-join.html",
    "tutorial-transactions.html", "datatype-numeric.html",
    "datatype-datetime.html", "functions-string.html", "functions-json.html",
    "functions-datetime.html", "queries-with.html", "mvcc-intro.html",
    "transaction-iso.html", "explicit-locking.html", "using-explain.html",
    "indexes-types.html", "ddl-partitioning.html", "sql-select.html",
    "sql-insert.html", "sql-update.html", "sql-copy.html",
    "sql-createtable.html", "app-psql.html", "runtime-config-wal.html",
    "backup-dump.html", "continuous-archiving.html", "auth-pg-hba-conf.html",
    "libpq-connect.html", "plpgsql-control-structures.html",
    "textsearch-controls.html", "glossary.html",
]


class DocSite:
    """The `docs` page set: the manual on a loopback static server."""

    def __enter__(self):
        import fidelity
        self.server = fidelity.SiteServer()
        return self

    def __exit__(self, *exc):
        self.server.close()
        return False

    def page_urls(self):
        return [f"{self.server.url}/postgresql/{p}" for p in DOC_PAGES]


def result_name(base, set_name):
    """The JSON file a result goes to in var/bench: render.json for the
    fixture pages, render_<set>.json for another page set."""
    return base if set_name == "fixtures" else f"{base}_{set_name}"


def page_set(name):
    """(server context, pages per round) of a page set."""
    if name == "fixtures":
        return lib.PageServer(), N
    if name == "docs":
        return DocSite(), len(DOC_PAGES)
    raise ValueError(f"unknown page set {name!r} (fixtures, docs)")


def ours_round(st, urls, concurrency):
    """Returns elapsed_s, sizes[], ms[], errors[] like the peer."""
    sizes, ms, errors = [0] * len(urls), [0.0] * len(urls), []
    jobs = [None] * len(urls)
    lock = threading.Lock()
    state = {"next": 0}

    def one(url, i=None):
        t0 = time.time()
        r = st.call("POST", "/v1/convert/url-to-pdf",
                    body={"url": url, "direct_download": True, "timeout": 110},
                    timeout=120)
        if r.status != 200 or not r.body.startswith(b"%PDF"):
            raise RuntimeError(f"{url}: HTTP {r.status} {r.body[:200]!r}")
        if i is not None:
            jobs[i] = {"job": r.headers.get("x-job-id"), "start": t0, "end": time.time()}
        return len(r.body)

    def worker(_):
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(urls):
                return
            s = time.perf_counter()
            try:
                sizes[i] = one(urls[i], i)
            except Exception as e:  # counted, reported
                with lock:
                    errors.append(str(e)[:300])
            ms[i] = (time.perf_counter() - s) * 1000

    # Warm-up: one conversion per view (not timed).
    lib.run_threads(concurrency, lambda i: one(urls[i % len(urls)]))
    # CPU of every process of ours over the timed part: the worker's tree
    # (renderers, WebKit, Xvfb), PostgreSQL and nginx.
    c0, n0 = st.cpu_seconds(), st.cpu_ticks_by_pid()
    t0 = time.perf_counter()
    with lib.Profile(PERF, "render"):
        lib.run_threads(concurrency, worker)
    elapsed = time.perf_counter() - t0
    c1, n1 = st.cpu_seconds(), st.cpu_ticks_by_pid()
    return {"elapsed_s": elapsed, "sizes": sizes, "ms": ms, "errors": errors, "jobs": jobs,
            "cpu_s": sum(c1[k] - c0.get(k, 0) for k in c1),
            "cpu_by_name": lib.cpu_by_name(n0, n1)}


def ours_measured(st, urls, concurrency):
    """ours_round with the worker's process tree's memory sampled: the
    worker, Xvfb, the renderer children and their WebKit processes."""
    with lib.TreeMemory(lambda: [st.roots()["worker"]]) as mem:
        r = ours_round(st, urls, concurrency)
    r["peak_pss_mib"], r["pss_by_process"] = mem.peak_mib, mem.peak_by_name
    return r


def ours_request_phases(res, log_text):
    """Where a request's wall time goes, from worker log timestamps (see
    sync.py): medians over every measured request of every round."""
    import sync
    jl = sync.parse_log(log_text)
    keys = {"wait before claim (client -> claimed)": [], "render_ms": [],
            "claimed -> recorded minus render_ms": [], "recorded -> client": []}
    for r in res:
        for j in r.get("jobs", []):
            d = j and jl.get(j["job"])
            if not d or not {"created", "claimed", "recorded", "answered", "render_ms"} <= d.keys():
                continue
            keys["wait before claim (client -> claimed)"].append((d["claimed"] - j["start"]) * 1000)
            keys["render_ms"].append(d["render_ms"])
            keys["claimed -> recorded minus render_ms"].append(
                (d["recorded"] - d["claimed"]) * 1000 - d["render_ms"])
            keys["recorded -> client"].append((j["end"] - d["recorded"]) * 1000)
    return {k: lib.median(v) for k, v in keys.items()}


def peer_round(urls, concurrency):
    out = tempfile.mkdtemp(prefix="enconvert-bench-peer.")
    try:
        p = subprocess.Popen(["node", os.path.join(lib.BENCH, "chromium_peer.mjs"),
                              json.dumps({"urls": urls, "concurrency": concurrency,
                                          "outdir": out})],
                             cwd=lib.BENCH, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        # Node and the Chromium it drives (browser, renderers, GPU/utility).
        with lib.TreeMemory(lambda: [p.pid]) as mem:
            stdout, stderr = p.communicate(timeout=60 + 30 * len(urls))
        if p.returncode != 0:
            raise RuntimeError(f"chromium peer failed: {stderr[-2000:]}")
        r = json.loads(stdout.strip().splitlines()[-1])
        r["peak_pss_mib"], r["pss_by_process"] = mem.peak_mib, mem.peak_by_name
        return r
    finally:
        shutil.rmtree(out, ignore_errors=True)


def chromium_version():
    try:
        return subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except OSError:
        return "?"




def ours_phases(log_text):
    """Per-render phases the renderer child logs with each success (its
    JSON line's `timings`): load, settle (network idle, fonts), output
    (print + PDF post-processing; for a PDF split into prepare, print and
    postprocess), and the whole render_ms."""
    import sync
    jobs = [j for j in sync.parse_log(log_text).values() if "render_ms" in j]
    return {"render_ms": [j["render_ms"] for j in jobs],
            "load": [j.get("child_load_ms", 0.0) for j in jobs],
            "settle": [j.get("child_settle_ms", 0.0) for j in jobs],
            "output": [j.get("child_output_ms", 0.0) for j in jobs],
            "prepare": [j["child_prepare_ms"] for j in jobs if "child_prepare_ms" in j],
            "print": [j["child_print_ms"] for j in jobs if "child_print_ms" in j],
            "postprocess": [j["child_postprocess_ms"] for j in jobs
                            if "child_postprocess_ms" in j]}


def bench_render():
    before = lib.machine_state("before render")
    res = {"ours": [], "peer": []}
    server, n = page_set(PAGE_SET)
    with server as pages, lib.BenchStack(renderers=RENDERERS, views=VIEWS) as st:
        page_urls = pages.page_urls()
        urls = [page_urls[i % len(page_urls)] for i in range(n)]
        for i in range(ROUNDS):
            order = [("ours", lambda: ours_measured(st, urls, C)),
                     ("peer", lambda: peer_round(urls, C))]
            if i % 2:
                order.reverse()
            for name, fn in order:
                r = fn()
                r["rate"] = (n - len(r["errors"])) / r["elapsed_s"]
                log(f"round {i + 1} {name}: {n} pages in {r['elapsed_s']:.2f} s = "
                    f"{r['rate']:.2f} pages/s, errors {len(r['errors'])}")
                for e in r["errors"][:3]:
                    log(f"  {e}")
                res[name].append(r)
        wl = st.worker_log()
        render_log = [ln for ln in wl.splitlines() if "render succeeded" in ln]
        ph = ours_phases(wl)
        req_phases = ours_request_phases(res["ours"], wl)
    o = sorted(res["ours"], key=lambda r: r["rate"])[len(res["ours"]) // 2]
    p = sorted(res["peer"], key=lambda r: r["rate"])[len(res["peer"]) // 2]
    ratio = o["rate"] / p["rate"]
    # Sizes: every successful conversion of every round.
    so = [s for r in res["ours"] for s in r["sizes"] if s]
    sp = [s for r in res["peer"] for s in r["sizes"] if s]
    mo, mp = lib.median(so), lib.median(sp)
    lat_o = [m for r in res["ours"] for m in r["ms"]]
    lat_p = [m for r in res["peer"] for m in r["ms"]]
    errs = sum(len(r["errors"]) for r in res["ours"] + res["peer"])
    # The timed part only on both sides (no start-up, no warm-up).
    cpu_o = lib.median([r["cpu_s"] / n for r in res["ours"]])
    cpu_p = lib.median([r["cpu_s"] / n for r in res["peer"]])
    mem_o = lib.median([r.get("peak_pss_mib", 0) for r in res["ours"]])
    mem_p = lib.median([r.get("peak_pss_mib", 0) for r in res["peer"]])
    # A renderer child's share: itself, its WebKit web and network processes
    # (comm names are cut at 15 characters); the worker and Xvfb are shared.
    per_child = lib.median([sum(v for k, v in r.get("pss_by_process", {}).items()
                                if k.startswith(("enconvert-rend", "WebKit"))) / RENDERERS
                            for r in res["ours"]])
    rows = [
        {"metric": f"pages/s ({n} pages, {C} at a time)", "ours": fmt(o["rate"]),
         "peer": fmt(p["rate"]), "ratio": f"{ratio:.2f}x", **lib.goal(ratio, ">=", 1.5, "x")},
        {"metric": "median time per page", "ours": fmt(lib.median(lat_o), " ms"),
         "peer": fmt(lib.median(lat_p), " ms")},
        {"metric": "  bare render, renderer child's render_ms (median)",
         "ours": fmt(lib.median(ph["render_ms"]), " ms")},
        {"metric": "  load + wait for network idle (median)",
         "ours": fmt(lib.median([a + b for a, b in zip(ph["load"], ph["settle"])]), " ms"),
         "peer": fmt(lib.median([x for r in res["peer"] for x in r.get("goto_ms", [])]), " ms")},
        {"metric": "  print + write PDF (median)", "ours": fmt(lib.median(ph["output"]), " ms"),
         "peer": fmt(lib.median([x for r in res["peer"] for x in r.get("pdf_ms", [])]), " ms")},
        {"metric": "    of it: measure / WebKit print / post-process (medians)",
         "ours": " / ".join(fmt(lib.median(ph[k]), " ms")
                            for k in ("prepare", "print", "postprocess"))},
        {"metric": "median PDF size", "ours": fmt(mo / 1024, " KiB"),
         "peer": fmt(mp / 1024, " KiB"), "ratio": f"{mo / mp:.2f}x",
         **lib.goal(mo / mp, "<=", 1, "x")},
        {"metric": "CPU seconds per page, all processes (median round)",
         "ours": fmt(cpu_o * 1000, " ms"), "peer": fmt(cpu_p * 1000, " ms"),
         "ratio": f"{cpu_o / cpu_p:.2f}x" if cpu_p else "-",
         **lib.goal(cpu_o / cpu_p if cpu_p else None, "<=", 0.7, "x")},
        {"metric": "peak memory (PSS) of the whole tree, median round",
         "ours": fmt(mem_o, " MiB"), "peer": fmt(mem_p, " MiB"),
         "ratio": f"{mem_o / mem_p:.2f}x" if mem_p else "-"},
        {"metric": f"  per view (ours: {RENDERERS * VIEWS}) / per page in flight (peer: {C})",
         "ours": fmt(mem_o / (RENDERERS * VIEWS), " MiB"), "peer": fmt(mem_p / C, " MiB")},
        {"metric": "  per renderer child with its WebKit processes (ours)",
         "ours": fmt(per_child, " MiB") if per_child else "-"},
        {"metric": "  views / pages in flight that fit in 1 GiB at that rate",
         "ours": fmt(1024 / (mem_o / (RENDERERS * VIEWS))) if mem_o else "-",
         "peer": fmt(1024 / (mem_p / C)) if mem_p else "-"},
        {"metric": "failed conversions", "ours": str(sum(len(r["errors"]) for r in res["ours"])),
         "peer": str(sum(len(r["errors"]) for r in res["peer"])), "ok": errs == 0},
    ]
    lib.print_table(f"render ({PAGE_SET} pages): URL-to-PDF throughput, ours ({RENDERERS} renderers x {VIEWS} views)"
                    f" vs Playwright + {chromium_version()}", rows)
    print("ours, where a request's time goes (medians, worker log timestamps): " +
          ", ".join(f"{k} {fmt(v, ' ms')}" for k, v in req_phases.items()))
    # Per page: median size ours / peer over all rounds.
    print("per page (median size, median time):")
    for j, u in enumerate(page_urls):
        idx = [i for i in range(n) if i % len(page_urls) == j]
        zo = lib.median([r["sizes"][i] for r in res["ours"] for i in idx if r["sizes"][i]])
        zp = lib.median([r["sizes"][i] for r in res["peer"] for i in idx if r["sizes"][i]])
        to = lib.median([r["ms"][i] for r in res["ours"] for i in idx])
        tp = lib.median([r["ms"][i] for r in res["peer"] for i in idx])
        print(f"  {os.path.basename(u):<16} ours {fmt((zo or 0) / 1024, ' KiB'):>10} {fmt(to, ' ms'):>8}"
              f"   chromium {fmt((zp or 0) / 1024, ' KiB'):>10} {fmt(tp, ' ms'):>8}")
    by_name = {}
    for name in {k for r in res["ours"] for k in r.get("cpu_by_name", {})}:
        by_name[name] = lib.median([r.get("cpu_by_name", {}).get(name, 0) / n
                                    for r in res["ours"]])
    print("ours, CPU per page by process name (median round): " +
          ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in
                    sorted(by_name.items(), key=lambda kv: -kv[1]) if v * 1000 >= 0.5))
    for side in ("ours", "peer"):
        top = max(res[side], key=lambda r: r.get("peak_pss_mib", 0)).get("pss_by_process", {})
        print(f"{side}, PSS by process name at the largest peak: " +
              ", ".join(f"{k} {v:.0f} MiB" for k, v in sorted(top.items(), key=lambda kv: -kv[1])))
    after = lib.machine_state("after render")
    lib.save(result_name("render", PAGE_SET),
             {"rounds": res, "page_set": PAGE_SET, "rate_ours": o["rate"], "rate_peer": p["rate"],
                        "ratio": ratio, "median_size_ours": mo, "median_size_peer": mp,
                        "pages": n, "concurrency": C, "renderers": RENDERERS, "views": VIEWS,
                        "chromium": chromium_version(), "render_log": render_log[-200:], "ours_phases": ph, "ours_request_phases": req_phases,
                        "machine": [before, after]})
    return all(r.get("ok") is not False for r in rows)


# Concurrency sweep: each side's best rate over these pages-in-flight
# levels, ours with a render pool of the same size (renderers x views).
SWEEP = [int(x) for x in os.environ.get("BENCH_SWEEP", "1,2,4,8,16").split(",")]
SWEEP_POOLS = {1: (1, 1), 2: (1, 2), 4: (2, 2), 8: (2, 4), 16: (4, 4)}


def bench_render_sweep():
    ok = True
    for name in SWEEP_SETS:
        ok = sweep_page_set(name) and ok
    return ok


def sweep_page_set(set_name):
    before = lib.machine_state(f"before render-sweep ({set_name} pages)")
    levels = []
    server, n = page_set(set_name)
    with server as pages:
        page_urls = pages.page_urls()
        urls = [page_urls[i % len(page_urls)] for i in range(n)]
        for c in SWEEP:
            renderers, views = SWEEP_POOLS.get(c, (max(1, c // 4), min(c, 4)))
            with lib.BenchStack(renderers=renderers, views=views) as st:
                o = ours_measured(st, urls, c)
            p = peer_round(urls, c)
            for name, r in (("ours", o), ("peer", p)):
                r["rate"] = (n - len(r["errors"])) / r["elapsed_s"]
                log(f"{set_name}: {c} in flight ({renderers}x{views}) {name}: "
                    f"{r['rate']:.2f} pages/s, {r['cpu_s'] / n * 1000:.0f} CPU ms/page, "
                    f"peak {r['peak_pss_mib']:.0f} MiB, errors {len(r['errors'])}")
                for e in r["errors"][:3]:
                    log(f"  {e}")
            levels.append({"in_flight": c, "pool": [renderers, views], "ours": o, "peer": p})
    best_o = max(levels, key=lambda lv: lv["ours"]["rate"])
    best_p = max(levels, key=lambda lv: lv["peer"]["rate"])
    ratio = best_o["ours"]["rate"] / best_p["peer"]["rate"]
    cpu_o = best_o["ours"]["cpu_s"] / n
    cpu_p = best_p["peer"]["cpu_s"] / n
    rows = [{"metric": f"pages/s at {lv['in_flight']} in flight (ours {lv['pool'][0]}x"
                       f"{lv['pool'][1]}; CPU ms/page ours / peer)",
             "ours": f"{fmt(lv['ours']['rate'])} ({lv['ours']['cpu_s'] / n * 1000:.0f})",
             "peer": f"{fmt(lv['peer']['rate'])} ({lv['peer']['cpu_s'] / n * 1000:.0f})",
             "ratio": f"{lv['ours']['rate'] / lv['peer']['rate']:.2f}x"} for lv in levels]
    rows += [
        {"metric": f"best rate, {set_name} pages (ours at {best_o['in_flight']}, peer at "
                   f"{best_p['in_flight']})",
         "ours": fmt(best_o["ours"]["rate"]), "peer": fmt(best_p["peer"]["rate"]),
         "ratio": f"{ratio:.2f}x", **lib.goal(ratio, ">=", 1.5, "x")},
        {"metric": f"CPU seconds per page at the best rate, {set_name} pages",
         "ours": fmt(cpu_o * 1000, " ms"),
         "peer": fmt(cpu_p * 1000, " ms"), "ratio": f"{cpu_o / cpu_p:.2f}x",
         **lib.goal(cpu_o / cpu_p, "<=", 0.7, "x")},
        {"metric": "peak memory (PSS) per view / per page in flight at the best rate",
         "ours": fmt(best_o["ours"]["peak_pss_mib"] / (best_o["pool"][0] * best_o["pool"][1]),
                     " MiB"),
         "peer": fmt(best_p["peer"]["peak_pss_mib"] / best_p["in_flight"], " MiB")},
        {"metric": "failed conversions, all levels",
         "ours": str(sum(len(lv["ours"]["errors"]) for lv in levels)),
         "peer": str(sum(len(lv["peer"]["errors"]) for lv in levels)),
         "ok": not any(lv[s]["errors"] for lv in levels for s in ("ours", "peer"))},
    ]
    lib.print_table(f"render-sweep ({set_name} pages): {n} pages per level, ours through the "
                    f"API vs Playwright + {chromium_version()}", rows)
    after = lib.machine_state(f"after render-sweep ({set_name} pages)")
    lib.save(result_name("render_sweep", set_name),
             {"levels": levels, "pages": n, "page_set": set_name, "ratio": ratio,
              "cpu_per_page_ours": cpu_o, "cpu_per_page_peer": cpu_p,
              "machine": [before, after]})
    return all(r.get("ok") is not False for r in rows)
