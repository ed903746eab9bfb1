"""The PHP SDK (enconvert/php-sdk, package enconvert/enconvert-php), replayed:
the exact requests it makes and what it reads in the answers.

Follows src/Client.php (__construct, convertUrlToPdf, convertUrlToScreenshot,
getJobStatus, getBatchStatus, waitForBatch, postJson, pollJob, download,
request, buildUrlBody, appendBrowserAccess), src/Internal/Support.php
(isSet, str/optStr/num/optNum, raiseForStatus, serializePdfOptions,
newJobId), src/Model/ConversionResult.php, JobStatus.php, BatchStatus.php,
BatchItem.php, src/Exception/*.php (ApiException, AuthenticationException,
QuotaException, RateLimitException), composer.json (guzzlehttp/guzzle ^7.8)
and README.md.

What the SDK does on the wire:
- base_url (default https://api.enconvert.com) is rtrim'd of "/" and used
  as Guzzle's base_uri; the SDK's paths are absolute ("/v1/..."), so RFC 3986
  resolution keeps only scheme, host and port of base_url.
- Every request carries `X-API-Key: <key>` (Client::request), Guzzle's
  default `User-Agent: GuzzleHttp/7`, no Accept and no Accept-Encoding (the
  curl handler removes both); a JSON body (Guzzle's `json` option) adds
  `Content-Type: application/json`. http_errors is off: 4xx/5xx come back as
  responses and Support::raiseForStatus maps them.
- Bodies are PHP arrays in insertion order, encoded by Guzzle's
  Utils::jsonEncode = json_encode without flags: compact, "/" written "\\/",
  every non-ASCII character as \\uXXXX (surrogate pairs beyond the BMP);
  option values go through as the caller wrote them (an int margin stays an
  int, an empty PHP array is `[]`).
- buildUrlBody: url, direct_download false, viewport_width 1920,
  viewport_height 1080, load_media true, enable_scroll true (each `??` its
  option), output_filename when !empty, auth/cookies/headers when set (not
  null); url-to-pdf then single_page (`singlePage ?? true`) and pdf_options
  when set; postJson appends job_id last: bin2hex(random_bytes(16)), 32
  lower-case hex digits that are not a UUID.
- postJson: a success is array_merge(['job_id' => sent id], answer) (the
  answer's own job_id wins); an ApiException >= 500 (a 5xx *answer*, not a
  transport error) turns into pollJob(sent id): sleep 3 s, GET
  /v1/convert/status/{id}, 404 goes on, other >= 400 raises, "success"
  returns the status object, "failed" raises ApiException(500, error) with
  the error kept even when "" ("Conversion failed" only when it is missing,
  null or not a string); after 300 s ApiException(504, "Conversion timed
  out").
- raiseForStatus: a JSON object/array answer gives `detail`, else (null or
  "") `error`, else the whole answer json_encode'd, a non-string message
  json_encode'd; anything else the raw body, or "HTTP <status>" when empty.
  401 and 403 are AuthenticationException (status always 401), 402
  QuotaException, 429 RateLimitException, others ApiException(status).
  Every message reads "[<status>] <message>".
- download (saveTo): a fresh Guzzle client without the key, redirects
  followed (at most 5), status >= 400 deletes the file and raises
  ApiException(status, "Failed to download: <reason phrase>"); the parent
  directory is created.
- waitForBatch: getBatchStatus every 5000 ms until status != "processing",
  at most 1 800 000 ms (ApiException 504 "Batch <id> did not complete within
  <timeoutMs>ms"); with saveTo a null zip_download_url is ApiException 500
  "... but no ZIP is available to save".
- Reading: json_decode(..., true); a non-array answer is []. Strings must be
  strings, numbers int or float (bool is neither).
Polling waits here are bounded as the SDK's own are; tests pass shorter
deadlines."""

import http.client
import json
import os
import secrets
import time
import urllib.parse

from stack import Response

PHP_UA = "GuzzleHttp/7"                 # GuzzleHttp\Utils::defaultUserAgent()
PHP_REQUEST_TIMEOUT = 300               # Client::DEFAULT_TIMEOUT (seconds)
PHP_POLL_MAX_WAIT = 300                 # pollJob $maxWaitMs 300_000
PHP_POLL_INTERVAL = 3                   # pollJob $intervalMs 3_000
PHP_BATCH_POLL_INTERVAL_MS = 5000       # DEFAULT_BATCH_POLL_INTERVAL_MS
PHP_BATCH_TIMEOUT_MS = 1_800_000        # DEFAULT_BATCH_TIMEOUT_MS


def php_wire(base, method, path, body=None, headers=None, timeout=120):
    """One request with exactly the given headers (plus Host and, with a
    body, Content-Length): unlike tests/e2e/stack.py's request, no
    "Accept-Encoding: identity" of Python's http.client, which the SDK's
    HTTP client does not send."""
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
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


class PhpEnconvertException(Exception):
    """Enconvert\\Exception\\EnconvertException."""


class PhpApiException(PhpEnconvertException):
    """ApiException: getStatusCode() and the message "[<status>] <message>"."""

    def __init__(self, status, message):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message


class PhpAuthenticationException(PhpApiException):
    def __init__(self, message="Invalid or missing API key"):
        super().__init__(401, message)


class PhpQuotaException(PhpApiException):
    def __init__(self, message="Plan feature not enabled or quota exhausted"):
        super().__init__(402, message)


class PhpRateLimitException(PhpApiException):
    def __init__(self, message="Rate limit exceeded"):
        super().__init__(429, message)


# ---- PHP values -------------------------------------------------------------

def php_new_job_id():
    """Support::newJobId: bin2hex(random_bytes(16))."""
    return secrets.token_hex(16)


def php_is_set(opts, key):
    """Support::isSet: present and not null."""
    return opts.get(key) is not None


def php_empty(v):
    """PHP empty(): null, false, 0, 0.0, "", "0" and [] are empty."""
    return v is None or v is False or v == 0 and not isinstance(v, str) \
        or v in ("", "0") or (isinstance(v, (list, dict)) and not v)


def _php_float(v):
    # serialize_precision -1: the shortest repr, integral floats keep ".0"
    r = repr(float(v))
    if "e" in r:
        mant, exp = r.split("e")
        if "." not in mant:
            mant += ".0"
        return f"{mant}e{'+' if not exp.startswith('-') else ''}{exp.lstrip('+')}"
    return r


def php_json_encode(v):
    """json_encode($v) without flags, as Guzzle's `json` option sends it. A
    Python dict is a PHP array: an empty one, or one keyed 0..n-1, is a
    list."""
    if isinstance(v, dict):
        if not v or list(v.keys()) == list(range(len(v))):
            return "[" + ",".join(php_json_encode(x) for x in v.values()) + "]"
        return "{" + ",".join(php_json_encode(str(k)) + ":" + php_json_encode(x)
                              for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(php_json_encode(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True).replace("/", "\\/")
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return _php_float(v)
    return str(int(v))


def php_json_decode(raw):
    """json_decode($raw, true): objects and lists are PHP arrays (a list is
    keyed 0..n-1); invalid JSON is null."""
    try:
        v = json.loads(raw)
    except ValueError:
        return None
    return v


def _php_array(v):
    if isinstance(v, dict):
        return v
    if isinstance(v, list):
        return dict(enumerate(v))
    return None


def php_str(v, fallback=""):
    return v if isinstance(v, str) else fallback


def php_opt_str(v):
    return v if isinstance(v, str) else None


def _php_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def php_num(v, fallback=0):
    return v if _php_number(v) else fallback


def php_opt_num(v):
    return v if _php_number(v) else None


# ---- transport ------------------------------------------------------------

def php_headers(key, json_body=False):
    """Client::request: X-API-Key merged first, Guzzle adds its User-Agent
    and, for the `json` option, Content-Type."""
    h = {"X-API-Key": key, "User-Agent": PHP_UA}
    if json_body:
        h["Content-Type"] = "application/json"
    return h


def php_request(base, key, method, path, body=None, send=None):
    """One request through the SDK's Guzzle client (base_uri + absolute
    path: only the origin of base counts)."""
    origin = urllib.parse.urlsplit(base.rstrip("/"))
    origin = f"{origin.scheme}://{origin.netloc}"
    headers = php_headers(key, body is not None)
    if send is not None:
        return send(origin, method, path, body, headers)
    return php_wire(origin, method, path, body, headers, timeout=PHP_REQUEST_TIMEOUT)


def php_error_message(body, status):
    raw = body.decode("utf-8", errors="replace")
    decoded = _php_array(php_json_decode(raw)) if raw else None
    if decoded is not None:
        message = decoded.get("detail")
        if message is None or message == "":
            message = decoded.get("error")
        if message is None or message == "":
            message = php_json_encode(decoded)
        if not isinstance(message, str):
            message = php_json_encode(message)
        return message
    return raw if raw != "" else f"HTTP {status}"


def php_raise_for_status(resp):
    """Support::raiseForStatus."""
    if resp.status < 400:
        return
    message = php_error_message(resp.body, resp.status)
    if resp.status in (401, 403):
        raise PhpAuthenticationException(message)
    if resp.status == 402:
        raise PhpQuotaException(message)
    if resp.status == 429:
        raise PhpRateLimitException(message)
    raise PhpApiException(resp.status, message)


def _php_decode_answer(resp):
    data = _php_array(php_json_decode(resp.body.decode("utf-8", errors="replace")))
    return data if data is not None else {}


def php_poll_job(base, key, job_id, max_wait=PHP_POLL_MAX_WAIT, interval=PHP_POLL_INTERVAL):
    """Client::pollJob."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = php_request(base, key, "GET", f"/v1/convert/status/{job_id}")
        if resp.status == 404:
            continue
        php_raise_for_status(resp)
        data = _php_decode_answer(resp)
        if data.get("status") == "success":
            return data
        if data.get("status") == "failed":
            error = data["error"] if php_is_set(data, "error") else "Conversion failed"
            raise PhpApiException(500, error if isinstance(error, str) else "Conversion failed")
    raise PhpApiException(504, "Conversion timed out")


def php_post_json(base, key, endpoint, body, job_fallback=True, post=None,
                  poll_max_wait=None):
    """Client::postJson. `post` replaces the POST (to replay a lost answer).
    Returns the data array and the job_id it sent."""
    job_id = php_new_job_id() if job_fallback else None
    if job_id is not None:
        body["job_id"] = job_id
    payload = php_json_encode(body).encode()
    try:
        resp = php_request(base, key, "POST", endpoint, payload, send=post)
        php_raise_for_status(resp)
        data = _php_decode_answer(resp)
        return ({"job_id": job_id, **data} if job_id is not None else data), job_id
    except PhpApiException as e:
        if job_id is not None and e.status >= 500:
            return php_poll_job(base, key, job_id, poll_max_wait or PHP_POLL_MAX_WAIT), job_id
        raise


def php_download(url, dest):
    """Client::download: Guzzle without the key, redirects followed (max 5),
    >= 400 removes dest and raises."""
    headers = {"User-Agent": PHP_UA}
    d = os.path.dirname(dest)
    if d not in ("", ".") and not os.path.isdir(d):
        os.makedirs(d, exist_ok=True)
    for _ in range(6):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "http", f"replay speaks plain http only: {url}"
        resp = php_wire(f"{u.scheme}://{u.netloc}", "GET",
                       (u.path or "/") + ("?" + u.query if u.query else ""), headers=headers)
        if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        break
    else:
        raise PhpEnconvertException("Will not follow more than 5 redirects")
    with open(dest, "wb") as f:
        f.write(resp.body)
    if resp.status >= 400:
        os.unlink(dest)
        raise PhpApiException(resp.status, "Failed to download: "
                              + http.client.responses.get(resp.status, ""))


# ---- the SDK's methods ------------------------------------------------------

def php_build_url_body(url, opts):
    """Client::buildUrlBody + appendBrowserAccess, in their order."""
    body = {"url": url, "direct_download": False,
            "viewport_width": opts.get("viewportWidth") if opts.get("viewportWidth")
            is not None else 1920,
            "viewport_height": opts.get("viewportHeight") if opts.get("viewportHeight")
            is not None else 1080,
            "load_media": opts.get("loadMedia") if opts.get("loadMedia") is not None else True,
            "enable_scroll": opts.get("enableScroll") if opts.get("enableScroll")
            is not None else True}
    if not php_empty(opts.get("outputFilename")):
        body["output_filename"] = opts["outputFilename"]
    for name in ("auth", "cookies", "headers"):
        if php_is_set(opts, name):
            body[name] = opts[name]
    return body


def php_serialize_pdf_options(o):
    """Support::serializePdfOptions: set members under their wire names,
    values as given."""
    out = {}
    for camel, snake in (("pageSize", "page_size"), ("pageWidth", "page_width"),
                         ("pageHeight", "page_height"), ("orientation", "orientation"),
                         ("margins", "margins"), ("scale", "scale"),
                         ("grayscale", "grayscale"), ("header", "header"),
                         ("footer", "footer")):
        if php_is_set(o, camel):
            out[snake] = o[camel]
    return out


def php_conversion_result(d):
    """ConversionResult::fromArray."""
    object_key = php_str(d.get("object_key"))
    fallback = "" if object_key == "" else object_key.rstrip("/").rsplit("/", 1)[-1]
    filename = php_opt_str(d.get("filename"))
    return {"presignedUrl": php_str(d.get("presigned_url")), "objectKey": object_key,
            "filename": filename if filename is not None else fallback,
            "fileSize": php_opt_num(d.get("file_size")),
            "conversionTimeSeconds": php_opt_num(d.get("conversion_time_seconds")),
            "jobId": php_opt_str(d.get("job_id"))}


def php_convert_url_to_pdf(base, key, url, opts=None, post=None, poll_max_wait=None):
    """Client::convertUrlToPdf($url, $opts). Returns the ConversionResult and
    the job_id it sent."""
    opts = dict(opts or {})
    body = php_build_url_body(url, opts)
    body["single_page"] = opts.get("singlePage") if opts.get("singlePage") is not None else True
    if php_is_set(opts, "pdfOptions"):
        body["pdf_options"] = php_serialize_pdf_options(opts["pdfOptions"])
    data, job_id = php_post_json(base, key, "/v1/convert/url-to-pdf", body, True, post,
                                 poll_max_wait)
    result = php_conversion_result(data)
    if not php_empty(opts.get("saveTo")):
        php_download(result["presignedUrl"], opts["saveTo"])
    return result, job_id


def php_convert_url_to_screenshot(base, key, url, opts=None, post=None, poll_max_wait=None):
    """Client::convertUrlToScreenshot($url, $opts): buildUrlBody only."""
    opts = dict(opts or {})
    body = php_build_url_body(url, opts)
    data, job_id = php_post_json(base, key, "/v1/convert/url-to-screenshot", body, True,
                                 post, poll_max_wait)
    result = php_conversion_result(data)
    if not php_empty(opts.get("saveTo")):
        php_download(result["presignedUrl"], opts["saveTo"])
    return result, job_id


def php_get_job_status(base, key, job_id):
    """Client::getJobStatus -> JobStatus::fromArray."""
    resp = php_request(base, key, "GET", f"/v1/convert/status/{job_id}")
    php_raise_for_status(resp)
    d = _php_decode_answer(resp)
    return {"status": php_str(d.get("status")),
            "presignedUrl": php_opt_str(d.get("presigned_url")),
            "objectKey": php_opt_str(d.get("object_key")), "error": php_opt_str(d.get("error"))}


def php_get_batch_status(base, key, batch_id):
    """Client::getBatchStatus -> BatchStatus::fromArray (items that are not
    arrays read as empty ones)."""
    resp = php_request(base, key, "GET", f"/v1/convert/batch/{batch_id}")
    php_raise_for_status(resp)
    d = _php_decode_answer(resp)
    raw_items = _php_array(d.get("items"))
    items = []
    for item in (raw_items or {}).values():
        i = _php_array(item) or {}
        items.append({"sourceUrl": php_str(i.get("source_url")),
                      "status": php_str(i.get("status")),
                      "downloadUrl": php_opt_str(i.get("download_url")),
                      "outputFileSize": php_opt_num(i.get("output_file_size")),
                      "duration": php_opt_str(i.get("duration"))})
    return {"batchId": php_str(d.get("batch_id")), "status": php_str(d.get("status")),
            "total": php_num(d.get("total")), "completed": php_num(d.get("completed")),
            "failed": php_num(d.get("failed")), "inProgress": php_num(d.get("in_progress")),
            "outputMode": php_str(d.get("output_mode")),
            "zipDownloadUrl": php_opt_str(d.get("zip_download_url")), "items": items}


def php_wait_for_batch(base, key, batch_id, interval_ms=PHP_BATCH_POLL_INTERVAL_MS,
                       timeout_ms=PHP_BATCH_TIMEOUT_MS, save_to=None):
    """Client::waitForBatch($batchId, ['intervalMs', 'timeoutMs', 'saveTo'])."""
    deadline = time.time() * 1000 + timeout_ms
    while True:
        status = php_get_batch_status(base, key, batch_id)
        if status["status"] != "processing":
            if not php_empty(save_to):
                if status["zipDownloadUrl"] is None:
                    raise PhpApiException(500, f"Batch {batch_id} finished with status "
                                          f"'{status['status']}' but no ZIP is available to save")
                php_download(status["zipDownloadUrl"], save_to)
            return status
        if time.time() * 1000 >= deadline:
            raise PhpApiException(504, f"Batch {batch_id} did not complete within {timeout_ms}ms")
        time.sleep(interval_ms / 1000)
