"""The exact requests of the vendor's clients, replayed: the node SDK
(@enconvert/node-sdk src/client.ts, src/internal.ts) and the CLI
(enconvert/cli src/api/http.ts, src/api/v1.ts, src/commands/url-site.ts,
src/commands/jobs.ts, src/util/poll.ts) and the Go SDK (enconvert/go-sdk
client.go, its types file with URLRenderOptions/ConversionResult/BatchStatus,
doc.go). Headers, body field order and
polling as they send them; each function returns what the client reads.
Polling waits are bounded (deadlines), as the clients' own are."""

import functools
import gzip
import json
import posixpath
import time
import urllib.parse
import uuid

from sdk_replay import (ApiError, SdkReplay, fetch, http_reason, json_writer, kind_errors,
                        member_float, member_int, member_objects, member_str, save_file)
from stack import Response, request

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


def to_job_status(d):
    return {"status": d["status"],
            "presignedUrl": d.get("presigned_url") if isinstance(d.get("presigned_url"), str)
            else None,
            "objectKey": d.get("object_key") if isinstance(d.get("object_key"), str) else None,
            "error": d.get("error") if isinstance(d.get("error"), str) else None}


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


class NodeSdk(SdkReplay):
    """@enconvert/node-sdk: buildUrlBody (the shared url_body without
    options, then single_page and job_id last); pollJob every 0.5 s for at
    most 120 s, the same for waitForBatch; a ClientError(status, message)
    for every error."""

    error = ClientError
    poll_interval = batch_interval = 0.5
    poll_max_wait = batch_timeout = 120
    raise_for_status = staticmethod(raise_for_status)
    new_job_id = staticmethod(new_job_id)
    to_conversion_result = staticmethod(to_conversion_result)
    to_job_status = staticmethod(to_job_status)
    to_batch_status = staticmethod(to_batch_status)

    def send(self, base, key, method, path, body=None, post=None):
        if body is None:
            return request(base, method, path, headers=sdk_headers(key))
        return (post or request)(base, method, path, body,
                                 sdk_headers(key, {"content-type": "application/json"}))

    def decode(self, body):
        return json.loads(body)

    def encode(self, body, key_order=None):
        return json.dumps(body)

    def keep_job_id(self, data, job_id):
        return {"job_id": job_id, **data}

    def polled_status(self, data):
        return data["status"]

    def failed_message(self, data):
        return data.get("error") or "Conversion failed"

    def batch_timeout_message(self, batch_id, timeout):
        return f"Batch {batch_id} did not complete"


NODE = NodeSdk()
sdk_poll_job = NODE.poll_job
sdk_get_job_status = NODE.get_job_status
sdk_get_batch_status = NODE.get_batch_status


def sdk_convert_url_to_pdf(base, key, url, post=None):
    """convertUrlToPdf: body + single_page, POST with job_id; on a 5xx it
    polls the status route with its own job_id. `post` replaces the POST
    (to replay the fallback after a lost answer)."""
    return NODE.convert_url_to_pdf(base, key, url, post=post)


def sdk_wait_for_batch(base, key, batch_id, timeout=120, interval=0.5):
    return NODE.wait_for_batch(base, key, batch_id, interval, timeout)


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


def cli_poll_job_until_done(base, key, job_id, max_wait=300, interval=3):
    """pollJobUntilDone: the status of the CLI's own job_id every 3 s, a 404
    meaning "not yet"; "success" gives the envelope, "failed" an error."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        try:
            _, status = cli_request(base, key, "GET",
                                    f"/v1/convert/status/{urllib.parse.quote(job_id)}")
        except ClientError as e:
            if e.status == 404:
                continue
            raise
        if status["status"] == "success":
            return {"presigned_url": status.get("presigned_url") or "",
                    "object_key": status.get("object_key") or "", "filename": "",
                    "file_size": 0, "conversion_time_seconds": 0, "job_id": job_id}
        if status["status"] == "failed":
            raise ClientError(0, status.get("error") or "conversion failed")
    raise ClientError(0, f"conversion still running after {max_wait}s")


def cli_url_convert(base, key, endpoint, body):
    """urlConvert: job_id added last; a 5xx of a request without async_mode
    polls that job_id (pollJobUntilDone); 202 = accepted batch; bytes;
    sync."""
    job_id = body.get("job_id") or new_job_id()
    payload = {**body, "job_id": job_id}
    try:
        resp, data = cli_request(base, key, "POST", endpoint, payload)
    except ClientError as e:
        if e.status >= 500 and body.get("async_mode") is not True:
            return "sync", cli_poll_job_until_done(base, key, job_id)
        raise
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


def cli_batch_downloads(batch):
    """handleAcceptedBatch after the wait: with output_mode "zip" and a
    zip_download_url that is not undefined or "" (a null passes that test)
    it downloads that one link to <batch_id>.zip; otherwise each item's
    download_url, warning about items without one."""
    zip_url = batch.get("zip_download_url", "")
    if batch["output_mode"] == "zip" and zip_url != "":
        return "zip", zip_url
    return "items", [i["download_url"] for i in batch["items"] if i.get("download_url")]


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


# ---- Go SDK ---------------------------------------------------------------
# enconvert/go-sdk client.go (New, request, doJSON, postJSON, pollJob,
# download, buildURLBody, serializePDFOptions, toConversionResult,
# toJobStatus, toBatchStatus, WaitForBatch, raiseForStatus,
# extractErrorMessage, the map helpers), its option and result types
# (URLRenderOptions, HTTPBasicAuth, BrowserCookie, PDFOptions, PDFMargins,
# PDFHeaderFooter, ConversionResult, JobStatus, BatchStatus, BatchItem,
# WaitForBatchOptions) and doc.go (Version 0.1.1). What differs from the
# node SDK: bodies are Go maps, so json.Marshal writes their keys sorted and
# compact, with <, > and & escaped; nested structs keep their declaration
# order and leave out empty `omitempty` members; the Go transport asks for
# gzip; errors are typed by status; numbers are read as float64 whatever
# their JSON form; pollJob waits 3 s per poll for at most 300 s; WaitForBatch
# polls every 5 s for at most 30 min unless the caller sets both.

GO_SDK_VERSION = "0.1.1"
GO_UA = f"enconvert-sdk/{GO_SDK_VERSION} (go)"   # defaultUserAgent
GO_POLL_INTERVAL = 3                              # defaultPollInterval
GO_POLL_MAX_WAIT = 300                            # defaultPollMaxWait
GO_BATCH_POLL_INTERVAL = 5                        # defaultBatchPollInterval
GO_BATCH_TIMEOUT = 30 * 60                        # defaultBatchTimeout
GO_REQUEST_TIMEOUT = 300                          # defaultTimeout (http.Client)


class GoAPIError(ApiError):
    """*enconvert.APIError and its typed forms: `kind` is "authentication"
    (401/403, IsAuthenticationError), "quota" (402), "rate_limit" (429) or
    "api"; Error() is "[<status>] <message>"."""


class GoStruct(dict):
    """A Go struct in a body: json.Marshal writes its members in declaration
    order (a plain dict here is a Go map: keys sorted)."""


def _go_string(s):
    # encoding/json: UTF-8 as is, HTML-safe escapes for <, > and &, and
    # U+2028/U+2029 escaped
    out = json.dumps(s, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(ch, esc)
    return out


def _go_number(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))        # float64 10 is written 10
    return json.dumps(v)          # int, other floats


# json.Marshal, compact: maps sorted by key, structs in field order
go_marshal = json_writer(_go_string, _go_number,
                         lambda d: d.items() if isinstance(d, GoStruct) else sorted(d.items()))


def go_headers(key, content_type=None):
    """Client.request: X-API-Key (Go sends it as X-Api-Key), User-Agent,
    Content-Type when there is a body; the transport adds Accept-Encoding."""
    h = {"User-Agent": GO_UA}
    if content_type:
        h["Content-Type"] = content_type
    h["X-Api-Key"] = key
    h["Accept-Encoding"] = "gzip"
    return h


def _go_transport(resp):
    """The Go transport undoes the gzip it asked for."""
    if resp.headers.get("content-encoding", "").lower() == "gzip":
        body = gzip.decompress(resp.body)
        headers = {k: v for k, v in resp.headers.items()
                   if k not in ("content-encoding", "content-length")}
        return Response(resp.status, headers, body)
    return resp


def go_request(base, key, method, path, body=None, content_type=None, send=None):
    headers = go_headers(key, content_type)
    if send is not None:
        resp = send(base, method, path, body, headers)
    else:
        resp = request(base, method, path, body, headers, timeout=GO_REQUEST_TIMEOUT)
    return _go_transport(resp)


def go_error_message(body, status):
    """extractErrorMessage: a JSON object's string `detail` (any other
    non-null detail re-marshalled), else its string `error`, else the raw
    body; not a JSON object: the trimmed text, else "HTTP <status>"."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        detail = parsed.get("detail")
        if detail is not None:
            if isinstance(detail, str):
                if detail:
                    return detail
            else:
                return go_marshal(detail)
        err = parsed.get("error")
        if isinstance(err, str) and err:
            return err
        return body.decode(errors="replace")
    text = body.decode(errors="replace").strip()
    return text or f"HTTP {status}"


def _go_decode_object(raw):
    # json.Unmarshal into map[string]any: anything but an object is an error
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"json: cannot unmarshal into map[string]any: {raw[:100]!r}")
    return data


# the map helpers
go_map_string = functools.partial(member_str, fallback="")
go_map_int = functools.partial(member_int, fallback=0)
go_map_opt_int = member_int
go_map_opt_float = member_float


def go_to_conversion_result(d):
    """toConversionResult: a missing filename is the object key's base name."""
    object_key = go_map_string(d, "object_key")
    filename = go_map_string(d, "filename")
    if not filename and object_key:
        filename = posixpath.basename(object_key)
    return {"PresignedURL": go_map_string(d, "presigned_url"), "ObjectKey": object_key,
            "Filename": filename, "FileSize": go_map_opt_int(d, "file_size"),
            "ConversionTimeSeconds": go_map_opt_float(d, "conversion_time_seconds"),
            "JobID": go_map_string(d, "job_id")}


def go_to_job_status(d):
    """toJobStatus."""
    return {"Status": go_map_string(d, "status"),
            "PresignedURL": go_map_string(d, "presigned_url"),
            "ObjectKey": go_map_string(d, "object_key"), "Error": go_map_string(d, "error")}


def go_to_batch_status(d):
    """toBatchStatus; items that are not objects are skipped."""
    return {
        "BatchID": go_map_string(d, "batch_id"), "Status": go_map_string(d, "status"),
        "Total": go_map_int(d, "total"), "Completed": go_map_int(d, "completed"),
        "Failed": go_map_int(d, "failed"), "InProgress": go_map_int(d, "in_progress"),
        "OutputMode": go_map_string(d, "output_mode"),
        "ZipDownloadURL": go_map_string(d, "zip_download_url"),
        "Items": [{"SourceURL": go_map_string(i, "source_url"),
                   "Status": go_map_string(i, "status"),
                   "DownloadURL": go_map_string(i, "download_url"),
                   "OutputFileSize": go_map_opt_int(i, "output_file_size"),
                   "Duration": go_map_string(i, "duration")}
                  for i in member_objects(d, "items")],
    }


class GoSdk(SdkReplay):
    """The Go SDK: bodies are maps (sorted) and structs (GoStruct), unset
    members are the zero values ("" for strings), a missing result string
    is ""."""

    error = GoAPIError
    poll_interval = GO_POLL_INTERVAL
    poll_max_wait = GO_POLL_MAX_WAIT
    batch_interval = GO_BATCH_POLL_INTERVAL
    batch_timeout = GO_BATCH_TIMEOUT
    PRESIGNED, STATUS, ZIP_URL = "PresignedURL", "Status", "ZipDownloadURL"
    error_for = staticmethod(kind_errors(GoAPIError, auth_status=None))
    error_message = staticmethod(go_error_message)      # extractErrorMessage
    decode_polled = staticmethod(_go_decode_object)
    new_job_id = staticmethod(new_job_id)               # newJobID: UUIDv4, 32 hex digits
    to_conversion_result = staticmethod(go_to_conversion_result)
    to_job_status = staticmethod(go_to_job_status)
    to_batch_status = staticmethod(go_to_batch_status)
    struct = GoStruct
    is_set = staticmethod(bool)                         # omitempty: "" is unset

    def send(self, base, key, method, path, body=None, post=None):
        return go_request(base, key, method, path, body,
                          "application/json" if body is not None else None, post)

    def decode(self, body):
        """doJSON: an empty body is an empty map."""
        return {} if not body else _go_decode_object(body)

    def encode(self, body, key_order=None):
        return go_marshal(body).encode()

    def saves(self, save_to):
        return bool(save_to)

    def no_zip(self, zip_url):
        return not zip_url

    def batch_timeout_message(self, batch_id, timeout):
        return f"Batch {batch_id} did not complete within {timeout}s"

    def download(self, url, dest):
        """download: GET the presigned URL without the API key (Go's default
        User-Agent, redirects followed up to 10), non-2xx is APIError
        "Failed to download: <status>", the bytes written to dest."""
        headers = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}

        def too_many():
            raise GoAPIError(0, "stopped after 10 redirects")
        resp = fetch(url, lambda origin, path: _go_transport(
            request(origin, "GET", path, headers=headers, timeout=GO_REQUEST_TIMEOUT)),
            11, too_many)
        if not 200 <= resp.status < 300:
            raise GoAPIError(resp.status, "Failed to download: "
                             f"{resp.status} {http_reason(resp.status)}")
        save_file(dest, resp.body)


GO = GoSdk()
go_basic_auth = GO.basic_auth
go_cookie = GO.cookie              # BrowserCookie: name, value, then the omitempty members
go_pdf_options = GO.pdf_options    # serializePDFOptions: margins, header/footer are structs
go_url_body = GO.url_body          # buildURLBody + appendBrowserAccess
go_download = GO.download
go_convert_url_to_pdf = GO.convert_url_to_pdf
go_convert_url_to_screenshot = GO.convert_url_to_screenshot
go_get_job_status = GO.get_job_status
go_get_batch_status = GO.get_batch_status
go_wait_for_batch = GO.wait_for_batch
