"""The exact requests of the vendor's clients, replayed: the node SDK
(@enconvert/node-sdk src/client.ts, src/internal.ts) and the CLI
(enconvert/cli src/api/http.ts, src/api/v1.ts, src/commands/url-site.ts,
src/commands/jobs.ts, src/util/poll.ts). Headers, body field order and
polling as they send them; each function returns what the client reads.
Polling waits are bounded (deadlines), as the clients' own are."""

import json
import time
import urllib.parse
import uuid

from stack import request

CLI_UA = "enconvert-cli/1.0.0"


class ClientError(Exception):
    """What the client would throw: status and message."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def raise_for_status(resp):
    """node-sdk raiseForStatus / CLI parseApiError: detail, else error."""
    if resp.status < 400:
        return
    try:
        body = json.loads(resp.body)
        message = body.get("detail") or body.get("error") or json.dumps(body)
    except ValueError:
        message = resp.body.decode(errors="replace")
    raise ClientError(resp.status, message)


def new_job_id():
    return uuid.uuid4().hex          # randomUUID() without dashes


# ---- node SDK -------------------------------------------------------------

def sdk_headers(key, extra=None):
    return {"X-API-Key": key, **(extra or {})}


def sdk_url_body(url):
    """buildUrlBody, in its field order (then job_id from postJson)."""
    return {"url": url, "direct_download": False, "viewport_width": 1920,
            "viewport_height": 1080, "load_media": True, "enable_scroll": True}


def sdk_poll_job(base, key, job_id, max_wait=120, interval=0.5):
    """pollJob: GET status with its own id until success or failed."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = request(base, "GET", f"/v1/convert/status/{job_id}",
                       headers=sdk_headers(key))
        if resp.status == 404:
            continue
        raise_for_status(resp)
        data = json.loads(resp.body)
        if data["status"] == "success":
            return data
        if data["status"] == "failed":
            raise ClientError(500, data.get("error") or "Conversion failed")
    raise ClientError(504, "Conversion timed out")


def sdk_convert_url_to_pdf(base, key, url, post=None):
    """convertUrlToPdf: body + single_page, POST with job_id; on a 5xx it
    polls the status route with its own job_id. `post` replaces the POST
    (to replay the fallback after a lost answer)."""
    body = sdk_url_body(url)
    body["single_page"] = True
    job_id = new_job_id()
    body["job_id"] = job_id
    try:
        resp = (post or request)(base, "POST", "/v1/convert/url-to-pdf", json.dumps(body),
                                 sdk_headers(key, {"content-type": "application/json"}))
        raise_for_status(resp)
        data = {"job_id": job_id, **json.loads(resp.body)}
    except ClientError as e:
        if e.status >= 500:
            data = sdk_poll_job(base, key, job_id)
        else:
            raise
    return to_conversion_result(data), job_id


def to_conversion_result(d):
    key = d.get("object_key") if isinstance(d.get("object_key"), str) else ""
    return {
        "presignedUrl": str(d.get("presigned_url")),
        "objectKey": key,
        "filename": d["filename"] if isinstance(d.get("filename"), str)
        else key.rsplit("/", 1)[-1],
        "fileSize": d.get("file_size") if isinstance(d.get("file_size"), int) else None,
        "conversionTimeSeconds": d.get("conversion_time_seconds")
        if isinstance(d.get("conversion_time_seconds"), (int, float)) else None,
        "jobId": d.get("job_id") if isinstance(d.get("job_id"), str) else None,
    }


def sdk_get_job_status(base, key, job_id):
    resp = request(base, "GET", f"/v1/convert/status/{job_id}", headers=sdk_headers(key))
    raise_for_status(resp)
    d = json.loads(resp.body)
    return {"status": d["status"],
            "presignedUrl": d.get("presigned_url") if isinstance(d.get("presigned_url"), str)
            else None,
            "objectKey": d.get("object_key") if isinstance(d.get("object_key"), str) else None,
            "error": d.get("error") if isinstance(d.get("error"), str) else None}


def sdk_get_batch_status(base, key, batch_id):
    resp = request(base, "GET", f"/v1/convert/batch/{batch_id}", headers=sdk_headers(key))
    raise_for_status(resp)
    d = json.loads(resp.body)
    return to_batch_status(d)


def to_batch_status(d):
    def num(v):
        return v if isinstance(v, int) else 0
    return {
        "batchId": str(d["batch_id"]), "status": d["status"], "total": num(d.get("total")),
        "completed": num(d.get("completed")), "failed": num(d.get("failed")),
        "inProgress": num(d.get("in_progress")), "outputMode": d.get("output_mode"),
        "zipDownloadUrl": d.get("zip_download_url")
        if isinstance(d.get("zip_download_url"), str) else None,
        "items": [{"sourceUrl": i.get("source_url", ""), "status": i.get("status", ""),
                   "downloadUrl": i.get("download_url")
                   if isinstance(i.get("download_url"), str) else None,
                   "outputFileSize": i.get("output_file_size")
                   if isinstance(i.get("output_file_size"), int) else None}
                  for i in d.get("items", [])],
    }


def sdk_wait_for_batch(base, key, batch_id, timeout=120, interval=0.5):
    deadline = time.time() + timeout
    while True:
        status = sdk_get_batch_status(base, key, batch_id)
        if status["status"] != "processing":
            return status
        if time.time() >= deadline:
            raise ClientError(504, f"Batch {batch_id} did not complete")
        time.sleep(interval)


# ---- CLI ------------------------------------------------------------------

def cli_headers(key=None, json_body=False):
    h = {"user-agent": CLI_UA, "accept": "application/json, */*"}
    if key is not None:
        h["x-api-key"] = key
    if json_body:
        h["content-type"] = "application/json"
    return h


def cli_request(base, key, method, path, body=None, anonymous=False):
    resp = request(base, method, path,
                   json.dumps(body) if body is not None else None,
                   cli_headers(None if anonymous else key, body is not None))
    raise_for_status(resp)
    is_json = "application/json" in resp.headers.get("content-type", "")
    return resp, (json.loads(resp.body) if is_json else None)


def cli_url_convert(base, key, endpoint, body):
    """urlConvert: job_id added last; 202 = accepted batch; bytes; sync."""
    job_id = body.get("job_id") or new_job_id()
    payload = {**body, "job_id": job_id}
    resp, data = cli_request(base, key, "POST", endpoint, payload)
    if resp.status == 202:
        return "accepted", data
    if data is None:
        return "bytes", resp
    return "sync", {"job_id": job_id, **data}


def cli_wait_batch(base, key, batch_id, timeout=120):
    """waitForV1Batch: poll the batch route until status != processing."""
    deadline = time.time() + timeout
    while True:
        _, status = cli_request(base, key, "GET",
                                f"/v1/convert/batch/{urllib.parse.quote(batch_id)}")
        if status["status"] != "processing":
            return status, status["status"] == "failed"
        if time.time() >= deadline:
            raise ClientError(0, "gave up waiting")
        time.sleep(0.5)


def cli_files_download(base, key, object_key):
    """runFilesDownload: bytes and the name from X-Filename."""
    path = "/v1/convert/download/" + "/".join(
        urllib.parse.quote(p, safe="") for p in object_key.split("/"))
    resp, data = cli_request(base, key, "GET", path)
    assert data is None, "download returned no bytes"
    name = resp.headers.get("x-filename") or object_key.rsplit("/", 1)[-1]
    return resp.body, name


def cli_whoami(base, key):
    _, data = cli_request(base, key, "GET", "/v1/whoami")
    return data


def cli_health(base):
    resp = request(base, "GET", "/health", headers=cli_headers())
    return resp.status, json.loads(resp.body)
