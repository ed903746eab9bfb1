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

import json
import os
import secrets
import urllib.parse

from sdk_replay import (PDF_ENDPOINT, SCREENSHOT_ENDPOINT, SdkReplay, exception_family, fetch,
                        http_reason, is_number, json_writer, wire)

PHP_UA = "GuzzleHttp/7"                 # GuzzleHttp\Utils::defaultUserAgent()
PHP_REQUEST_TIMEOUT = 300               # Client::DEFAULT_TIMEOUT (seconds)
PHP_POLL_MAX_WAIT = 300                 # pollJob $maxWaitMs 300_000
PHP_POLL_INTERVAL = 3                   # pollJob $intervalMs 3_000
PHP_BATCH_POLL_INTERVAL_MS = 5000       # DEFAULT_BATCH_POLL_INTERVAL_MS
PHP_BATCH_TIMEOUT_MS = 1_800_000        # DEFAULT_BATCH_TIMEOUT_MS


# One request with exactly the given headers (plus Host and, with a body,
# Content-Length).
php_wire = wire

# Enconvert\Exception: EnconvertException > ApiException (getStatusCode(),
# the message "[<status>] <message>") > AuthenticationException,
# QuotaException, RateLimitException
(PhpEnconvertException, PhpApiException, PhpAuthenticationException, PhpQuotaException,
 PhpRateLimitException, php_error_for) = exception_family(
    "Php", quota_default="Plan feature not enabled or quota exhausted",
    rate_limit_default="Rate limit exceeded")


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


def _php_list(d):
    # an empty PHP array, or one keyed 0..n-1, is a list
    return list(d.values()) if not d or list(d.keys()) == list(range(len(d))) else None


def _php_number(v):
    return _php_float(v) if isinstance(v, float) else str(int(v))


# json_encode($v) without flags, as Guzzle's `json` option sends it: "/" as
# "\/", non-ASCII as \uXXXX; a Python dict is a PHP array
php_json_encode = json_writer(
    lambda s: json.dumps(s, ensure_ascii=True).replace("/", "\\/"), _php_number,
    as_list=_php_list)


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


def php_num(v, fallback=0):
    return v if is_number(v) else fallback


def php_opt_num(v):
    return v if is_number(v) else None


# ---- transport ------------------------------------------------------------

def php_headers(key, json_body=False):
    """Client::request: X-API-Key merged first, Guzzle adds its User-Agent
    and, for the `json` option, Content-Type."""
    h = {"X-API-Key": key, "User-Agent": PHP_UA}
    if json_body:
        h["Content-Type"] = "application/json"
    return h


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


def php_to_job_status(d):
    """JobStatus::fromArray."""
    return {"status": php_str(d.get("status")),
            "presignedUrl": php_opt_str(d.get("presigned_url")),
            "objectKey": php_opt_str(d.get("object_key")), "error": php_opt_str(d.get("error"))}


def php_to_batch_status(d):
    """BatchStatus::fromArray (items that are not arrays read as empty ones)."""
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


class PhpSdk(SdkReplay):
    error = PhpApiException
    poll_interval = PHP_POLL_INTERVAL
    poll_max_wait = PHP_POLL_MAX_WAIT
    batch_interval = PHP_BATCH_POLL_INTERVAL_MS / 1000
    batch_timeout = PHP_BATCH_TIMEOUT_MS / 1000
    error_for = staticmethod(php_error_for)           # Support::raiseForStatus
    error_message = staticmethod(php_error_message)
    new_job_id = staticmethod(php_new_job_id)
    to_conversion_result = staticmethod(php_conversion_result)
    to_job_status = staticmethod(php_to_job_status)
    to_batch_status = staticmethod(php_to_batch_status)

    def send(self, base, key, method, path, body=None, post=None):
        """One request through the SDK's Guzzle client (base_uri + absolute
        path: only the origin of base counts)."""
        origin = urllib.parse.urlsplit(base.rstrip("/"))
        origin = f"{origin.scheme}://{origin.netloc}"
        headers = php_headers(key, body is not None)
        if post is not None:
            return post(origin, method, path, body, headers)
        return php_wire(origin, method, path, body, headers, timeout=PHP_REQUEST_TIMEOUT)

    def decode(self, body):
        data = _php_array(php_json_decode(body.decode("utf-8", errors="replace")))
        return data if data is not None else {}

    def encode(self, body, key_order=None):
        return php_json_encode(body).encode()

    def keep_job_id(self, data, job_id):
        return {"job_id": job_id, **data}              # array_merge: the answer's wins

    def failed_message(self, data):
        error = data["error"] if php_is_set(data, "error") else "Conversion failed"
        return error if isinstance(error, str) else "Conversion failed"   # kept when ""

    def saves(self, save_to):
        return not php_empty(save_to)

    def batch_timeout_message(self, batch_id, timeout):
        return f"Batch {batch_id} did not complete within {round(timeout * 1000)}ms"

    def download(self, url, dest):
        """Client::download: Guzzle without the key, redirects followed (max
        5), >= 400 removes dest and raises."""
        headers = {"User-Agent": PHP_UA}
        d = os.path.dirname(dest)
        if d not in ("", ".") and not os.path.isdir(d):
            os.makedirs(d, exist_ok=True)

        def too_many():
            raise PhpEnconvertException("Will not follow more than 5 redirects")
        resp = fetch(url, lambda origin, path: php_wire(origin, "GET", path, headers=headers),
                     6, too_many)
        with open(dest, "wb") as f:
            f.write(resp.body)
        if resp.status >= 400:
            os.unlink(dest)
            raise PhpApiException(resp.status, "Failed to download: " + http_reason(resp.status))

    def convert_url_to_pdf(self, base, key, url, opts=None, post=None, poll_max_wait=None):
        """Client::convertUrlToPdf($url, $opts). Returns the ConversionResult
        and the job_id it sent."""
        opts = dict(opts or {})
        body = php_build_url_body(url, opts)
        body["single_page"] = opts.get("singlePage") if opts.get("singlePage") is not None \
            else True
        if php_is_set(opts, "pdfOptions"):
            body["pdf_options"] = php_serialize_pdf_options(opts["pdfOptions"])
        return self.convert(base, key, PDF_ENDPOINT, body, opts.get("saveTo"), post,
                            poll_max_wait)

    def convert_url_to_screenshot(self, base, key, url, opts=None, post=None,
                                  poll_max_wait=None):
        """Client::convertUrlToScreenshot($url, $opts): buildUrlBody only."""
        opts = dict(opts or {})
        return self.convert(base, key, SCREENSHOT_ENDPOINT, php_build_url_body(url, opts),
                            opts.get("saveTo"), post, poll_max_wait)


PHP = PhpSdk()
php_download = PHP.download
php_convert_url_to_pdf = PHP.convert_url_to_pdf
php_convert_url_to_screenshot = PHP.convert_url_to_screenshot
php_get_job_status = PHP.get_job_status
php_get_batch_status = PHP.get_batch_status


def php_wait_for_batch(base, key, batch_id, interval_ms=PHP_BATCH_POLL_INTERVAL_MS,
                       timeout_ms=PHP_BATCH_TIMEOUT_MS, save_to=None):
    """Client::waitForBatch($batchId, ['intervalMs', 'timeoutMs', 'saveTo'])."""
    return PHP.wait_for_batch(base, key, batch_id, interval_ms / 1000, timeout_ms / 1000,
                              save_to)
