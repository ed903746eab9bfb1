"""The worker's database connection lost at the worst moment: during the
COMMIT that records a rendered page. Whether that COMMIT went through is
unknown to the worker (libpqxx's in_doubt_error); the outcome is recorded
again once connected, not dropped (docs/reliability.md)."""

import os
import signal
import subprocess
import time

import pytest

from conftest import make_home, running
from stack import (SlowSite, Stack, log_entries, pg_user, psql, stop_postgres,
                   submit_and_wait_rendering, wait_for_log_entry, wait_for_sql, worker_pid)

# Ends the connection of the first transaction that records a success, at
# its COMMIT and before it is committed (pg_sleep lets the termination in).
# A sequence counts: it is not rolled back with the transaction.
KILL_FIRST_SUCCESS_COMMIT = """
CREATE SEQUENCE doubt_once;
CREATE FUNCTION doubt_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('doubt_once') = 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER doubt_once AFTER UPDATE ON tasks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.status = 'success') EXECUTE FUNCTION doubt_once();
"""


def stored_files(s):
    """Files in the stack's storage; not the renderers' scratch files in
    .tmp, which are there while a page is printed, before it is stored."""
    found = []
    for root, dirs, files in os.walk(os.path.join(s.home, "storage")):
        dirs[:] = [d for d in dirs if d != ".tmp"]
        found += files
    return found


def assert_rendered_and_stored_once(s, job_id):
    """The outcome was kept, not dropped to wait for the lease to run out
    and the page to be rendered (and stored) a second time."""
    row = psql(s.home, f"SELECT attempts || ',' || status FROM tasks WHERE job_id = '{job_id}'")
    assert row == "1,success", row
    stored = stored_files(s)
    assert len(stored) == 1, stored


@pytest.fixture
def lone_stack():
    yield from running(Stack(make_home("enc-doubt-")))


def test_a_result_whose_commit_was_cut_off_is_recorded_once_connected(lone_stack, site):
    s = lone_stack
    psql(s.home, KILL_FIRST_SUCCESS_COMMIT)
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    job_id = r.json()["job_id"]
    # the COMMIT cut off, then the one recording it again
    assert psql(s.home, "SELECT last_value FROM doubt_once") == "2"
    assert_rendered_and_stored_once(s, job_id)
    log = os.path.join(s.home, "log", "worker-1.log")
    assert wait_for_log_entry(log, 10, msg="database connection lost, reconnecting",
                              why="while committing a result"), s.logs()
    assert not [e for e in log_entries(log) if e.get("msg") == "recording a task outcome failed"]


def refuse_success_records(calls, refuse_if="true", also_when="true"):
    """SQL: PostgreSQL cancels each statement that records a success (and
    matches `also_when`, the trigger's WHEN) while `refuse_if` holds at
    that call: query_canceled, the class of a statement timeout, an
    operator's pg_cancel_backend or a full disk (the database unavailable
    for now, not the outcome wrong). Sequence `calls` counts the calls,
    refused or not: a sequence is not rolled back with the transaction."""
    return f"""
CREATE SEQUENCE {calls};
CREATE FUNCTION {calls}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nextval('{calls}');
  IF {refuse_if} THEN
    RAISE EXCEPTION 'canceling statement due to statement timeout'
      USING ERRCODE = 'query_canceled';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER {calls} BEFORE UPDATE ON tasks FOR EACH ROW
  WHEN (NEW.status = 'success' AND {also_when}) EXECUTE FUNCTION {calls}();
"""


# The first statement that records a success.
CANCEL_FIRST_SUCCESS_RECORD = refuse_success_records(
    "cancel_once", refuse_if="currval('cancel_once') = 1")

REFUSED_FOR_NOW = "recording a task outcome refused for now, tried again later"

# Every statement that records a success for hello.html (a role's
# statement_timeout shorter than the recording takes).
CANCEL_EVERY_HELLO_RECORD = refuse_success_records(
    "hello_refusals", also_when="NEW.url LIKE '%/hello.html'")


def submit_async(s, url):
    """The job id of an async job of `url`, accepted."""
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": url, "async_mode": True})
    assert r.status == 202, r
    return r.json()["job_id"]


def assert_another_job_succeeds(s, url):
    """An async job of `url` submitted now is rendered and recorded."""
    job_id = submit_async(s, url)
    assert wait_for_sql(s.home, f"SELECT status FROM tasks WHERE job_id = '{job_id}'",
                        "success") == "success", s.logs()


def test_an_outcome_the_server_keeps_refusing_holds_up_nothing_else(lone_stack, site):
    """An outcome whose recording is refused every time on a healthy
    connection used to drop that connection every half second and stay at
    the head of the queue: no other outcome was recorded and no task
    claimed. Now the connection stays, the outcome is tried again after a
    back-off, and the others go on."""
    s = lone_stack
    psql(s.home, CANCEL_EVERY_HELLO_RECORD)
    log = os.path.join(s.home, "log", "worker-1.log")
    refused_job = submit_async(s, site.url + "/hello.html")
    assert wait_for_sql(s.home, "SELECT is_called FROM hello_refusals", "t") == "t"
    assert_another_job_succeeds(s, site.url + "/second.html")
    assert not [e for e in log_entries(log) if e.get("why") == "while recording a result"]
    refused = wait_for_log_entry(log, 1, component="scheduler", msg=REFUSED_FOR_NOW)
    assert refused and refused["job_id"] == refused_job, s.logs()


# Every statement that records a success while refuse_success.active says
# so (a row locked elsewhere past the statement_timeout).
REFUSE_SUCCESS_WHILE_ACTIVE = (
    "CREATE TABLE refuse_success (active boolean);\n"
    "INSERT INTO refuse_success VALUES (true);\n"
    + refuse_success_records("success_refusals", refuse_if="(SELECT active FROM refuse_success)"))

LEASE_SECONDS = 3


@pytest.fixture
def short_lease_stack():
    yield from running(Stack(make_home("enc-lease-"), extra_env={
        "ENCONVERT_WORKER_EXTRA": f"lease_seconds = {LEASE_SECONDS}"}))


def test_a_task_whose_outcome_waits_keeps_its_lease(short_lease_stack, site):
    """The database refuses to record a rendered page for longer than a
    lease. The task's lease used to be renewed only while it rendered: once
    it expired the task was claimed and rendered again while its first
    result waited. Now the lease is kept until the outcome is recorded: one
    attempt, one stored file."""
    s = short_lease_stack
    psql(s.home, REFUSE_SUCCESS_WHILE_ACTIVE)
    job_id = submit_async(s, site.url + "/hello.html")
    # Refused at 0, 0.5, 1.5, 3.5 and 7.5 s (the back-off doubles): the
    # fifth refusal comes more than two leases after the first.
    assert wait_for_sql(s.home, "SELECT last_value >= 5 FROM success_refusals", "t") == "t"
    assert psql(s.home, f"SELECT attempts || ',' || status || ',' || "
                        f"(lease_expires_at > now()) FROM tasks WHERE job_id = '{job_id}'") \
        == "1,processing,true", s.logs()
    psql(s.home, "UPDATE refuse_success SET active = false")
    assert wait_for_sql(s.home, f"SELECT status FROM jobs WHERE id = '{job_id}'",
                        "completed") == "completed", s.logs()
    assert_rendered_and_stored_once(s, job_id)


def test_a_result_whose_recording_was_cancelled_is_recorded_after_it(lone_stack, site):
    s = lone_stack
    psql(s.home, CANCEL_FIRST_SUCCESS_RECORD)
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    job_id = r.json()["job_id"]
    assert psql(s.home, "SELECT last_value FROM cancel_once") == "2"
    assert_rendered_and_stored_once(s, job_id)
    log = os.path.join(s.home, "log", "worker-1.log")
    assert not [e for e in log_entries(log) if e.get("msg") == "recording a task outcome failed"]


def test_a_result_the_database_cannot_take_before_a_stop_leaves_no_orphan_file(lone_stack):
    """The database goes down while a page renders, and the worker is then
    stopped: the outcome cannot be recorded. The page will be rendered
    again once its lease runs out; the file stored for it, which no row
    will ever point at (retention would never remove it), goes, and the
    log says so."""
    s = lone_stack
    slow = SlowSite(delay=4)
    try:
        job_id = submit_and_wait_rendering(s, slow.url)
        stop_postgres(s.home)
        deadline = time.time() + 30
        while time.time() < deadline and not stored_files(s):
            time.sleep(0.1)
        assert stored_files(s), s.logs()
        pid = worker_pid(s)
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 30
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.1)
        log = os.path.join(s.home, "log", "worker-1.log")
        assert wait_for_log_entry(
            log, 10, msg="task outcome not recorded: the database is unavailable as the "
                         "worker stops", job_id=job_id, file="removed"), s.logs()
        assert stored_files(s) == []
    finally:
        slow.close()
        s.script("db")  # PostgreSQL again, for the fixture's stop


def test_an_outcome_waiting_for_the_reconnect_is_recorded_at_a_stop(lone_stack, site):
    """A statement cancelled while a result was recorded puts the outcome
    off for a back-off (500 ms at first, up to 10 s). A stop inside that
    wait still records it (one attempt at once): the page is not rendered
    again, its file stays."""
    s = lone_stack
    psql(s.home, CANCEL_FIRST_SUCCESS_RECORD)
    job_id = submit_async(s, site.url + "/hello.html")
    log = os.path.join(s.home, "log", "worker-1.log")
    # Read often: the stop must land inside the first 500 ms of back-off.
    assert wait_for_log_entry(log, 30, poll=0.02, component="scheduler",
                              msg=REFUSED_FOR_NOW), s.logs()
    pid = worker_pid(s)
    os.kill(pid, signal.SIGTERM)  # inside the back-off
    deadline = time.time() + 30
    while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)
    assert psql(s.home, "SELECT last_value FROM cancel_once") == "2", s.logs()
    row = psql(s.home, f"SELECT attempts || ',' || status FROM tasks WHERE job_id = '{job_id}'")
    assert row == "1,success", s.logs()
    assert not [e for e in log_entries(log) if e.get("msg", "").startswith(
        "task outcome not recorded")]
    assert len(stored_files(s)) == 1


def test_an_outcome_still_refused_at_a_stop_hands_its_task_back(lone_stack, site):
    """Every statement recording the page's success is refused (the database
    up, the outcome not taken for now) and the worker is stopped: the
    outcome is dropped with its file, and its task is handed back as the
    unfinished ones are (pending, no attempt spent), not left leased to a
    stopped worker until the lease runs out. It was handed back only when
    another task happened to be rendering at the stop."""
    s = lone_stack
    psql(s.home, CANCEL_EVERY_HELLO_RECORD)
    job_id = submit_async(s, site.url + "/hello.html")
    log = os.path.join(s.home, "log", "worker-1.log")
    assert wait_for_log_entry(log, 30, component="scheduler", msg=REFUSED_FOR_NOW), s.logs()
    pid = worker_pid(s)
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}"), s.logs()
    row = psql(s.home, "SELECT status || ',' || attempts || ',' || coalesce(lease_owner, '-')"
                       f" FROM tasks WHERE job_id = '{job_id}'")
    assert row == "pending,0,-", s.logs()
    assert stored_files(s) == []


# Notes which of the worker's components had a database connection open
# when a task was claimed (each names its connection: enconvert-<component>).
NOTE_CONNECTED_AT_CLAIM = """
CREATE TABLE connected_at_claim (names text[]);
CREATE FUNCTION note_connected() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO connected_at_claim
    SELECT array_agg(DISTINCT application_name ORDER BY application_name)
    FROM pg_stat_activity WHERE application_name LIKE 'enconvert-%';
  RETURN NULL;
END $$;
CREATE TRIGGER note_connected AFTER UPDATE ON tasks FOR EACH ROW
  WHEN (NEW.attempts > OLD.attempts) EXECUTE FUNCTION note_connected();
"""


def test_a_starting_worker_takes_no_task_before_every_component_is_connected(lone_stack):
    """A task waiting when a worker starts is claimed as soon as its
    scheduler runs. The other components used to connect after that: a
    database lost in between failed the start, and the worker exited with
    the task in hand (seen in CI). Now every component is connected before
    any takes work; a loss after that is one each reconnects from."""
    s = lone_stack
    slow = SlowSite(delay=30)
    try:
        job_id = submit_and_wait_rendering(s, slow.url)
        pid = worker_pid(s)
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 30
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.1)
        assert wait_for_sql(s.home, "SELECT count(*) FROM pg_stat_activity "
                                    "WHERE application_name LIKE 'enconvert-%'", "0") == "0"
        psql(s.home, NOTE_CONNECTED_AT_CLAIM)
        psql(s.home, "UPDATE tasks SET lease_expires_at = now() - interval '1 second' "
                     f"WHERE job_id = '{job_id}'")
        s.script("start")
        wait_for_sql(s.home, "SELECT count(*) > 0 FROM connected_at_claim", "t", timeout=60)
        names = psql(s.home, "SELECT names FROM connected_at_claim LIMIT 1")
        assert names == ("{enconvert-archiver,\"enconvert-archiver lease\","
                         "enconvert-discoverer,enconvert-intake,"
                         "enconvert-janitor,enconvert-metrics,enconvert-notifier,"
                         "enconvert-scheduler}"), s.logs()
    finally:
        slow.close()


def lock_job_row(s, job_id):
    """A psql session that keeps job `job_id`'s row locked (FOR UPDATE) for
    ten minutes or until unlock_job_rows(); returned once it holds it."""
    with open(os.path.join(s.home, "pg.port")) as f:
        port = f.read().strip()
    locker = subprocess.Popen(
        ["psql", "-X", "-h", os.path.join(s.home, "run", "pg"), "-p", port,
         "-U", pg_user(), "-d", "enconvert", "-c",
         f"BEGIN; SELECT 1 FROM jobs WHERE id = '{job_id}' FOR UPDATE;"
         " SELECT pg_sleep(600);"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    holding = ("SELECT count(*) FROM pg_stat_activity"
               " WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()"
               " AND wait_event = 'PgSleep'")
    assert wait_for_sql(s.home, holding, "1") == "1"
    return locker


def unlock_job_rows(s):
    """Ends the sessions lock_job_row() started."""
    psql(s.home, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()")


def test_a_job_row_another_session_keeps_locked_holds_up_nothing_else(lone_stack, site):
    """Recording a result locks its job's row. Another session keeping that
    row locked (an operator's open transaction, a stuck client) used to
    hold the scheduler in that wait for as long as it lasted: no other
    result was recorded, no lease renewed, no task claimed. Now the
    scheduler's statements give up after its statement_timeout (5 s): the
    result is tried again later, the others go on, and it is recorded once
    the lock is gone."""
    s = lone_stack
    log = os.path.join(s.home, "log", "worker-1.log")
    slow = SlowSite(2)
    locker = None
    try:
        locked_job = submit_and_wait_rendering(s, slow.url)
        locker = lock_job_row(s, locked_job)

        # The slow page's result waits for the lock, then is put off.
        refused = wait_for_log_entry(log, 30, component="scheduler", msg=REFUSED_FOR_NOW,
                                     job_id=locked_job)
        assert refused, s.logs()
        assert_another_job_succeeds(s, site.url + "/hello.html")

        unlock_job_rows(s)
        # Its lease is not renewed meanwhile: past it, the page may have
        # been rendered a second time; either way it ends a success.
        assert wait_for_sql(s.home, f"SELECT status FROM tasks WHERE job_id = '{locked_job}'",
                            "success") == "success", s.logs()
    finally:
        slow.close()
        if locker:
            locker.kill()
            locker.wait()


def test_a_job_row_locked_elsewhere_lets_no_other_lease_lapse(short_lease_stack):
    """Another session keeps a batch job's row locked while its pages
    finish: each of their outcomes waits for that lock until the statement
    gives up. Those waits used to add up (5 s each, recorded one after the
    other before any lease was renewed): the lease of an unrelated task
    rendering meanwhile lapsed, and another worker could take it and render
    it again. Now a statement waits at most a third of a lease, and leases
    due for renewal are renewed between two outcomes: the unrelated task's
    lease never lapses."""
    s = short_lease_stack
    log = os.path.join(s.home, "log", "worker-1.log")
    long_page = SlowSite(14)
    short_pages = SlowSite(2)
    locker = None
    try:
        victim = submit_and_wait_rendering(s, long_page.url)
        r = s.call("POST", "/v1/convert/url-to-pdf", {
            "url": [f"{short_pages.url}?page={n}" for n in range(3)], "async_mode": True})
        assert r.status == 202, r
        locked_job = r.json()["job_id"]
        locker = lock_job_row(s, locked_job)
        assert wait_for_log_entry(log, 30, component="scheduler", msg=REFUSED_FOR_NOW,
                                  job_id=locked_job), s.logs()

        # Watched until the long page is recorded: while it renders its
        # lease is always in the future.
        lapsed = []
        deadline = time.time() + 40
        while time.time() < deadline:
            row = psql(s.home, "SELECT status || ',' || attempts || ',' || "
                               "coalesce((lease_expires_at > now())::text, '-')"
                               f" FROM tasks WHERE job_id = '{victim}'")
            if not row.startswith("processing"):
                break
            if not row.endswith("true"):
                lapsed.append(row)
            time.sleep(0.05)
        assert lapsed == [], s.logs()
        assert psql(s.home, f"SELECT status || ',' || attempts FROM tasks"
                            f" WHERE job_id = '{victim}'") == "success,1", s.logs()
        # The three locked-out pages were refused on the way.
        refused = [e for e in log_entries(log)
                   if e.get("msg") == REFUSED_FOR_NOW and e.get("job_id") == locked_job]
        assert len({e["task_id"] for e in refused}) == 3, s.logs()

        unlock_job_rows(s)
        assert wait_for_sql(s.home, f"SELECT status FROM jobs WHERE id = '{locked_job}'",
                            "completed") == "completed", s.logs()
    finally:
        long_page.close()
        short_pages.close()
        if locker:
            locker.kill()
            locker.wait()


def test_a_task_leased_to_the_worker_unbeknown_to_it_is_handed_back_on_reconnect(lone_stack,
                                                                                   site):
    """A claim whose COMMIT went through while the connection broke (the
    worker saw libpqxx's in_doubt_error) leaves tasks leased to the worker
    that nothing in it renders. They used to wait for their lease to run
    out and cost an attempt. Now, once reconnected, the worker hands back
    every task leased to it that it is not running: such a task is claimed
    again at once, its attempt not counted. Made here by leasing a waiting
    task to the worker by hand, for an hour, and cutting its connection."""
    s = lone_stack
    slow = SlowSite(6)
    try:
        busy = [submit_and_wait_rendering(s, f"{slow.url}?n={n}") for n in range(2)]
        owner = psql(s.home, f"SELECT lease_owner FROM tasks WHERE job_id = '{busy[0]}'")
        assert owner, s.logs()
        # Both views busy: this one waits, and is leased as a lost claim would.
        waiting = submit_async(s, site.url + "/hello.html")
        assert psql(s.home, "UPDATE tasks SET status = 'processing', lease_owner = "
                            f"'{owner}', lease_expires_at = now() + interval '1 hour', "
                            f"attempts = 1 WHERE job_id = '{waiting}' AND status = 'pending' "
                            "RETURNING id"), s.logs()
        psql(s.home, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = 'enconvert-scheduler'")
        log = os.path.join(s.home, "log", "worker-1.log")
        assert wait_for_log_entry(log, 30, component="scheduler",
                                  msg="tasks leased to this worker that it was not running "
                                      "handed back", count=1), s.logs()
        assert wait_for_sql(s.home, f"SELECT status || ',' || attempts FROM tasks"
                                    f" WHERE job_id = '{waiting}'", "success,1") == "success,1", \
            s.logs()
        # The two it was rendering were kept: rendered once each.
        for job_id in busy:
            assert wait_for_sql(s.home, f"SELECT status || ',' || attempts FROM tasks"
                                        f" WHERE job_id = '{job_id}'", "success,1") == \
                "success,1", s.logs()
    finally:
        slow.close()
