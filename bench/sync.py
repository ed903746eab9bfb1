"""sync: one sync URL-to-PDF request at a time; overhead = client wall time
minus the bare render time the renderer child reports for that task
(render_ms: its view's start to the file written, in its "render succeeded"
log line). The worker log's JSON lines split the overhead into phases."""

import json
import time
from datetime import datetime, timezone

import lib
from lib import fmt, log

REQUESTS = lib.env_int("BENCH_SYNC_REQUESTS", 24)
TARGET_MS = 15.0


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def parse_log(text):
    """Per job, from the worker log's JSON lines (docs/operations.md "Logs"):
    when the intake created it, the scheduler claimed its task, the child
    rendered it (render_ms and the child's own timings), the scheduler
    recorded the outcome and the intake answered."""
    jobs = {}
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict) or "job_id" not in e or "ts" not in e:
            continue
        j = jobs.setdefault(e["job_id"], {})
        what = (e.get("component"), e.get("msg"))
        if what == ("intake", "job created"):
            j["created"] = ts(e["ts"])
        elif what == ("scheduler", "task claimed"):
            j["claimed"] = ts(e["ts"])
        elif e.get("msg") == "render succeeded":
            j["rendered"] = ts(e["ts"])
            j["render_ms"] = float(e["render_ms"])
            for k, v in (e.get("timings") or {}).items():
                j["child_" + k] = float(v)
        elif what == ("scheduler", "task succeeded"):
            j["recorded"] = ts(e["ts"])
        elif what == ("intake", "sync job answered"):
            j["answered"] = ts(e["ts"])
    return jobs


def bench_sync():
    before = lib.machine_state("before sync")
    samples = []
    with lib.PageServer() as pages, lib.BenchStack() as st:
        urls = pages.page_urls()
        for u in urls[:2]:  # warm-up, not counted
            assert st.call("POST", "/v1/convert/url-to-pdf", body={"url": u}).status == 200
        # WAL flushes per request; an idle stack's rate is measured first.
        # PostgreSQL 15 backends flush statistics after at most 10 s idle.
        time.sleep(11)
        c0, i0 = lib.wal_syncs(st), time.time()
        time.sleep(11)
        c1, i1 = lib.wal_syncs(st), time.time()
        idle_rate = (c1 - c0) / (i1 - i0)
        deadline = time.time() + 600
        m0 = time.time()
        for i in range(REQUESTS):
            if time.time() > deadline:
                log("sync: time budget spent, stopping early")
                break
            u = urls[i % len(urls)]
            t0 = time.time()
            p0 = time.perf_counter()
            r = st.call("POST", "/v1/convert/url-to-pdf", body={"url": u})
            wall = (time.perf_counter() - p0) * 1000
            t1 = time.time()
            assert r.status == 200 and r.json()["status"] == "completed", r
            samples.append({"url": u, "job": r.json()["job_id"], "wall_ms": wall,
                            "start": t0, "end": t1})
            time.sleep(0.2)
        m1 = time.time()
        time.sleep(11)  # statistics and the worker log are flushed
        c2 = lib.wal_syncs(st)
        commits_per_request = ((c2 - c1) - idle_rate * (time.time() - i1)) / max(len(samples), 1)
        commit_ms = lib.commit_latency_ms(st)
        jobs = parse_log(st.worker_log())
    rows_data = []
    for s in samples:
        j = jobs.get(s["job"], {})
        if "render_ms" not in j:
            log(f"no render time in the worker log for {s['job']}")
            continue
        d = dict(s, **j)
        d["overhead_ms"] = s["wall_ms"] - j["render_ms"]
        if {"created", "claimed", "answered"} <= j.keys():
            # Phases from log timestamps (ms resolution, same clock as the
            # client's time.time()).
            d["to_created_ms"] = (j["created"] - s["start"]) * 1000
            d["to_claimed_ms"] = (j["claimed"] - j["created"]) * 1000
            d["after_render_ms"] = (j["answered"] - j["claimed"]) * 1000 - j["render_ms"]
            if "recorded" in j:
                d["to_recorded_ms"] = (j["recorded"] - j["claimed"]) * 1000 - j["render_ms"]
                d["to_answered_ms"] = (j["answered"] - j["recorded"]) * 1000
            if "rendered" in j:
                # The child logs when it answers: before it, the pool's
                # frame to the child and the child's queue; after it, the
                # answer's frame, storage and the UPDATE + commit.
                d["claimed_to_child_ms"] = ((j["rendered"] - j["claimed"]) * 1000
                                            - j["render_ms"] - j.get("child_queued_ms", 0))
                if "recorded" in j:
                    d["child_to_recorded_ms"] = (j["recorded"] - j["rendered"]) * 1000
            d["reply_ms"] = (s["end"] - j["answered"]) * 1000
        rows_data.append(d)
    ov = [d["overhead_ms"] for d in rows_data]
    med = lib.median(ov)
    rows = [
        {"metric": f"sync overhead, median of {len(ov)}", "ours": fmt(med, " ms"),
         "peer": fmt(lib.median([d["render_ms"] for d in rows_data]), " ms render"),
         **lib.goal(med, "<=", TARGET_MS, " ms")},
        {"metric": "sync overhead p90 / max", "ours":
            f"{fmt(lib.percentile(ov, 90))} / {fmt(max(ov) if ov else None)} ms"},
        {"metric": "sync wall time, median", "ours":
            fmt(lib.median([d["wall_ms"] for d in rows_data]), " ms")},
    ]
    phases = [("client -> job committed (module, ZeroMQ, key, INSERT+commit)", "to_created_ms"),
              ("job committed -> task claimed (NOTIFY, claim+commit, dispatch)", "to_claimed_ms"),
              ("claimed -> recorded, minus render_ms (pool I/O, storage, UPDATE+commit)",
               "to_recorded_ms"),
              ("    of it: claimed -> child has the job (pool frame)", "claimed_to_child_ms"),
              ("    of it: child queue before its view starts", "child_queued_ms"),
              ("    of it: child answered -> recorded (frame, storage, commit)",
               "child_to_recorded_ms"),
              ("  render_ms: load", "child_load_ms"),
              ("  render_ms: settle (waits, scripts)", "child_settle_ms"),
              ("  render_ms: output (print, PDF rewrite, write)", "child_output_ms"),
              ("    of it: measuring links and headings", "child_prepare_ms"),
              ("    of it: WebKit's print", "child_print_ms"),
              ("    of it: post-processing (marks, fonts, rewrite)", "child_postprocess_ms"),
              ("recorded -> answered (NOTIFY, intake loads the job)", "to_answered_ms"),
              ("answered -> client has the reply (ZeroMQ, module, HTTP)", "reply_ms")]
    for label, k in phases:
        v = [d[k] for d in rows_data if k in d]
        rows.append({"metric": f"  {label}", "ours": fmt(lib.median(v), " ms")})
    rows.append({"metric": "WAL flushes (durable commits) per request", "ours":
                 f"{commits_per_request:.1f} x {commit_ms:.2f} ms = "
                 f"{commits_per_request * commit_ms:.1f} ms",
                 "target": "(one durable commit measured on this cluster)"})
    lib.print_table("sync: overhead of a sync request over the bare render (render_ms)", rows)
    print("(peer column: the bare render time the renderer child reports; phases are medians "
          "from worker log timestamps, 1 ms resolution)")
    after = lib.machine_state("after sync")
    lib.save("sync", {"samples": rows_data, "median_overhead_ms": med,
                      "commits_per_request": commits_per_request, "commit_ms": commit_ms,
                      "idle_wal_syncs_per_s": idle_rate,
                      "machine": [before, after]})
    return rows[0]["ok"]
