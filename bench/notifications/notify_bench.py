"""1,000 jobs finishing at once, each with a callback_url: how long the
notifier takes to deliver every webhook to a loopback HTTPS receiver.

The jobs, their tasks and their outbox rows are inserted in one transaction
straight into the stack's database, as the scheduler's terminal transaction
writes them (status completed, one successful task each, one pending webhook
row each, NOTIFY enconvert_notify), so every notification becomes due at the
same instant and nothing else (rendering) is measured. The clock starts when
that transaction has committed and stops when the receiver holds all of them
and the database records all of them delivered."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from receivers import HttpsReceiver, TestCA  # noqa: E402
from stack import Stack, wait_for_log_entry  # noqa: E402

JOBS = int(os.environ.get("BENCH_NOTIFY_JOBS", "1000"))
EXTRA = os.environ.get("BENCH_NOTIFY_EXTRA", "")
DEADLINE_S = 600


def psql(stack, sql):
    user = "postgres" if os.getuid() == 0 else None
    with open(os.path.join(stack.home, "pg.port")) as f:
        port = f.read().strip()
    cmd = ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h",
           os.path.join(stack.home, "run", "pg"), "-p", port, "-d", "enconvert"]
    if user:
        cmd += ["-U", user]
    return subprocess.run(cmd, input=sql, capture_output=True, text=True,
                          check=True).stdout.strip()


def insert_terminal_jobs(stack, callback_url, n):
    """One transaction: n completed jobs with a task and a pending webhook
    row each, plus the NOTIFY the outbox sends on commit."""
    sql = f"""
BEGIN;
CREATE TEMP TABLE ids AS
  SELECT i, 'job_bench' || lpad(i::text, 7, '0') AS id FROM generate_series(1, {n}) i;
INSERT INTO jobs (id, account_id, api_key_id, endpoint, is_batch, is_sync, status,
                  callback_url, base_url, completed_at)
  SELECT ids.id, k.account_id, k.id, 'url-to-pdf', false, false, 'completed',
         '{callback_url}', '{stack.url}', now()
  FROM ids, (SELECT id, account_id FROM api_keys ORDER BY id LIMIT 1) k;
INSERT INTO tasks (job_id, account_id, position, url, status, attempts, object_key,
                   filename, file_size, conversion_time, started_at, finished_at)
  SELECT ids.id, k.account_id, 0, 'https://example.com/page-' || ids.i, 'success', 1,
         'live/files/bench/url-to-pdf/page-' || ids.i || '.pdf', 'page.pdf',
         184320, 3.72, now(), now()
  FROM ids, (SELECT account_id FROM api_keys ORDER BY id LIMIT 1) k;
INSERT INTO notifications (job_id, type, target)
  SELECT ids.id, 'webhook', '{callback_url}' FROM ids;
SELECT pg_notify('enconvert_notify', '');
COMMIT;
"""
    psql(stack, sql)


def main():
    tmp = tempfile.mkdtemp(prefix="enc-nbench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    ca = TestCA(os.path.join(tmp, "certs"), "ca")
    receiver = HttpsReceiver(*ca.issue("server"))
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    os.chmod(home, 0o755)
    stack = Stack(home, extra_env={"ENCONVERT_TLS_CA_FILE": ca.cert,
                                   "ENCONVERT_WORKER_EXTRA": EXTRA})
    ok = False
    try:
        stack.start()
        # /v1/health answers before the renderers (and then the notifier)
        # are up: start the clock only once the notifier listens.
        log = os.path.join(home, "log", "worker-1.log")
        if not wait_for_log_entry(log, 120, component="notifier", msg="started"):
            raise RuntimeError(f"the notifier did not start: no such line in {log} after 120 s")
        callback = receiver.url + "/hook/ok"
        insert_terminal_jobs(stack, callback, JOBS)
        t0 = time.monotonic()
        received = delivered = 0
        t_received = None
        while time.monotonic() - t0 < DEADLINE_S:
            with receiver.lock:
                received = len(receiver.requests)
            if received >= JOBS and t_received is None:
                t_received = time.monotonic() - t0
            if t_received is not None:
                delivered = int(psql(stack, "SELECT count(*) FROM notifications "
                                            "WHERE state = 'delivered'"))
                if delivered >= JOBS:
                    break
            time.sleep(0.02)
        total = time.monotonic() - t0
        states = psql(stack, "SELECT state || '=' || count(*) FROM notifications "
                             "GROUP BY state ORDER BY state").replace("\n", " ")
        span = psql(stack, "SELECT extract(epoch FROM max(delivered_at) - min(created_at)) "
                           "FROM notifications")
        with receiver.lock:
            bodies = {r["body"] for r in receiver.requests}
        ok = received == JOBS and delivered == JOBS and len(bodies) == JOBS
        print(f"notifications: {JOBS} jobs terminal at once, webhooks to an HTTPS receiver "
              f"on loopback (config: {EXTRA or 'defaults'})")
        print(f"  received at the receiver : {received} ({len(bodies)} distinct) "
              f"after {t_received if t_received is not None else float('nan'):.2f} s")
        print(f"  recorded in the database : {states}; all recorded after {total:.2f} s")
        print(f"  commit to last delivered_at (database clock): {float(span or 'nan'):.2f} s")
        print(f"  throughput: {JOBS / total:.0f} deliveries/s")
        print("  result: " + ("PASS, all delivered exactly once" if ok else "FAIL"))
    finally:
        stack.stop()
        receiver.close()
        if os.environ.get("BENCH_KEEP") == "1" or not ok:
            print(f"  stack dir kept: {home}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
