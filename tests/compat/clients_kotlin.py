"""The Kotlin SDK (enconvert/kotlin-sdk, Maven `com.enconvert:enconvert-kotlin`)
replayed: its exact requests and what it reads from our answers.

Followed files: src/main/kotlin/com/enconvert/Enconvert.kt (the
constructor, convertUrlToPdf, convertUrlToScreenshot, getJobStatus,
getBatchStatus, waitForBatch, postJson, pollJob, download, sendJson,
withDefaultJobId, putUrlBody, putBrowserAccess, toConversionResult,
toJobStatus, toBatchStatus), src/main/kotlin/com/enconvert/Internal.kt
(HttpResponseData.bodyAsJsonObject, newJobId, sleepMillis, raiseForStatus,
extractErrorMessage, serializePdfOptions), src/main/kotlin/com/enconvert/
Json.kt (putIfNotNull, putIfNotNullStringMap, str, optStr, intOr, optLong,
optDouble, objArr), src/main/kotlin/com/enconvert/Errors.kt (ApiException,
AuthenticationException, QuotaException, RateLimitException),
src/main/kotlin/com/enconvert/EnconvertV2.kt (serializeCookie,
serializeAuth, reused by V1), src/main/kotlin/com/enconvert/Version.kt
(VERSION "0.2.0") and, for what the stored src/main copy of Enconvert.kt
predates, bin/main/com/enconvert/Enconvert.kt (DEFAULT_USER_AGENT
"enconvert-sdk/$VERSION (kotlin)" sent as User-Agent by sendJson) and
bin/main/com/enconvert/Types.kt (ConversionResult, JobStatusValue,
UrlRenderOptions, UrlToPdfOptions with singlePage: Boolean = true,
PdfOptions, BrowserCookie, BatchStatusValue, BatchOutputMode, BatchItem,
BatchStatus, WaitForBatchOptions).

What the SDK does on the wire:
- base URL: trailing slashes trimmed, `URI.create(baseUrl + path)`;
- headers: `X-API-Key`, `User-Agent: enconvert-sdk/0.2.0 (kotlin)`, on a
  POST `content-type: application/json`; java.net.http.HttpClient
  (newHttpClient(): HTTP/2 preferred) asks a plain-http server for an
  h2c upgrade on a new connection (`Connection: Upgrade, HTTP2-Settings`,
  `Upgrade: h2c`, `HTTP2-Settings`), sends Content-Length, no Accept and
  no Accept-Encoding;
- body: kotlinx.serialization JsonObject.toString(): compact, job_id
  FIRST (postJson puts it before the built body), then url,
  direct_download, viewport_width, viewport_height, load_media,
  enable_scroll, output_filename?, auth?, cookies?, headers?,
  single_page, pdf_options?; unset options left out (no nulls); strings
  with only `"`, `\\` and control characters escaped, non-ASCII raw UTF-8;
  Doubles as Kotlin's Double.toString: 10.0 is written `10.0`,
  1893456000.0 `1.893456E9`;
- job_id: UUID.randomUUID() without dashes (32 lower-case hex digits); on
  an ApiException >= 500 the SDK polls GET /v1/convert/status/{its job_id}:
  wait 3 s, 404 goes on, other >= 400 throws, "success" returns that
  object, "failed" is ApiException(500, error ?: "Conversion failed");
  after 300 s ApiException(504, "Conversion timed out");
- a 2xx answer without job_id gets the sent one (withDefaultJobId);
- errors: 401/403 AuthenticationException (statusCode 401), 402
  QuotaException, 429 RateLimitException, others ApiException(status);
  the message is a string `detail`, else a string `error`, else the whole
  body text; a blank body is "HTTP <status>";
- reading: the body must be a JSON object (blank = {}), anything else
  throws a serialization exception (not an ApiException); strings only from
  JSON strings; Int/Long fields (intOrNull/longOrNull) only from an
  integer literal (or a string holding one): a JSON 12.0 or 1e3 reads as
  null, so a count falls back to 0 and file_size to null; Double fields
  from any number; an unknown job status reads as PROCESSING, an unknown
  batch status as PROCESSING (waitForBatch would then poll until its
  deadline), an unknown output_mode as INDIVIDUAL;
- download: the same HttpClient without the key (User-Agent
  Java-http-client), redirects NOT followed (HttpClient.Redirect.NEVER),
  non-2xx is ApiException(status, "Failed to download: <body or HTTP
  status>");
- waitForBatch: getBatchStatus until status != PROCESSING (every 5 s, 30
  min), with saveTo a null zipDownloadUrl is ApiException(500, "... but no
  ZIP is available to save"), past the deadline 504.

Not replayed (not implemented by this service): convertUrlToMarkdown,
convertWebsiteToPdf / convertWebsiteToScreenshot, the file conversions
(convertImage, convertDocument, convertToMarkdown, convertToPdf) and the
v2 namespace. The SDK has no URL-array, async_mode, whoami or
download-by-key call."""

import decimal
import http.client
import json
import os
import re
import time
import urllib.parse

from clients import new_job_id   # UUID.randomUUID() without dashes

KOTLIN_SDK_VERSION = "0.2.0"
KOTLIN_UA = f"enconvert-sdk/{KOTLIN_SDK_VERSION} (kotlin)"   # DEFAULT_USER_AGENT
JDK_UA = "Java-http-client/17.0.12"
# java.net.http on a new plain-http connection with HTTP/2 preferred
JDK_H2C_UPGRADE = {"Connection": "Upgrade, HTTP2-Settings",
                   "HTTP2-Settings": "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA",
                   "Upgrade": "h2c"}
KOTLIN_POLL_INTERVAL = 3         # pollJob intervalMs
KOTLIN_POLL_MAX_WAIT = 300       # pollJob maxWaitMs
KOTLIN_BATCH_POLL_INTERVAL = 5   # DEFAULT_BATCH_POLL_INTERVAL_MS
KOTLIN_BATCH_TIMEOUT = 30 * 60   # DEFAULT_BATCH_TIMEOUT_MS
KOTLIN_TIMEOUT = 300             # DEFAULT_TIMEOUT_MS

JOB_STATUS_VALUES = ("processing", "success", "failed")
BATCH_STATUS_VALUES = ("processing", "completed", "partial", "failed")
BATCH_OUTPUT_MODES = ("zip", "individual")


class KotlinApiError(Exception):
    """ApiException and its subclasses: `kind` is "authentication" (401/403,
    statusCode 401), "quota" (402), "rate_limit" (429) or "api"; message is
    "[<status>] <message>"."""

    def __init__(self, status, message, kind="api"):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message
        self.kind = kind


class KotlinDecodeError(Exception):
    """kotlinx.serialization refusing a body (not JSON, not an object)."""


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def send(base, method, path, body=None, headers=None, timeout=KOTLIN_TIMEOUT):
    """One HTTP/1.1 request with exactly these headers (Host and
    Content-Length added, no Accept-Encoding)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


# ---- kotlinx.serialization writer -----------------------------------------

def java_double(d):
    """Kotlin/Java Double.toString: plain with at least one fraction digit
    for 1e-3 <= |d| < 1e7, else "<digit>.<digits>E<exp>"."""
    if d != d:
        return "NaN"
    if d in (float("inf"), float("-inf")):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if str(d).startswith("-") else "0.0"
    if 1e-3 <= abs(d) < 1e7:
        s = repr(d)
        return s if "." in s else s + ".0"
    sign, digits, exp = decimal.Decimal(repr(d)).normalize().as_tuple()
    digits = "".join(map(str, digits))
    e10 = len(digits) - 1 + exp
    return ("-" if sign else "") + digits[0] + "." + (digits[1:] or "0") + "E" + str(e10)


_KX_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
             "\f": "\\f", "\r": "\\r"}


def kx_string(s):
    out = ['"']
    for ch in s:
        if ch in _KX_SHORT:
            out.append(_KX_SHORT[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def kx_json(v):
    """JsonElement.toString(): compact, LinkedHashMap order."""
    if isinstance(v, dict):
        return "{" + ",".join(kx_string(k) + ":" + kx_json(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(kx_json(x) for x in v) + "]"
    if isinstance(v, str):
        return kx_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return java_double(v)
    return str(v)


# ---- JsonObject readers (Json.kt) ------------------------------------------

_INT_LITERAL = re.compile(r"-?[0-9]+\Z")


def _primitive_content(v):
    """A JsonPrimitive's content (JsonNull is one: "null"); None for
    objects and arrays."""
    if isinstance(v, (dict, list)):
        return None
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)             # a string, or a RawNumber's literal text


class RawNumber(str):
    """A JSON number kept as its literal text, as kotlinx keeps a
    primitive's content."""


def _parse(text):
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber)


def _is_raw_number(v):
    return isinstance(v, RawNumber)


def opt_str(o, k):
    v = o.get(k)
    return str(v) if isinstance(v, str) and not _is_raw_number(v) else None


def str_(o, k, fallback=""):
    v = opt_str(o, k)
    return fallback if v is None else v


def _opt_integer(o, k, bits):
    content = _primitive_content(o.get(k))
    if content is None or not _INT_LITERAL.match(content):
        return None
    n = int(content)
    return n if -(1 << (bits - 1)) <= n < (1 << (bits - 1)) else None


def opt_int(o, k):
    return _opt_integer(o, k, 32)


def int_or(o, k, fallback=0):
    v = opt_int(o, k)
    return fallback if v is None else v


def opt_long(o, k):
    return _opt_integer(o, k, 64)


def opt_double(o, k):
    content = _primitive_content(o.get(k))
    if content is None:
        return None
    try:
        if not re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[dDfF]?\s*|"
                            r"\s*[-+]?(NaN|Infinity)\s*", content):
            return None
        return float(content.strip().rstrip("dDfF"))
    except ValueError:
        return None


def obj_arr(o, k):
    v = o.get(k)
    return [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []


def body_as_json_object(body):
    """HttpResponseData.bodyAsJsonObject: blank -> {}; else it must be a
    JSON object."""
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        text = "{}"
    try:
        data = _parse(text)
    except ValueError as e:
        raise KotlinDecodeError(f"not JSON: {text[:200]!r}") from e
    if not isinstance(data, dict):
        raise KotlinDecodeError(f"Element is not a JsonObject: {text[:200]!r}")
    return data


def error_message(body, status):
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        return f"HTTP {status}"
    try:
        obj = _parse(text)
    except ValueError:
        return text
    if not isinstance(obj, dict):
        return text
    for k in ("detail", "error"):            # optStr(detail) ?: optStr(error) ?: body
        v = opt_str(obj, k)
        if v is not None:
            return v
    return text


def raise_for_status(resp):
    if resp.status < 400:
        return
    message = error_message(resp.body, resp.status)
    if resp.status in (401, 403):
        raise KotlinApiError(401, message, "authentication")
    kind = {402: "quota", 429: "rate_limit"}.get(resp.status, "api")
    raise KotlinApiError(resp.status, message, kind)


# ---- transport --------------------------------------------------------------

def kotlin_headers(key, method):
    h = {}
    h.update(JDK_H2C_UPGRADE)
    h["X-API-Key"] = key
    h["User-Agent"] = KOTLIN_UA
    if method in ("POST", "PATCH"):
        h["content-type"] = "application/json"
    return h


def kotlin_send_json(base, key, method, path, body=None, send_fn=None):
    """sendJson: URI.create(baseUrl.trimEnd('/') + path)."""
    base = base.rstrip("/")
    url_path = urllib.parse.urlsplit(base + path).path
    return (send_fn or send)(base, method, url_path, body, kotlin_headers(key, method))


def kotlin_poll_job(base, key, job_id, max_wait=KOTLIN_POLL_MAX_WAIT,
                    interval=KOTLIN_POLL_INTERVAL):
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = kotlin_send_json(base, key, "GET", f"/v1/convert/status/{job_id}")
        if resp.status == 404:
            continue
        raise_for_status(resp)
        data = body_as_json_object(resp.body)
        status = opt_str(data, "status")
        if status == "success":
            return data
        if status == "failed":
            raise KotlinApiError(500, opt_str(data, "error") or "Conversion failed")
    raise KotlinApiError(504, "Conversion timed out")


def kotlin_post_json(base, key, endpoint, body, post=None, poll_max_wait=None):
    """postJson: job_id first, then the built body. `post` replaces the
    sending of the POST (same signature as send)."""
    job_id = new_job_id()
    full = {"job_id": job_id, **body}
    payload = kx_json(full).encode("utf-8")
    try:
        resp = kotlin_send_json(base, key, "POST", endpoint, payload, post)
        raise_for_status(resp)
        data = body_as_json_object(resp.body)
        if "job_id" not in data:
            data = {"job_id": job_id, **data}
        return data, job_id
    except KotlinApiError as e:
        if e.status >= 500:
            return kotlin_poll_job(base, key, job_id, poll_max_wait or KOTLIN_POLL_MAX_WAIT), job_id
        raise


def kotlin_download(url, dest):
    """download: same HttpClient, no key, redirects not followed."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https"):
        raise ValueError(f"invalid URI scheme: {url!r}")   # URI.create / newBuilder
    assert u.scheme == "http", f"replay speaks plain http only: {url}"
    headers = {**JDK_H2C_UPGRADE, "User-Agent": JDK_UA}
    resp = send(f"{u.scheme}://{u.netloc}", "GET",
                (u.path or "/") + ("?" + u.query if u.query else ""), headers=headers)
    if not 200 <= resp.status <= 299:
        message = resp.body.decode("utf-8", errors="replace")
        raise KotlinApiError(resp.status, "Failed to download: "
                             + (message if message.strip() else f"HTTP {resp.status}"))
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(resp.body)


# ---- body builders ------------------------------------------------------------

def kotlin_basic_auth(username, password):
    return {"username": username, "password": password}


def kotlin_cookie(name, value, domain=None, url=None, path=None, expires=None,
                  http_only=None, secure=None, same_site=None):
    """serializeCookie (EnconvertV2.kt): name, value, then the set members."""
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
        c["sameSite"] = same_site
    return c


def kotlin_pdf_options(page_size=None, page_width=None, page_height=None, orientation=None,
                       margins=None, scale=None, grayscale=None, header=None, footer=None):
    """serializePdfOptions: Doubles for sizes, margins, scale, heights."""
    out = {}
    if page_size is not None:
        out["page_size"] = page_size
    if page_width is not None:
        out["page_width"] = float(page_width)
    if page_height is not None:
        out["page_height"] = float(page_height)
    if orientation is not None:
        out["orientation"] = orientation
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


def kotlin_url_body(url, viewport_width=None, viewport_height=None, load_media=None,
                    enable_scroll=None, output_filename=None, auth=None, cookies=None,
                    headers=None):
    """putUrlBody + putBrowserAccess."""
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


# ---- response mappers -------------------------------------------------------

def kotlin_to_conversion_result(d):
    object_key = str_(d, "object_key")
    filename = opt_str(d, "filename")
    if filename is None:
        filename = object_key.rsplit("/", 1)[-1]       # substringAfterLast('/', objectKey)
    return {"presignedUrl": str_(d, "presigned_url"), "objectKey": object_key,
            "filename": filename, "fileSize": opt_long(d, "file_size"),
            "conversionTimeSeconds": opt_double(d, "conversion_time_seconds"),
            "jobId": opt_str(d, "job_id")}


def _from_wire(value, values, fallback):
    return value if value in values else fallback


def kotlin_to_job_status(d):
    return {"status": _from_wire(opt_str(d, "status"), JOB_STATUS_VALUES, "processing"),
            "presignedUrl": opt_str(d, "presigned_url"),
            "objectKey": opt_str(d, "object_key"), "error": opt_str(d, "error")}


def kotlin_to_batch_status(d):
    return {
        "batchId": str_(d, "batch_id"),
        "status": _from_wire(opt_str(d, "status"), BATCH_STATUS_VALUES, "processing"),
        "total": int_or(d, "total"), "completed": int_or(d, "completed"),
        "failed": int_or(d, "failed"), "inProgress": int_or(d, "in_progress"),
        "outputMode": _from_wire(opt_str(d, "output_mode"), BATCH_OUTPUT_MODES, "individual"),
        "zipDownloadUrl": opt_str(d, "zip_download_url"),
        "items": [{"sourceUrl": str_(i, "source_url"), "status": str_(i, "status"),
                   "downloadUrl": opt_str(i, "download_url"),
                   "outputFileSize": opt_long(i, "output_file_size"),
                   "duration": opt_str(i, "duration")} for i in obj_arr(d, "items")],
    }


# ---- public methods -----------------------------------------------------------

def kotlin_convert_url_to_pdf(base, key, url, single_page=True, pdf_options=None, save_to=None,
                              post=None, poll_max_wait=None, **render):
    """convertUrlToPdf -> (ConversionResult, the job_id it sent)."""
    body = kotlin_url_body(url, **render)
    body["single_page"] = single_page
    if pdf_options is not None:
        body["pdf_options"] = pdf_options
    data, job_id = kotlin_post_json(base, key, "/v1/convert/url-to-pdf", body, post,
                                    poll_max_wait)
    result = kotlin_to_conversion_result(data)
    if save_to is not None:
        kotlin_download(result["presignedUrl"], save_to)
    return result, job_id


def kotlin_convert_url_to_screenshot(base, key, url, save_to=None, post=None,
                                     poll_max_wait=None, **render):
    body = kotlin_url_body(url, **render)
    data, job_id = kotlin_post_json(base, key, "/v1/convert/url-to-screenshot", body, post,
                                    poll_max_wait)
    result = kotlin_to_conversion_result(data)
    if save_to is not None:
        kotlin_download(result["presignedUrl"], save_to)
    return result, job_id


def kotlin_get_job_status(base, key, job_id):
    resp = kotlin_send_json(base, key, "GET", f"/v1/convert/status/{job_id}")
    raise_for_status(resp)
    return kotlin_to_job_status(body_as_json_object(resp.body))


def kotlin_get_batch_status(base, key, batch_id):
    resp = kotlin_send_json(base, key, "GET", f"/v1/convert/batch/{batch_id}")
    raise_for_status(resp)
    return kotlin_to_batch_status(body_as_json_object(resp.body))


def kotlin_wait_for_batch(base, key, batch_id, interval=KOTLIN_BATCH_POLL_INTERVAL,
                          timeout=KOTLIN_BATCH_TIMEOUT, save_to=None):
    deadline = time.time() + timeout
    while True:
        status = kotlin_get_batch_status(base, key, batch_id)
        if status["status"] != "processing":
            if save_to is not None:
                if status["zipDownloadUrl"] is None:
                    raise KotlinApiError(500, f"Batch {batch_id} finished with status "
                                         f"'{status['status']}' but no ZIP is available to save")
                kotlin_download(status["zipDownloadUrl"], save_to)
            return status
        if time.time() >= deadline:
            raise KotlinApiError(504, f"Batch {batch_id} did not complete within "
                                 f"{int(timeout * 1000)}ms")
        time.sleep(interval)
