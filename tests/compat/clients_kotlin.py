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

Not replayed: what sdk_replay.py lists (its convertUrlToMarkdown,
convertImage, convertDocument, convertToMarkdown, convertToPdf)."""

import decimal
import functools
import json
import re
import urllib.parse

from clients import new_job_id   # UUID.randomUUID() without dashes
from sdk_replay import (BATCH_OUTPUT_MODES, BATCH_STATUS_VALUES, JOB_STATUS_VALUES, ApiError,
                        SdkReplay, escaping_string, fetch, json_writer, kind_errors,
                        member_objects, save_file, wire)

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



class KotlinApiError(ApiError):
    """ApiException and its subclasses: `kind` is "authentication" (401/403,
    statusCode 401), "quota" (402), "rate_limit" (429) or "api"; message is
    "[<status>] <message>"."""


class KotlinDecodeError(Exception):
    """kotlinx.serialization refusing a body (not JSON, not an object)."""


# One HTTP/1.1 request with exactly these headers (Content-Length first,
# Host added, no Accept-Encoding).
send = functools.partial(wire, timeout=KOTLIN_TIMEOUT, length_first=True)


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


kx_string = escaping_string(_KX_SHORT)


def _kx_number(v):
    return java_double(v) if isinstance(v, float) else str(v)


# JsonElement.toString(): compact, LinkedHashMap order
kx_json = json_writer(kx_string, _kx_number)


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


obj_arr = member_objects


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


# ---- the SDK --------------------------------------------------------------------

def kotlin_headers(key, method):
    h = {}
    h.update(JDK_H2C_UPGRADE)
    h["X-API-Key"] = key
    h["User-Agent"] = KOTLIN_UA
    if method in ("POST", "PATCH"):
        h["content-type"] = "application/json"
    return h


class KotlinSdk(SdkReplay):
    error = KotlinApiError
    poll_interval = KOTLIN_POLL_INTERVAL
    poll_max_wait = KOTLIN_POLL_MAX_WAIT
    batch_interval = KOTLIN_BATCH_POLL_INTERVAL
    batch_timeout = KOTLIN_BATCH_TIMEOUT
    error_for = staticmethod(kind_errors(KotlinApiError))
    error_message = staticmethod(error_message)
    new_job_id = staticmethod(new_job_id)
    to_conversion_result = staticmethod(kotlin_to_conversion_result)
    to_job_status = staticmethod(kotlin_to_job_status)
    to_batch_status = staticmethod(kotlin_to_batch_status)

    def send(self, base, key, method, path, body=None, post=None):
        """sendJson: URI.create(baseUrl.trimEnd('/') + path)."""
        base = base.rstrip("/")
        url_path = urllib.parse.urlsplit(base + path).path
        return (post or send)(base, method, url_path, body, kotlin_headers(key, method))

    def decode(self, body):
        return body_as_json_object(body)

    def with_job_id(self, body, job_id):
        return {"job_id": job_id, **body}              # postJson: job_id first

    def encode(self, body, key_order=None):
        return kx_json(body).encode("utf-8")

    def keep_job_id(self, data, job_id):
        return data if "job_id" in data else {"job_id": job_id, **data}

    def polled_status(self, data):
        return opt_str(data, "status")

    def failed_message(self, data):
        return opt_str(data, "error") or "Conversion failed"

    def download(self, url, dest):
        """download: same HttpClient, no key, redirects not followed."""
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https"):
            raise ValueError(f"invalid URI scheme: {url!r}")   # URI.create / newBuilder
        headers = {**JDK_H2C_UPGRADE, "User-Agent": JDK_UA}
        resp = fetch(url, lambda origin, path: send(origin, "GET", path, headers=headers))
        if not 200 <= resp.status <= 299:
            message = resp.body.decode("utf-8", errors="replace")
            raise KotlinApiError(resp.status, "Failed to download: "
                                 + (message if message.strip() else f"HTTP {resp.status}"))
        save_file(dest, resp.body)


KOTLIN = KotlinSdk()
kotlin_basic_auth = KOTLIN.basic_auth
kotlin_cookie = KOTLIN.cookie                 # serializeCookie (EnconvertV2.kt)
kotlin_pdf_options = KOTLIN.pdf_options       # serializePdfOptions
kotlin_url_body = KOTLIN.url_body             # putUrlBody + putBrowserAccess
kotlin_download = KOTLIN.download
kotlin_convert_url_to_pdf = KOTLIN.convert_url_to_pdf
kotlin_convert_url_to_screenshot = KOTLIN.convert_url_to_screenshot
kotlin_get_job_status = KOTLIN.get_job_status
kotlin_get_batch_status = KOTLIN.get_batch_status
kotlin_wait_for_batch = KOTLIN.wait_for_batch
