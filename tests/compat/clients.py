"""The exact requests of the vendor's clients, replayed: the node SDK
(@enconvert/node-sdk src/client.ts, src/internal.ts) and the CLI
(enconvert/cli src/api/http.ts, src/api/v1.ts, src/commands/url-site.ts,
src/commands/jobs.ts, src/util/poll.ts) and the Go SDK (enconvert/go-sdk
client.go, its types file with URLRenderOptions/ConversionResult/BatchStatus,
doc.go). Headers, body field order and
polling as they send them; each function returns what the client reads.
Polling waits are bounded (deadlines), as the clients' own are."""

import gzip
import http.client
import json
import os
import posixpath
import time
import urllib.parse
import uuid

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


class GoAPIError(Exception):
    """*enconvert.APIError and its typed forms: `kind` is "authentication"
    (401/403, IsAuthenticationError), "quota" (402), "rate_limit" (429) or
    "api"; Error() is "[<status>] <message>"."""

    def __init__(self, status, message, kind="api"):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message
        self.kind = kind


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


def go_marshal(v):
    """json.Marshal, compact: maps sorted by key, structs in field order."""
    if isinstance(v, GoStruct):
        items = list(v.items())
    elif isinstance(v, dict):
        items = sorted(v.items())
    else:
        items = None
    if items is not None:
        return "{" + ",".join(_go_string(k) + ":" + go_marshal(x) for k, x in items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(go_marshal(x) for x in v) + "]"
    if isinstance(v, str):
        return _go_string(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))        # float64 10 is written 10
    return json.dumps(v)          # bool, int, other floats, None


def go_basic_auth(username, password):
    return GoStruct(username=username, password=password)


def go_cookie(name, value, domain="", url="", path="", expires=None,
              http_only=None, secure=None, same_site=""):
    """BrowserCookie: name, value, then the omitempty members when set."""
    c = GoStruct(name=name, value=value)
    for k, v in (("domain", domain), ("url", url), ("path", path)):
        if v:
            c[k] = v
    if expires is not None:
        c["expires"] = float(expires)
    if http_only is not None:
        c["httpOnly"] = http_only
    if secure is not None:
        c["secure"] = secure
    if same_site:
        c["sameSite"] = same_site
    return c


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


def go_raise_for_status(resp):
    if resp.status < 400:
        return
    message = go_error_message(resp.body, resp.status)
    kind = {401: "authentication", 403: "authentication", 402: "quota",
            429: "rate_limit"}.get(resp.status, "api")
    raise GoAPIError(resp.status, message, kind)


def _go_decode_object(raw):
    # json.Unmarshal into map[string]any: anything but an object is an error
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"json: cannot unmarshal into map[string]any: {raw[:100]!r}")
    return data


def go_do_json(base, key, method, path, body=None, content_type=None, send=None):
    resp = go_request(base, key, method, path, body, content_type, send)
    go_raise_for_status(resp)
    return {} if not resp.body else _go_decode_object(resp.body)


def go_map_string(m, k):
    v = m.get(k)
    return v if isinstance(v, str) else ""


def _go_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def go_map_int(m, k, fallback=0):
    v = m.get(k)
    return int(v) if _go_number(v) else fallback


def go_map_opt_int(m, k):
    v = m.get(k)
    return int(v) if _go_number(v) else None


def go_map_opt_float(m, k):
    v = m.get(k)
    return float(v) if _go_number(v) else None


def go_poll_job(base, key, job_id, max_wait=GO_POLL_MAX_WAIT, interval=GO_POLL_INTERVAL):
    """pollJob: wait 3 s, GET the status of its own job_id; 404 goes on,
    other >= 400 ends with that error; "success" returns the status object,
    "failed" is APIError 500 with its `error` ("Conversion failed" when
    none); after 300 s APIError 504 "Conversion timed out"."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = go_request(base, key, "GET", "/v1/convert/status/" + job_id)
        if resp.status == 404:
            continue
        go_raise_for_status(resp)
        data = _go_decode_object(resp.body)
        status = go_map_string(data, "status")
        if status == "success":
            return data
        if status == "failed":
            raise GoAPIError(500, go_map_string(data, "error") or "Conversion failed")
    raise GoAPIError(504, "Conversion timed out")


def go_post_json(base, key, endpoint, body, job_fallback, post=None, poll_max_wait=None):
    """postJSON: with jobFallback a fresh job_id joins the body and a >= 500
    APIError turns into pollJob on that id; a success without job_id gets
    the sent one. `post` replaces the POST (to replay a lost answer)."""
    job_id = ""
    if job_fallback:
        job_id = new_job_id()          # newJobID: UUIDv4, 32 hex digits
        body["job_id"] = job_id
    payload = go_marshal(body).encode()
    try:
        data = go_do_json(base, key, "POST", endpoint, payload, "application/json", post)
    except GoAPIError as e:
        if job_fallback and e.status >= 500:
            return go_poll_job(base, key, job_id,
                               poll_max_wait or GO_POLL_MAX_WAIT), job_id
        raise
    if job_id and "job_id" not in data:
        data["job_id"] = job_id
    return data, job_id


def go_url_body(url, viewport_width=None, viewport_height=None, load_media=None,
                enable_scroll=None, output_filename="", auth=None, cookies=None,
                headers=None):
    """buildURLBody + appendBrowserAccess (a Go map: order does not matter
    here, go_marshal sorts it as json.Marshal does)."""
    body = {"url": url, "direct_download": False,
            "viewport_width": 1920 if viewport_width is None else viewport_width,
            "viewport_height": 1080 if viewport_height is None else viewport_height,
            "load_media": True if load_media is None else load_media,
            "enable_scroll": True if enable_scroll is None else enable_scroll}
    if output_filename:
        body["output_filename"] = output_filename
    if auth is not None:
        body["auth"] = auth
    if cookies is not None:
        body["cookies"] = cookies
    if headers is not None:
        body["headers"] = headers
    return body


def go_pdf_options(page_size="", page_width=None, page_height=None, orientation="",
                   margins=None, scale=None, grayscale=None, header=None, footer=None):
    """serializePDFOptions: only the members set; margins (PDFMargins:
    top, bottom, left, right) and header/footer (PDFHeaderFooter: content,
    height) are structs with omitempty members."""
    out = {}
    if page_size:
        out["page_size"] = page_size
    if page_width is not None:
        out["page_width"] = float(page_width)
    if page_height is not None:
        out["page_height"] = float(page_height)
    if orientation:
        out["orientation"] = orientation
    if margins is not None:
        out["margins"] = GoStruct((k, float(margins[k])) for k in
                                  ("top", "bottom", "left", "right") if margins.get(k) is not None)
    if scale is not None:
        out["scale"] = float(scale)
    if grayscale is not None:
        out["grayscale"] = grayscale
    for name, block in (("header", header), ("footer", footer)):
        if block is not None:
            s = GoStruct()
            if block.get("content"):
                s["content"] = block["content"]
            if block.get("height") is not None:
                s["height"] = float(block["height"])
            out[name] = s
    return out


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


def go_download(url, dest):
    """download: GET the presigned URL without the API key (Go's default
    User-Agent, redirects followed up to 10), non-2xx is APIError
    "Failed to download: <status>", the bytes written to dest."""
    headers = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}
    for _ in range(11):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "http", f"replay speaks plain http only: {url}"
        resp = _go_transport(request(f"{u.scheme}://{u.netloc}", "GET",
                                     (u.path or "/") + ("?" + u.query if u.query else ""),
                                     headers=headers, timeout=GO_REQUEST_TIMEOUT))
        if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        break
    else:
        raise GoAPIError(0, "stopped after 10 redirects")
    if not 200 <= resp.status < 300:
        raise GoAPIError(resp.status, "Failed to download: "
                         f"{resp.status} {http.client.responses.get(resp.status, '')}")
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    with open(dest, "wb") as f:
        f.write(resp.body)


def go_convert_url_to_pdf(base, key, url, single_page=None, pdf_options=None,
                          save_to="", post=None, poll_max_wait=None, **render):
    """ConvertURLToPDF: buildURLBody, single_page (default true), pdf_options
    when set; postJSON with the job fallback; SaveTo downloads. Returns the
    ConversionResult and the job_id it sent."""
    body = go_url_body(url, **render)
    body["single_page"] = True if single_page is None else single_page
    if pdf_options is not None:
        body["pdf_options"] = pdf_options
    data, job_id = go_post_json(base, key, "/v1/convert/url-to-pdf", body, True, post,
                                poll_max_wait)
    result = go_to_conversion_result(data)
    if save_to:
        go_download(result["PresignedURL"], save_to)
    return result, job_id


def go_convert_url_to_screenshot(base, key, url, save_to="", post=None,
                                 poll_max_wait=None, **render):
    """ConvertURLToScreenshot: buildURLBody only (no screenshot fields)."""
    body = go_url_body(url, **render)
    data, job_id = go_post_json(base, key, "/v1/convert/url-to-screenshot", body, True,
                                post, poll_max_wait)
    result = go_to_conversion_result(data)
    if save_to:
        go_download(result["PresignedURL"], save_to)
    return result, job_id


def go_get_job_status(base, key, job_id):
    """GetJobStatus -> JobStatus (toJobStatus)."""
    d = go_do_json(base, key, "GET", "/v1/convert/status/" + job_id)
    return {"Status": go_map_string(d, "status"),
            "PresignedURL": go_map_string(d, "presigned_url"),
            "ObjectKey": go_map_string(d, "object_key"), "Error": go_map_string(d, "error")}


def go_get_batch_status(base, key, batch_id):
    """GetBatchStatus -> BatchStatus (toBatchStatus); items that are not
    objects are skipped."""
    d = go_do_json(base, key, "GET", "/v1/convert/batch/" + batch_id)
    items = d.get("items") if isinstance(d.get("items"), list) else []
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
                  for i in items if isinstance(i, dict)],
    }


def go_wait_for_batch(base, key, batch_id, interval=GO_BATCH_POLL_INTERVAL,
                      timeout=GO_BATCH_TIMEOUT, save_to=""):
    """WaitForBatch: GetBatchStatus until status != "processing"; with SaveTo
    the ZIP is downloaded, and no zip_download_url is APIError 500; past the
    timeout APIError 504."""
    deadline = time.time() + timeout
    while True:
        status = go_get_batch_status(base, key, batch_id)
        if status["Status"] != "processing":
            if save_to:
                if not status["ZipDownloadURL"]:
                    raise GoAPIError(500, f"Batch {batch_id} finished with status "
                                     f"'{status['Status']}' but no ZIP is available to save")
                go_download(status["ZipDownloadURL"], save_to)
            return status
        if time.time() >= deadline:
            raise GoAPIError(504, f"Batch {batch_id} did not complete within {timeout}s")
        time.sleep(interval)
