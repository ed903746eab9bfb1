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

Not replayed: what sdk_replay.py lists (its convertUrlToMarkdown,
convertImage, convertDocument, convertToMarkdown, convertToPdf)."""

import functools
import gzip
import json
import random
import urllib.parse
import zlib

from clients import new_job_id   # UUID().uuidString without dashes, lower-cased
from sdk_replay import (BATCH_OUTPUT_MODES, BATCH_STATUS_VALUES, ERROR_KINDS, JOB_STATUS_VALUES,
                        ApiError, SdkReplay, escaping_string, fetch, json_writer, kind_errors,
                        member_float, member_int, member_objects, member_str, object_or_empty,
                        save_file, shortest_double, wire)

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



class SwiftError(ApiError):
    """EnconvertError: `kind` is "authentication" (401/403, statusCode 401),
    "quota" (402), "rateLimit" (429), "api" or "invalidArgument" (no
    status); description is "[<status>] <message>"."""


# One HTTP/1.1 request with exactly these headers (Host and Content-Length
# added).
send = functools.partial(wire, timeout=SWIFT_TIMEOUT)


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

# `"`, backslash and `/` escaped; the short escapes of BS, FF, LF, CR and TAB
swift_string = escaping_string({'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b",
                                "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def swift_json(v, rng):
    """JSONSerialization.data(withJSONObject:): compact; each dictionary's
    keys in an order of its own (rng stands for Swift's seeded hashing)."""
    def members(d):
        items = list(d.items())
        rng.shuffle(items)
        return items
    return json_writer(swift_string, shortest_double, members)(v)


# ---- lenient accessors (Internal.swift) -----------------------------------

json_string = functools.partial(member_str, fallback="")
json_opt_string = member_str
json_opt_int = member_int                # `as? Int`, else Int(`as? Double`)
json_int = functools.partial(member_int, fallback=0)
json_opt_double = member_float
json_dict_array = member_objects


def json_required_enum(o, k, values):
    v = o.get(k)
    if not isinstance(v, str) or v not in values:
        raise SwiftError(0, f"Missing or unrecognized '{k}' in API response")
    return v


def decode_json_object(body):
    """Transport.decodeJSONObject: anything but a JSON object is [:]."""
    return object_or_empty(body) if body else {}


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


# ---- the SDK ----------------------------------------------------------------

def swift_headers(key, json_body=False):
    h = {"X-API-Key": key, "User-Agent": SWIFT_UA}
    if json_body:
        h["content-type"] = "application/json"
    h.update(URLSESSION_HEADERS)
    return h


class SwiftSdk(SdkReplay):
    error = SwiftError
    poll_interval = SWIFT_POLL_INTERVAL
    poll_max_wait = SWIFT_POLL_MAX_WAIT
    batch_interval = SWIFT_BATCH_POLL_INTERVAL
    batch_timeout = SWIFT_BATCH_TIMEOUT
    error_for = staticmethod(kind_errors(SwiftError, {**ERROR_KINDS, 429: "rateLimit"}))
    error_message = staticmethod(error_message)
    decode = staticmethod(decode_json_object)     # Transport.decodeJSONObject
    new_job_id = staticmethod(new_job_id)
    to_conversion_result = staticmethod(swift_to_conversion_result)
    to_job_status = staticmethod(swift_to_job_status)
    to_batch_status = staticmethod(swift_to_batch_status)

    def send(self, base, key, method, path, body=None, post=None):
        """Transport.send: URL(string: baseURL + path)."""
        base = base.rstrip("/")
        url_path = urllib.parse.urlsplit(base + path).path
        resp = (post or send)(base, method, url_path, body, swift_headers(key, body is not None))
        return _urlsession(resp)

    def with_job_id(self, body, job_id):
        return {**body, "job_id": job_id}

    def encode(self, body, key_order=None):
        """`key_order` orders the keys (default: seeded with the job_id, one
        arbitrary order per request)."""
        return swift_json(body, key_order or random.Random(body["job_id"])).encode("utf-8")

    def falls_back(self, exc):
        return exc.kind == "api" and exc.status >= 500

    def download(self, url, dest):
        """Transport.download: no key, URLSession's own User-Agent, redirects
        followed; the bytes written to dest."""
        u = urllib.parse.urlsplit(url)
        if not url or not u.scheme:
            raise SwiftError(None, f"Invalid download URL: {url}", "invalidArgument")
        headers = {"User-Agent": URLSESSION_UA, **URLSESSION_HEADERS}
        resp = fetch(url, lambda origin, path: _urlsession(send(origin, "GET", path,
                                                                 headers=headers)), 16)
        if not 200 <= resp.status <= 299:
            raise SwiftError(resp.status, f"Failed to download: HTTP {resp.status}")
        save_file(dest, resp.body)


def _swift_method(method):
    """The SDK's method with Swift's `rng` (the keys' hash order)."""
    def call(*args, rng=None, **kwargs):
        return method(*args, key_order=rng, **kwargs)
    return call


SWIFT = SwiftSdk()
swift_basic_auth = SWIFT.basic_auth
swift_cookie = SWIFT.cookie                   # BrowserCookie.toJSONDict
swift_pdf_options = SWIFT.pdf_options         # PdfOptions.toJSONDict
swift_url_body = SWIFT.url_body               # buildUrlBody + appendBrowserAccess
swift_download = SWIFT.download
swift_convert_url_to_pdf = _swift_method(SWIFT.convert_url_to_pdf)
swift_convert_url_to_screenshot = _swift_method(SWIFT.convert_url_to_screenshot)
swift_get_job_status = SWIFT.get_job_status
swift_get_batch_status = SWIFT.get_batch_status
swift_wait_for_batch = SWIFT.wait_for_batch
