"""The Java SDK (enconvert/java-sdk, com.enconvert:enconvert-sdk 0.0.1),
replayed: the exact requests it makes and what it reads in the answers.

Follows src/main/java/com/enconvert/Enconvert.java (constructors/Builder,
convertUrlToPdf, convertUrlToScreenshot, getJobStatus, getBatchStatus,
waitForBatch, postJson, pollJob, download, newJobId), Transport.java (send,
requestJson, parseObject, raiseForStatus, getUnauthenticated), Json.java
(str/optStr/num/optLong/optDouble/objArr), V1Serializers.java (urlBody,
appendBrowserAccess, pdfOptions, pdfMargins, pdfHeaderFooter,
httpBasicAuth, browserCookie), V1Mappers.java (toConversionResult,
toJobStatus, toBatchStatus), the model records/builders (UrlToPdfOptions,
UrlToScreenshotOptions, PdfOptions, PdfMargins, PdfHeaderFooter,
HttpBasicAuth, BrowserCookie, WaitForBatchOptions), exceptions/*.java
(ApiException, AuthenticationException, ...), build.gradle (Java 17
toolchain, Gson 2.11.0) and README.md.

What the SDK does on the wire:
- baseUrl (default https://api.enconvert.com) loses its trailing slashes
  and is concatenated with the path (URI.create(baseUrl + path)).
- java.net.http.HttpClient with its defaults (HTTP/2 preferred, redirects
  never followed): on plain http every request is an HTTP/1.1 request that
  offers an h2c upgrade (Connection: Upgrade, HTTP2-Settings; Upgrade: h2c;
  HTTP2-Settings), User-Agent "Java-HttpClient/<java.version>", and on the
  JDK 17 the SDK targets a GET also carries "Content-Length: 0". The SDK adds
  X-API-Key and, with a body, Content-Type: application/json. Request
  timeout 300 s.
- Bodies are LinkedHashMaps written by `new Gson().toJson`: insertion
  order, compact, null members left out, HTML-safe escapes (<, >, &, =, '
  as \\u003c, \\u003e, \\u0026, \\u003d, \\u0027; U+2028/U+2029 escaped),
  "/" and non-ASCII as they are (UTF-8). Integer options are ints, the PDF
  sizes/margins/scale/header-footer heights are Doubles (10 -> 10.0),
  cookie expires a Long.
- urlBody: url, direct_download false, viewport_width 1920, viewport_height
  1080, load_media true, enable_scroll true, output_filename when not null,
  auth {username, password}, cookies (name, value, then domain, url, path,
  expires, httpOnly, secure, sameSite when set), headers; url-to-pdf then
  single_page (default true) and pdf_options when set (page_size,
  page_width, page_height, orientation, margins {top, bottom, left, right},
  scale, grayscale, header/footer {content, height}: only members set);
  postJson appends job_id last: UUID.randomUUID() without dashes.
- postJson: on success a missing or null job_id is filled with the sent id
  (the answer's own id wins); an ApiException >= 500 (a 5xx answer; an
  IOException is EnconvertException and is not retried) turns into pollJob
  on the sent id: sleep 3 s, GET /v1/convert/status/{id}, 404 goes on,
  other >= 400 raises, "success" returns the status object, "failed" is
  ApiException(500, error) (error kept when "", "Conversion failed" when
  missing or not a string); after 300 s ApiException(504, "Conversion timed
  out"). Neither deadline can be set by the caller.
- raiseForStatus: empty body "HTTP <status>"; a JSON object: a non-empty
  string `detail`, else a non-empty string `error`, else the object as
  compact JSON; other JSON its text; not JSON the raw text. 401/403
  AuthenticationException (status always 401), 402 QuotaException, 429
  RateLimitException, else ApiException(status); messages read
  "[<status>] <message>".
- Reading: a blank, non-object or unparsable answer is an empty object;
  strings must be JSON strings, numbers JSON numbers (ints/longs truncated).
- download (saveTo): GET without the key, redirects not followed; a status
  outside 2xx is ApiException(status, "Failed to download: HTTP <status>");
  parent directories created, the file replaced.
- waitForBatch: getBatchStatus every 5000 ms until status != "processing",
  at most 1 800 000 ms (ApiException 504 "Batch <id> did not complete within
  <timeoutMs>ms"); with saveTo a null zip_download_url is ApiException 500
  "... but no ZIP is available to save".
Polling waits here are bounded as the SDK's own are; tests pass shorter
deadlines."""

import http.client
import json
import os
import re
import time
import urllib.parse

from clients import new_job_id   # Enconvert.newJobId: UUID v4 without dashes, as node's
from stack import Response

JAVA_VERSION = "17.0.12"                          # the SDK's toolchain (build.gradle)
JAVA_UA = f"Java-HttpClient/{JAVA_VERSION}"
JAVA_H2C_SETTINGS = "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"   # the JDK's client SETTINGS
JAVA_REQUEST_TIMEOUT = 300                        # DEFAULT_TIMEOUT_MS
JAVA_POLL_MAX_WAIT = 300                          # POLL_JOB_MAX_WAIT_MS
JAVA_POLL_INTERVAL = 3                            # POLL_JOB_INTERVAL_MS
JAVA_BATCH_POLL_INTERVAL_MS = 5000                # DEFAULT_BATCH_POLL_INTERVAL_MS
JAVA_BATCH_TIMEOUT_MS = 1_800_000                 # DEFAULT_BATCH_TIMEOUT_MS


def java_wire(base, method, path, body=None, headers=None, timeout=120):
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


class JavaEnconvertException(Exception):
    """com.enconvert.exceptions.EnconvertException."""


class JavaApiException(JavaEnconvertException):
    def __init__(self, status, message):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message


class JavaAuthenticationException(JavaApiException):
    def __init__(self, message="Invalid or missing API key"):
        super().__init__(401, message)


class JavaQuotaException(JavaApiException):
    def __init__(self, message):
        super().__init__(402, message)


class JavaRateLimitException(JavaApiException):
    def __init__(self, message):
        super().__init__(429, message)


class JDouble(float):
    """A java.lang.Double in a body (Gson writes Double.toString)."""


class JLong(int):
    """A java.lang.Long in a body."""


# ---- Gson ---------------------------------------------------------------------

_GSON_ESC = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\b": "\\b", "\n": "\\n",
             "\r": "\\r", "\f": "\\f", "\u2028": "\\u2028", "\u2029": "\\u2029",
             "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d",
             "'": "\\u0027"}


def gson_string(s):
    out = []
    for ch in s:
        if ch in _GSON_ESC:
            out.append(_GSON_ESC[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def java_double_to_string(d):
    """Double.toString for the values the SDK sends."""
    d = float(d)
    if d == 0:
        return "0.0"
    if 1e-3 <= abs(d) < 1e7:
        r = repr(d)
        return r if ("." in r or "e" in r) else r + ".0"
    mant, exp = f"{d:e}".split("e")
    mant = mant.rstrip("0")
    if mant.endswith("."):
        mant += "0"
    return f"{mant}E{int(exp)}"


def gson_to_json(v):
    """new Gson().toJson(v): maps in order, nulls in maps left out."""
    if isinstance(v, dict):
        return "{" + ",".join(gson_string(str(k)) + ":" + gson_to_json(x)
                              for k, x in v.items() if x is not None) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(gson_to_json(x) for x in v) + "]"
    if isinstance(v, str):
        return gson_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return java_double_to_string(v)
    return str(int(v))


def java_parse_object(raw):
    """Transport.parseObject: blank, unparsable or not an object -> {}."""
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return {}
    try:
        el = json.loads(text)
    except ValueError:
        return {}
    return el if isinstance(el, dict) else {}


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def j_str(o, k, fallback):
    v = o.get(k)
    return v if isinstance(v, str) else fallback


def j_opt_str(o, k):
    return j_str(o, k, None)


def j_num(o, k, fallback=0):
    v = o.get(k)
    return int(v) if _number(v) else fallback      # getAsInt truncates


def j_opt_long(o, k):
    v = o.get(k)
    return int(v) if _number(v) else None


def j_opt_double(o, k):
    v = o.get(k)
    return float(v) if _number(v) else None


# ---- transport ------------------------------------------------------------

def java_base(base):
    """The constructor: trailing slashes removed."""
    return re.sub(r"/+$", "", base)


def java_headers(key=None, method="GET", content_type=None):
    """HttpClient (JDK 17) + Transport.send, plain http."""
    h = {"Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": JAVA_H2C_SETTINGS,
         "Upgrade": "h2c", "User-Agent": JAVA_UA}
    if method == "GET":
        h["Content-Length"] = "0"
    if key is not None:
        h["X-API-Key"] = key
    if content_type is not None:
        h["Content-Type"] = content_type
    return h


def java_send(base, key, path, method, body=None, content_type=None, send=None):
    """Transport.send: URI.create(baseUrl + path)."""
    u = urllib.parse.urlsplit(java_base(base) + path)
    origin = f"{u.scheme}://{u.netloc}"
    target = u.path + ("?" + u.query if u.query else "")
    headers = java_headers(key, method, content_type)
    if send is not None:
        return send(origin, method, target, body, headers)
    return java_wire(origin, method, target, body, headers, timeout=JAVA_REQUEST_TIMEOUT)


def java_error_message(body, status):
    text = body.decode("utf-8", errors="replace")
    if text == "":
        return f"HTTP {status}"
    try:
        el = json.loads(text)
    except ValueError:
        return text
    if isinstance(el, dict):
        detail, error = j_opt_str(el, "detail"), j_opt_str(el, "error")
        if detail:
            return detail
        if error:
            return error
        return json.dumps(el, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(el, separators=(",", ":"), ensure_ascii=False)


def java_raise_for_status(resp):
    """Transport.raiseForStatus."""
    if resp.status < 400:
        return
    message = java_error_message(resp.body, resp.status)
    if resp.status in (401, 403):
        raise JavaAuthenticationException(message)
    if resp.status == 402:
        raise JavaQuotaException(message)
    if resp.status == 429:
        raise JavaRateLimitException(message)
    raise JavaApiException(resp.status, message)


def java_request_json(base, key, path, method, body=None, content_type=None, send=None):
    resp = java_send(base, key, path, method, body, content_type, send)
    java_raise_for_status(resp)
    return java_parse_object(resp.body)


def java_poll_job(base, key, job_id, max_wait=JAVA_POLL_MAX_WAIT, interval=JAVA_POLL_INTERVAL):
    """Enconvert.pollJob."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = java_send(base, key, "/v1/convert/status/" + job_id, "GET")
        if resp.status == 404:
            continue
        java_raise_for_status(resp)
        data = java_parse_object(resp.body)
        status = j_opt_str(data, "status")
        if status == "success":
            return data
        if status == "failed":
            error = j_opt_str(data, "error")
            raise JavaApiException(500, error if error is not None else "Conversion failed")
    raise JavaApiException(504, "Conversion timed out")


def java_post_json(base, key, endpoint, body, job_fallback=True, post=None, poll_max_wait=None):
    """Enconvert.postJson. Returns the JSON object and the job_id sent."""
    job_id = new_job_id() if job_fallback else None
    if job_id is not None:
        body["job_id"] = job_id
    payload = gson_to_json(body).encode("utf-8")
    try:
        data = java_request_json(base, key, endpoint, "POST", payload, "application/json", post)
        if job_id is not None and data.get("job_id") is None:
            data["job_id"] = job_id
        return data, job_id
    except JavaApiException as e:
        if job_id is not None and e.status >= 500:
            return java_poll_job(base, key, job_id, poll_max_wait or JAVA_POLL_MAX_WAIT), job_id
        raise


def java_download(url, dest):
    """Enconvert.download: no key, no redirects, 2xx only."""
    u = urllib.parse.urlsplit(url)
    assert u.scheme == "http", f"replay speaks plain http only: {url}"
    resp = java_wire(f"{u.scheme}://{u.netloc}", "GET",
                   (u.path or "/") + ("?" + u.query if u.query else ""),
                   headers=java_headers(), timeout=JAVA_REQUEST_TIMEOUT)
    if not 200 <= resp.status < 300:
        raise JavaApiException(resp.status, f"Failed to download: HTTP {resp.status}")
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    with open(dest, "wb") as f:
        f.write(resp.body)


# ---- option records -------------------------------------------------------

def java_basic_auth(username, password):
    """V1Serializers.httpBasicAuth (a null member is left out by Gson)."""
    return {"username": username, "password": password}


def java_cookie(name, value, domain=None, url=None, path=None, expires=None,
                http_only=None, secure=None, same_site=None):
    """V1Serializers.browserCookie."""
    c = {"name": name, "value": value}
    for k, v in (("domain", domain), ("url", url), ("path", path),
                 ("expires", None if expires is None else JLong(expires)),
                 ("httpOnly", http_only), ("secure", secure), ("sameSite", same_site)):
        if v is not None:
            c[k] = v
    return c


def java_pdf_options(page_size=None, page_width=None, page_height=None, orientation=None,
                     margins=None, scale=None, grayscale=None, header=None, footer=None):
    """PdfOptions.Builder + V1Serializers.pdfOptions: `margins` is
    PdfMargins(top, bottom, left, right), header/footer PdfHeaderFooter
    (content, height), all sizes Doubles."""
    def dbl(v):
        return None if v is None else JDouble(v)
    out = {}
    if page_size is not None:
        out["page_size"] = page_size
    if page_width is not None:
        out["page_width"] = dbl(page_width)
    if page_height is not None:
        out["page_height"] = dbl(page_height)
    if orientation is not None:
        out["orientation"] = orientation
    if margins is not None:
        out["margins"] = {k: dbl(margins[k]) for k in ("top", "bottom", "left", "right")
                          if margins.get(k) is not None}
    if scale is not None:
        out["scale"] = dbl(scale)
    if grayscale is not None:
        out["grayscale"] = grayscale
    for name, block in (("header", header), ("footer", footer)):
        if block is not None:
            s = {}
            if block.get("content") is not None:
                s["content"] = block["content"]
            if block.get("height") is not None:
                s["height"] = dbl(block["height"])
            out[name] = s
    return out


def java_url_body(url, viewport_width=None, viewport_height=None, load_media=None,
                  enable_scroll=None, output_filename=None, auth=None, cookies=None,
                  headers=None):
    """V1Serializers.urlBody."""
    body = {"url": url, "direct_download": False,
            "viewport_width": 1920 if viewport_width is None else int(viewport_width),
            "viewport_height": 1080 if viewport_height is None else int(viewport_height),
            "load_media": True if load_media is None else load_media,
            "enable_scroll": True if enable_scroll is None else enable_scroll}
    if output_filename is not None:
        body["output_filename"] = output_filename
    if auth is not None:
        body["auth"] = auth
    if cookies is not None:
        body["cookies"] = list(cookies)
    if headers is not None:
        body["headers"] = headers
    return body


# ---- the SDK's methods ------------------------------------------------------

def java_conversion_result(d):
    """V1Mappers.toConversionResult."""
    object_key = j_str(d, "object_key", "")
    filename = j_opt_str(d, "filename")
    if filename is None:
        filename = object_key[object_key.rfind("/") + 1:]
    return {"presignedUrl": j_str(d, "presigned_url", ""), "objectKey": object_key,
            "filename": filename, "fileSize": j_opt_long(d, "file_size"),
            "conversionTimeSeconds": j_opt_double(d, "conversion_time_seconds"),
            "jobId": j_opt_str(d, "job_id")}


def java_convert_url_to_pdf(base, key, url, single_page=None, pdf_options=None, save_to=None,
                            post=None, poll_max_wait=None, **render):
    """convertUrlToPdf(url, UrlToPdfOptions). Returns the ConversionResult
    and the job_id sent."""
    body = java_url_body(url, **render)
    body["single_page"] = True if single_page is None else single_page
    if pdf_options is not None:
        body["pdf_options"] = pdf_options
    data, job_id = java_post_json(base, key, "/v1/convert/url-to-pdf", body, True, post,
                                  poll_max_wait)
    result = java_conversion_result(data)
    if save_to is not None:
        java_download(result["presignedUrl"], save_to)
    return result, job_id


def java_convert_url_to_screenshot(base, key, url, save_to=None, post=None,
                                   poll_max_wait=None, **render):
    """convertUrlToScreenshot(url, UrlToScreenshotOptions): urlBody only."""
    body = java_url_body(url, **render)
    data, job_id = java_post_json(base, key, "/v1/convert/url-to-screenshot", body, True,
                                  post, poll_max_wait)
    result = java_conversion_result(data)
    if save_to is not None:
        java_download(result["presignedUrl"], save_to)
    return result, job_id


def java_get_job_status(base, key, job_id):
    """getJobStatus -> V1Mappers.toJobStatus."""
    d = java_request_json(base, key, "/v1/convert/status/" + job_id, "GET")
    return {"status": j_str(d, "status", ""), "presignedUrl": j_opt_str(d, "presigned_url"),
            "objectKey": j_opt_str(d, "object_key"), "error": j_opt_str(d, "error")}


def java_get_batch_status(base, key, batch_id):
    """getBatchStatus -> V1Mappers.toBatchStatus (non-object items skipped)."""
    d = java_request_json(base, key, "/v1/convert/batch/" + batch_id, "GET")
    items = d.get("items") if isinstance(d.get("items"), list) else []
    return {"batchId": j_str(d, "batch_id", ""), "status": j_str(d, "status", ""),
            "total": j_num(d, "total"), "completed": j_num(d, "completed"),
            "failed": j_num(d, "failed"), "inProgress": j_num(d, "in_progress"),
            "outputMode": j_str(d, "output_mode", ""),
            "zipDownloadUrl": j_opt_str(d, "zip_download_url"),
            "items": [{"sourceUrl": j_str(i, "source_url", ""), "status": j_str(i, "status", ""),
                       "downloadUrl": j_opt_str(i, "download_url"),
                       "outputFileSize": j_opt_long(i, "output_file_size"),
                       "duration": j_opt_str(i, "duration")}
                      for i in items if isinstance(i, dict)]}


def java_wait_for_batch(base, key, batch_id, interval_ms=None, timeout_ms=None, save_to=None):
    """waitForBatch(batchId, WaitForBatchOptions)."""
    interval_ms = JAVA_BATCH_POLL_INTERVAL_MS if interval_ms is None else interval_ms
    timeout_ms = JAVA_BATCH_TIMEOUT_MS if timeout_ms is None else timeout_ms
    deadline = time.time() * 1000 + timeout_ms
    while True:
        status = java_get_batch_status(base, key, batch_id)
        if status["status"] != "processing":
            if save_to is not None:
                if status["zipDownloadUrl"] is None:
                    raise JavaApiException(500, f"Batch {batch_id} finished with status '"
                                           f"{status['status']}' but no ZIP is available to save")
                java_download(status["zipDownloadUrl"], save_to)
            return status
        if time.time() * 1000 >= deadline:
            raise JavaApiException(504, f"Batch {batch_id} did not complete within {timeout_ms}ms")
        time.sleep(interval_ms / 1000)
