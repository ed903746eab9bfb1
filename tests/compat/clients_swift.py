"""The Swift SDK (enconvert/swift-sdk, SwiftPM package `Enconvert`)
replayed: its exact requests and what it reads from our answers.

Followed files: Sources/Enconvert/Client.swift (init, convertUrlToPdf,
convertUrlToScreenshot, getJobStatus, getBatchStatus, waitForBatch,
postJson, pollJob, buildUrlBody, appendBrowserAccess, toConversionResult,
toJobStatus, toBatchStatus), Sources/Enconvert/Transport.swift (send,
requestJSON, decodeJSONObject, getRaw, download),
Sources/Enconvert/Internal.swift (newJobId, raiseForStatus,
extractErrorMessage, jsonString, jsonOptString, jsonInt, jsonOptInt,
jsonOptDouble, jsonDictArray, jsonRequiredEnum),
Sources/Enconvert/Types.swift (ConversionResult, JobStatusValue, JobStatus,
PdfMargins/PdfHeaderFooter/PdfOptions/HttpBasicAuth/BrowserCookie
toJSONDict, UrlToPdfOptions, BatchStatusValue, BatchOutputMode, BatchItem,
BatchStatus, WaitForBatchOptions), Sources/Enconvert/Errors.swift
(EnconvertError) and Sources/Enconvert/Version.swift (VERSION "0.1.1").

What the SDK does on the wire:
- base URL: trailing slashes stripped, the path appended as is;
- headers: `X-API-Key`, `User-Agent: enconvert-sdk/0.1.1 (swift)`, on a
  POST `content-type: application/json`; URLSession adds `Accept: */*`,
  `Accept-Language` and `Accept-Encoding: gzip, deflate, br`, and
  undoes the compression of the answer;
- body: `[String: Any]` written by JSONSerialization: compact, the keys in
  the Dictionary's hash order (seeded per process: any order, a different
  one from run to run, nested objects too), `/` escaped as `\\/`, non-ASCII
  as raw UTF-8, integer-valued doubles written without a fraction; unset
  options are left out (no nulls); job_id (UUID, dashes removed,
  lower-cased) is in every URL conversion;
- on an `.api` error >= 500 the SDK polls GET /v1/convert/status/{its
  job_id}: wait 3 s, 404 goes on, other >= 400 throws, "success" returns
  that object, "failed" is `.api(500, error ?? "Conversion failed")`; after
  300 s `.api(504, "Conversion timed out")`;
- a 2xx answer without job_id gets the sent one;
- errors: 401/403 `.authentication(message)` (statusCode 401), 402
  `.quota`, 429 `.rateLimit`, others `.api(statusCode, message)`; the
  message is a string `detail` (even empty), else a string `error`, else
  the object re-serialized; a body that is not a JSON object is used as
  text when not empty, else "HTTP <status>";
- reading: a body that is not a JSON object is `[:]`; strings only from
  JSON strings; Int fields from an integer or (truncated) from a double;
  Double fields from either; toConversionResult throws `.api(0, "Missing
  'presigned_url' in API response")` without a string presigned_url;
  getJobStatus needs `status` in processing|success|failed, getBatchStatus
  a string batch_id, `status` in processing|completed|partial|failed and
  `output_mode` in zip|individual, else `.api(0, "Missing or
  unrecognized ...")`;
- download: the same URLSession without the key, redirects followed,
  non-2xx `.api(status, "Failed to download: HTTP <status>")`; an empty
  or unparsable URL is `.invalidArgument`;
- waitForBatch: getBatchStatus until status != .processing (every 5 s, 30
  min), with saveTo a nil zipDownloadUrl is `.api(500, "... but no ZIP is
  available to save")`, past the deadline 504.

Not replayed (not implemented by this service): convertUrlToMarkdown,
convertWebsiteToPdf / convertWebsiteToScreenshot, the file conversions
(convertImage, convertDocument, convertToMarkdown, convertToPdf) and the
v2 namespace. The SDK has no URL-array, async_mode, whoami or
download-by-key call."""

import gzip
import http.client
import json
import os
import random
import time
import urllib.parse
import zlib

from clients import new_job_id   # UUID().uuidString without dashes, lower-cased

SWIFT_SDK_VERSION = "0.1.1"
SWIFT_UA = f"enconvert-sdk/{SWIFT_SDK_VERSION} (swift)"   # Enconvert.defaultUserAgent
# what URLSession adds to every request (Darwin)
URLSESSION_HEADERS = {"Accept": "*/*", "Accept-Language": "en-US,en;q=0.9",
                      "Accept-Encoding": "gzip, deflate, br"}
URLSESSION_UA = "xctest (unknown version) CFNetwork/1568.100.1 Darwin/24.0.0"
SWIFT_POLL_INTERVAL = 3          # pollJob intervalMs
SWIFT_POLL_MAX_WAIT = 300        # pollJob maxWaitMs
SWIFT_BATCH_POLL_INTERVAL = 5    # defaultBatchPollIntervalMs
SWIFT_BATCH_TIMEOUT = 30 * 60    # defaultBatchTimeoutMs
SWIFT_TIMEOUT = 300              # defaultTimeout

JOB_STATUS_VALUES = ("processing", "success", "failed")
BATCH_STATUS_VALUES = ("processing", "completed", "partial", "failed")
BATCH_OUTPUT_MODES = ("zip", "individual")


class SwiftError(Exception):
    """EnconvertError: `kind` is "authentication" (401/403, statusCode 401),
    "quota" (402), "rateLimit" (429), "api" or "invalidArgument" (no
    status); description is "[<status>] <message>"."""

    def __init__(self, status, message, kind="api"):
        super().__init__(f"[{status}] {message}" if status is not None else message)
        self.status = status
        self.message = message
        self.kind = kind


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def send(base, method, path, body=None, headers=None, timeout=SWIFT_TIMEOUT):
    """One HTTP/1.1 request with exactly these headers (Host and
    Content-Length added)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def _urlsession(resp):
    """URLSession undoes the Content-Encoding it asked for."""
    enc = resp.headers.get("content-encoding", "").lower()
    if enc == "gzip":
        resp.body = gzip.decompress(resp.body)
    elif enc == "deflate":
        resp.body = zlib.decompress(resp.body)
    else:
        assert enc in ("", "identity"), f"replay cannot undo Content-Encoding {enc}"
    return resp


# ---- JSONSerialization writer ---------------------------------------------

def swift_string(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "/":
            out.append("\\/")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def swift_json(v, rng):
    """JSONSerialization.data(withJSONObject:): compact; each dictionary's
    keys in an order of its own (rng stands for Swift's seeded hashing)."""
    if isinstance(v, dict):
        items = list(v.items())
        rng.shuffle(items)
        return "{" + ",".join(swift_string(k) + ":" + swift_json(x, rng) for k, x in items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(swift_json(x, rng) for x in v) + "]"
    if isinstance(v, str):
        return swift_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


# ---- lenient accessors (Internal.swift) -----------------------------------

def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_string(o, k, default=""):
    v = o.get(k)
    return v if isinstance(v, str) else default


def json_opt_string(o, k):
    v = o.get(k)
    return v if isinstance(v, str) else None


def json_opt_int(o, k):
    v = o.get(k)
    return int(v) if _is_num(v) else None       # `as? Int`, else Int(`as? Double`)


def json_int(o, k, default=0):
    v = json_opt_int(o, k)
    return default if v is None else v


def json_opt_double(o, k):
    v = o.get(k)
    return float(v) if _is_num(v) else None


def json_dict_array(o, k):
    v = o.get(k)
    return [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []


def json_required_enum(o, k, values):
    v = o.get(k)
    if not isinstance(v, str) or v not in values:
        raise SwiftError(0, f"Missing or unrecognized '{k}' in API response")
    return v


def decode_json_object(body):
    """Transport.decodeJSONObject: anything but a JSON object is [:]."""
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_message(body, status):
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        if isinstance(parsed.get("detail"), str):
            return parsed["detail"]
        if isinstance(parsed.get("error"), str):
            return parsed["error"]
        return swift_json(parsed, random.Random(0))
    text = body.decode("utf-8", errors="replace")
    return text if text else f"HTTP {status}"


def raise_for_status(resp):
    if resp.status < 400:
        return
    message = error_message(resp.body, resp.status)
    if resp.status in (401, 403):
        raise SwiftError(401, message, "authentication")
    kind = {402: "quota", 429: "rateLimit"}.get(resp.status, "api")
    raise SwiftError(resp.status, message, kind)


# ---- Transport ------------------------------------------------------------

def swift_headers(key, json_body=False):
    h = {"X-API-Key": key, "User-Agent": SWIFT_UA}
    if json_body:
        h["content-type"] = "application/json"
    h.update(URLSESSION_HEADERS)
    return h


def swift_send(base, key, method, path, body=None, send_fn=None):
    """Transport.send: URL(string: baseURL + path)."""
    base = base.rstrip("/")
    url_path = urllib.parse.urlsplit(base + path).path
    resp = (send_fn or send)(base, method, url_path, body, swift_headers(key, body is not None))
    return _urlsession(resp)


def swift_request_json(base, key, method, path, body=None, send_fn=None):
    resp = swift_send(base, key, method, path, body, send_fn)
    raise_for_status(resp)
    return decode_json_object(resp.body)


def swift_poll_job(base, key, job_id, max_wait=SWIFT_POLL_MAX_WAIT,
                   interval=SWIFT_POLL_INTERVAL):
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = swift_send(base, key, "GET", f"/v1/convert/status/{job_id}")
        if resp.status == 404:
            continue
        raise_for_status(resp)
        data = decode_json_object(resp.body)
        status = json_string(data, "status")
        if status == "success":
            return data
        if status == "failed":
            raise SwiftError(500, json_opt_string(data, "error") or "Conversion failed")
    raise SwiftError(504, "Conversion timed out")


def swift_post_json(base, key, endpoint, body, post=None, poll_max_wait=None, rng=None):
    """postJson with the job fallback. `post` replaces the sending of the
    POST (same signature as send); `rng` orders the keys (default: seeded
    with the job_id, one arbitrary order per request)."""
    job_id = new_job_id()
    body = {**body, "job_id": job_id}
    payload = swift_json(body, rng or random.Random(job_id)).encode("utf-8")
    try:
        data = swift_request_json(base, key, "POST", endpoint, payload, post)
    except SwiftError as e:
        if e.kind == "api" and e.status >= 500:
            return swift_poll_job(base, key, job_id, poll_max_wait or SWIFT_POLL_MAX_WAIT), job_id
        raise
    if "job_id" not in data:
        data["job_id"] = job_id
    return data, job_id


def swift_download(url, dest):
    """Transport.download: no key, URLSession's own User-Agent, redirects
    followed; the bytes written to dest."""
    u = urllib.parse.urlsplit(url)
    if not url or not u.scheme:
        raise SwiftError(None, f"Invalid download URL: {url}", "invalidArgument")
    for _ in range(16):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "http", f"replay speaks plain http only: {url}"
        resp = _urlsession(send(f"{u.scheme}://{u.netloc}", "GET",
                                (u.path or "/") + ("?" + u.query if u.query else ""),
                                headers={"User-Agent": URLSESSION_UA, **URLSESSION_HEADERS}))
        if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        break
    if not 200 <= resp.status <= 299:
        raise SwiftError(resp.status, f"Failed to download: HTTP {resp.status}")
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(resp.body)


# ---- body builders (toJSONDict) -------------------------------------------

def swift_basic_auth(username, password):
    return {"username": username, "password": password}


def swift_cookie(name, value, domain=None, url=None, path=None, expires=None,
                 http_only=None, secure=None, same_site=None):
    c = {"name": name, "value": value}
    for k, v in (("domain", domain), ("url", url), ("path", path)):
        if v is not None:
            c[k] = v
    if expires is not None:
        c["expires"] = float(expires)
    if http_only is not None:
        c["httpOnly"] = http_only
    if secure is not None:
        c["secure"] = secure
    if same_site is not None:
        c["sameSite"] = same_site           # SameSite rawValue: Strict, Lax, None
    return c


def swift_pdf_options(page_size=None, page_width=None, page_height=None, orientation=None,
                      margins=None, scale=None, grayscale=None, header=None, footer=None):
    out = {}
    if page_size is not None:
        out["page_size"] = page_size
    if page_width is not None:
        out["page_width"] = float(page_width)
    if page_height is not None:
        out["page_height"] = float(page_height)
    if orientation is not None:
        out["orientation"] = orientation    # PdfOrientation rawValue
    if margins is not None:
        out["margins"] = {k: float(margins[k]) for k in ("top", "bottom", "left", "right")
                          if margins.get(k) is not None}
    if scale is not None:
        out["scale"] = float(scale)
    if grayscale is not None:
        out["grayscale"] = grayscale
    for name, block in (("header", header), ("footer", footer)):
        if block is not None:
            hf = {}
            if block.get("content") is not None:
                hf["content"] = block["content"]
            if block.get("height") is not None:
                hf["height"] = float(block["height"])
            out[name] = hf
    return out


def swift_url_body(url, viewport_width=None, viewport_height=None, load_media=None,
                   enable_scroll=None, output_filename=None, auth=None, cookies=None,
                   headers=None):
    body = {"url": url, "direct_download": False,
            "viewport_width": 1920 if viewport_width is None else viewport_width,
            "viewport_height": 1080 if viewport_height is None else viewport_height,
            "load_media": True if load_media is None else load_media,
            "enable_scroll": True if enable_scroll is None else enable_scroll}
    if output_filename is not None:
        body["output_filename"] = output_filename
    if auth is not None:
        body["auth"] = auth
    if cookies is not None:
        body["cookies"] = list(cookies)
    if headers is not None:
        body["headers"] = dict(headers)
    return body


# ---- response mappers -----------------------------------------------------

def swift_to_conversion_result(d):
    presigned = d.get("presigned_url")
    if not isinstance(presigned, str):
        raise SwiftError(0, "Missing 'presigned_url' in API response")
    object_key = json_string(d, "object_key")
    filename = json_opt_string(d, "filename")
    if filename is None:
        filename = object_key.rsplit("/", 1)[-1]      # Formats.basename
    return {"presignedUrl": presigned, "objectKey": object_key, "filename": filename,
            "fileSize": json_opt_int(d, "file_size"),
            "conversionTimeSeconds": json_opt_double(d, "conversion_time_seconds"),
            "jobId": json_opt_string(d, "job_id")}


def swift_to_job_status(d):
    return {"status": json_required_enum(d, "status", JOB_STATUS_VALUES),
            "presignedUrl": json_opt_string(d, "presigned_url"),
            "objectKey": json_opt_string(d, "object_key"),
            "error": json_opt_string(d, "error")}


def swift_to_batch_status(d):
    batch_id = d.get("batch_id")
    if not isinstance(batch_id, str):
        raise SwiftError(0, "Missing 'batch_id' in API response")
    status = json_required_enum(d, "status", BATCH_STATUS_VALUES)
    output_mode = json_required_enum(d, "output_mode", BATCH_OUTPUT_MODES)
    return {
        "batchId": batch_id, "status": status, "total": json_int(d, "total"),
        "completed": json_int(d, "completed"), "failed": json_int(d, "failed"),
        "inProgress": json_int(d, "in_progress"), "outputMode": output_mode,
        "zipDownloadUrl": json_opt_string(d, "zip_download_url"),
        "items": [{"sourceUrl": json_string(i, "source_url"),
                   "status": json_string(i, "status"),
                   "downloadUrl": json_opt_string(i, "download_url"),
                   "outputFileSize": json_opt_int(i, "output_file_size"),
                   "duration": json_opt_string(i, "duration")}
                  for i in json_dict_array(d, "items")],
    }


# ---- public methods -------------------------------------------------------

def swift_convert_url_to_pdf(base, key, url, single_page=None, pdf_options=None, save_to=None,
                             post=None, poll_max_wait=None, rng=None, **render):
    """convertUrlToPdf -> (ConversionResult, the job_id it sent)."""
    body = swift_url_body(url, **render)
    body["single_page"] = True if single_page is None else single_page
    if pdf_options is not None:
        body["pdf_options"] = pdf_options
    data, job_id = swift_post_json(base, key, "/v1/convert/url-to-pdf", body, post,
                                   poll_max_wait, rng)
    result = swift_to_conversion_result(data)
    if save_to is not None:
        swift_download(result["presignedUrl"], save_to)
    return result, job_id


def swift_convert_url_to_screenshot(base, key, url, save_to=None, post=None,
                                    poll_max_wait=None, rng=None, **render):
    body = swift_url_body(url, **render)
    data, job_id = swift_post_json(base, key, "/v1/convert/url-to-screenshot", body, post,
                                   poll_max_wait, rng)
    result = swift_to_conversion_result(data)
    if save_to is not None:
        swift_download(result["presignedUrl"], save_to)
    return result, job_id


def swift_get_job_status(base, key, job_id):
    return swift_to_job_status(
        swift_request_json(base, key, "GET", f"/v1/convert/status/{job_id}"))


def swift_get_batch_status(base, key, batch_id):
    return swift_to_batch_status(
        swift_request_json(base, key, "GET", f"/v1/convert/batch/{batch_id}"))


def swift_wait_for_batch(base, key, batch_id, interval=SWIFT_BATCH_POLL_INTERVAL,
                         timeout=SWIFT_BATCH_TIMEOUT, save_to=None):
    deadline = time.time() + timeout
    while True:
        status = swift_get_batch_status(base, key, batch_id)
        if status["status"] != "processing":
            if save_to is not None:
                if status["zipDownloadUrl"] is None:
                    raise SwiftError(500, f"Batch {batch_id} finished with status "
                                     f"'{status['status']}' but no ZIP is available to save")
                swift_download(status["zipDownloadUrl"], save_to)
            return status
        if time.time() >= deadline:
            raise SwiftError(504, f"Batch {batch_id} did not complete within "
                             f"{int(timeout * 1000)}ms")
        time.sleep(interval)
