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

import functools
import json
import re
import urllib.parse

from clients import new_job_id   # Enconvert.newJobId: UUID v4 without dashes, as node's
from sdk_replay import (SdkReplay, escaping_string, exception_family, fetch, json_writer,
                        member_float, member_int, member_objects, member_str, object_or_empty,
                        save_file, wire)

JAVA_VERSION = "17.0.12"                          # the SDK's toolchain (build.gradle)
JAVA_UA = f"Java-HttpClient/{JAVA_VERSION}"
JAVA_H2C_SETTINGS = "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"   # the JDK's client SETTINGS
JAVA_REQUEST_TIMEOUT = 300                        # DEFAULT_TIMEOUT_MS
JAVA_POLL_MAX_WAIT = 300                          # POLL_JOB_MAX_WAIT_MS
JAVA_POLL_INTERVAL = 3                            # POLL_JOB_INTERVAL_MS
JAVA_BATCH_POLL_INTERVAL_MS = 5000                # DEFAULT_BATCH_POLL_INTERVAL_MS
JAVA_BATCH_TIMEOUT_MS = 1_800_000                 # DEFAULT_BATCH_TIMEOUT_MS


# One request with exactly the given headers (plus Host and, with a body,
# Content-Length).
java_wire = wire

# com.enconvert.exceptions: EnconvertException > ApiException >
# AuthenticationException, QuotaException, RateLimitException
(JavaEnconvertException, JavaApiException, JavaAuthenticationException, JavaQuotaException,
 JavaRateLimitException, java_error_for) = exception_family("Java")


class JDouble(float):
    """A java.lang.Double in a body (Gson writes Double.toString)."""


class JLong(int):
    """A java.lang.Long in a body."""


# ---- Gson ---------------------------------------------------------------------

_GSON_ESC = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\b": "\\b", "\n": "\\n",
             "\r": "\\r", "\f": "\\f", "\u2028": "\\u2028", "\u2029": "\\u2029",
             "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d",
             "'": "\\u0027"}


gson_string = escaping_string(_GSON_ESC)


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


def _gson_number(v):
    return java_double_to_string(v) if isinstance(v, float) else str(int(v))


# new Gson().toJson(v): maps in order, nulls in maps left out
gson_to_json = json_writer(gson_string, _gson_number,
                           lambda d: [(k, x) for k, x in d.items() if x is not None])


def java_parse_object(raw):
    """Transport.parseObject: blank, unparsable or not an object -> {}."""
    text = raw.decode("utf-8", errors="replace")
    return object_or_empty(text) if text.strip() else {}


# Json.java: str, optStr, num, optLong, optDouble
j_str = member_str
j_opt_str = member_str
j_num = functools.partial(member_int, fallback=0)      # getAsInt truncates
j_opt_long = member_int
j_opt_double = member_float


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


def java_to_job_status(d):
    """V1Mappers.toJobStatus."""
    return {"status": j_str(d, "status", ""), "presignedUrl": j_opt_str(d, "presigned_url"),
            "objectKey": j_opt_str(d, "object_key"), "error": j_opt_str(d, "error")}


def java_to_batch_status(d):
    """V1Mappers.toBatchStatus (non-object items skipped)."""
    return {"batchId": j_str(d, "batch_id", ""), "status": j_str(d, "status", ""),
            "total": j_num(d, "total"), "completed": j_num(d, "completed"),
            "failed": j_num(d, "failed"), "inProgress": j_num(d, "in_progress"),
            "outputMode": j_str(d, "output_mode", ""),
            "zipDownloadUrl": j_opt_str(d, "zip_download_url"),
            "items": [{"sourceUrl": j_str(i, "source_url", ""), "status": j_str(i, "status", ""),
                       "downloadUrl": j_opt_str(i, "download_url"),
                       "outputFileSize": j_opt_long(i, "output_file_size"),
                       "duration": j_opt_str(i, "duration")}
                      for i in member_objects(d, "items")]}


class JavaSdk(SdkReplay):
    error = JavaApiException
    poll_interval = JAVA_POLL_INTERVAL
    poll_max_wait = JAVA_POLL_MAX_WAIT
    batch_interval = JAVA_BATCH_POLL_INTERVAL_MS / 1000
    batch_timeout = JAVA_BATCH_TIMEOUT_MS / 1000
    error_for = staticmethod(java_error_for)          # Transport.raiseForStatus
    error_message = staticmethod(java_error_message)
    decode = staticmethod(java_parse_object)          # Transport.parseObject
    new_job_id = staticmethod(new_job_id)
    to_conversion_result = staticmethod(java_conversion_result)
    to_job_status = staticmethod(java_to_job_status)
    to_batch_status = staticmethod(java_to_batch_status)
    integer = staticmethod(int)
    double = staticmethod(JDouble)                    # the PDF sizes are Doubles
    expires = staticmethod(JLong)                     # cookie expires is a Long

    def send(self, base, key, method, path, body=None, post=None):
        """Transport.send: URI.create(baseUrl + path)."""
        u = urllib.parse.urlsplit(java_base(base) + path)
        origin = f"{u.scheme}://{u.netloc}"
        target = u.path + ("?" + u.query if u.query else "")
        headers = java_headers(key, method, "application/json" if body is not None else None)
        if post is not None:
            return post(origin, method, target, body, headers)
        return java_wire(origin, method, target, body, headers, timeout=JAVA_REQUEST_TIMEOUT)

    def encode(self, body, key_order=None):
        return gson_to_json(body).encode("utf-8")

    def keep_job_id(self, data, job_id):
        if data.get("job_id") is None:                # missing or null
            data["job_id"] = job_id
        return data

    def polled_status(self, data):
        return j_opt_str(data, "status")

    def failed_message(self, data):
        error = j_opt_str(data, "error")                # kept when ""
        return error if error is not None else "Conversion failed"

    def batch_timeout_message(self, batch_id, timeout):
        return f"Batch {batch_id} did not complete within {round(timeout * 1000)}ms"

    def download(self, url, dest):
        """Enconvert.download: no key, no redirects, 2xx only."""
        resp = fetch(url, lambda origin, path: java_wire(origin, "GET", path,
                                                          headers=java_headers(),
                                                          timeout=JAVA_REQUEST_TIMEOUT))
        if not 200 <= resp.status < 300:
            raise JavaApiException(resp.status, f"Failed to download: HTTP {resp.status}")
        save_file(dest, resp.body)


JAVA = JavaSdk()
java_basic_auth = JAVA.basic_auth             # V1Serializers.httpBasicAuth
java_cookie = JAVA.cookie                     # V1Serializers.browserCookie
java_pdf_options = JAVA.pdf_options           # PdfOptions.Builder + V1Serializers.pdfOptions
java_url_body = JAVA.url_body                 # V1Serializers.urlBody
java_download = JAVA.download
java_convert_url_to_pdf = JAVA.convert_url_to_pdf
java_convert_url_to_screenshot = JAVA.convert_url_to_screenshot
java_get_job_status = JAVA.get_job_status
java_get_batch_status = JAVA.get_batch_status


def java_wait_for_batch(base, key, batch_id, interval_ms=None, timeout_ms=None, save_to=None):
    """waitForBatch(batchId, WaitForBatchOptions): in milliseconds."""
    return JAVA.wait_for_batch(base, key, batch_id,
                               None if interval_ms is None else interval_ms / 1000,
                               None if timeout_ms is None else timeout_ms / 1000, save_to)
