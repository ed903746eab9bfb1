"""The C# SDK (enconvert/csharp-sdk, NuGet package `Enconvert`) replayed:
its exact requests and what it reads from our answers.

Followed files: src/EnconvertClient.cs (the constructor's base URL and
User-Agent, ConvertUrlToPdfAsync, ConvertUrlToScreenshotAsync,
GetJobStatusAsync, GetBatchStatusAsync, WaitForBatchAsync, PostJsonAsync,
PollJobAsync, DownloadAsync, SendAsync, JsonContentOf, BuildUrlBody,
ToConversionResult, ToJobStatus, ToBatchStatus; Version "0.1.1"),
src/Internal.cs (ParseJsonObjectAsync, RaiseForStatusAsync,
ExtractErrorMessageAsync, SerializePdfOptions, NewJobId, the HttpBasicAuth
and BrowserCookie ToJson, AppendBrowserAccess), src/Json/JsonHelpers.cs
(Str, OptStr, NumInt, OptNumInt, OptNum, ObjArr), src/Errors.cs
(ApiException, AuthenticationException, QuotaException,
RateLimitException) and src/Types.cs (ConversionResult, JobStatus,
BatchStatus, BatchItem, UrlRenderOptions, UrlToPdfOptions, PdfOptions,
WaitForBatchOptions).

What the SDK does on the wire:
- base URL: trailing slashes trimmed, paths joined under it
  (`new Uri(base + "/", path.TrimStart('/'))`);
- headers: `User-Agent: enconvert-sdk/0.1.1 (csharp)`, `X-API-Key`, and on
  a POST `Content-Type: application/json; charset=utf-8` (StringContent with
  Encoding.UTF8); .NET's HttpClient asks for no compression and sends no
  Accept;
- body: a System.Text.Json JsonObject, `ToJsonString()` with default
  options: compact, members in insertion order (url, direct_download,
  viewport_width, viewport_height, load_media, enable_scroll,
  output_filename?, auth?, cookies?, headers?, single_page, pdf_options?,
  then job_id LAST), unset options left out (no nulls), and the default
  JavaScriptEncoder: `"` `&` `'` `+` `<` `>` and backtick written as \\u0022
  \\u0026 \\u0027 \\u002B \\u003C \\u003E \\u0060, every non-ASCII character
  as \\uXXXX (upper-case hex, surrogate pairs), doubles shortest
  round-trip (10.0 is written 10);
- job_id: Guid.NewGuid().ToString("N"), 32 lower-case hex digits, sent by
  both URL conversions; on an ApiException >= 500 (any 5xx answer) the SDK
  polls GET /v1/convert/status/{its job_id}: wait 3 s, 404 goes on, other
  >= 400 raises, "success" returns that object, "failed" is ApiException
  500 with its `error` ("Conversion failed" when none); after 300 s
  ApiException 504 "Conversion timed out";
- a 2xx answer without job_id gets the sent one (PostJsonAsync);
- errors: 401/403 AuthenticationException (StatusCode 401), 402
  QuotaException, 429 RateLimitException, others ApiException(status);
  the message is a non-empty string `detail`, else a non-string `detail`
  re-serialized, else a non-empty string `error`, else a non-string
  `error` re-serialized, else the object; a body that is not a JSON object
  is used as is, an empty one is "HTTP <status>";
- reading: a body that is not a JSON object is an empty object; strings
  only from JSON strings, numbers (TryGetValue<double>) only from JSON
  numbers, ints truncated from the double; ConversionResult.Filename falls
  back to the object key's last segment; BatchStatus.ZipDownloadUrl is
  null unless a string;
- DownloadAsync: a second HttpClient without the key (no User-Agent
  either), redirects followed, non-2xx is ApiException "Failed to
  download: <reason>";
- WaitForBatchAsync: GetBatchStatusAsync until status != "processing"
  (every 5 s, 30 min), with SaveTo a null ZipDownloadUrl is ApiException
  500 "... but no ZIP is available to save", past the deadline 504.

Not replayed (not implemented by this service): ConvertUrlToMarkdownAsync,
ConvertWebsiteToPdfAsync / ConvertWebsiteToScreenshotAsync, the file
conversions (ConvertImageAsync, ConvertDocumentAsync, ConvertToPdfAsync,
ConvertToMarkdownAsync) and the V2 namespace. The SDK has no URL-array,
async_mode, whoami or download-by-key call."""

import functools
import json
import urllib.parse

from clients import new_job_id   # Guid "N": 32 lower-case hex digits, as uuid4().hex
from sdk_replay import (ApiError, SdkReplay, fetch, json_writer, kind_errors, member_float,
                        member_int, member_objects, member_str, save_file, shortest_double,
                        wire)

CS_SDK_VERSION = "0.1.1"
CS_UA = f"enconvert-sdk/{CS_SDK_VERSION} (csharp)"   # DefaultUserAgent
CS_JSON_CONTENT_TYPE = "application/json; charset=utf-8"
CS_POLL_INTERVAL = 3            # PollJobAsync intervalMs
CS_POLL_MAX_WAIT = 300          # PollJobAsync maxWaitMs
CS_BATCH_POLL_INTERVAL = 5      # DefaultBatchPollIntervalMs
CS_BATCH_TIMEOUT = 30 * 60      # DefaultBatchTimeoutMs
CS_TIMEOUT = 300                # DefaultTimeoutMs


class CSharpApiError(ApiError):
    """ApiException and its subclasses: `kind` is "authentication"
    (AuthenticationException, 401/403, StatusCode always 401), "quota"
    (402), "rate_limit" (429) or "api"; Message is "[<status>] <message>"."""


# One HTTP/1.1 request with exactly these headers (Host and Content-Length
# added as HttpClient does, no Accept-Encoding).
send = functools.partial(wire, timeout=CS_TIMEOUT)


# ---- System.Text.Json writer ---------------------------------------------

_CS_SAFE = set(chr(c) for c in range(0x20, 0x7F)) - set("\"&'+<>`\\")
_CS_SHORT = {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def cs_string(s):
    """A JSON string as Utf8JsonWriter writes it with JavaScriptEncoder.Default."""
    out = ['"']
    for ch in s:
        if ch in _CS_SAFE:
            out.append(ch)
        elif ch in _CS_SHORT:
            out.append(_CS_SHORT[ch])
        else:
            data = ch.encode("utf-16-be")
            for i in range(0, len(data), 2):
                out.append("\\u%04X" % int.from_bytes(data[i:i + 2], "big"))
    out.append('"')
    return "".join(out)


def cs_number(v):
    return shortest_double(v, "E")


# JsonNode.ToJsonString(): compact, objects in insertion order
cs_json = json_writer(cs_string, cs_number)


# ---- JsonHelpers: Str, OptStr, NumInt, OptNumInt, OptNum, ObjArr ------------

opt_str = member_str
str_ = functools.partial(member_str, fallback="")
opt_num = member_float
opt_num_int = member_int                      # (int)double: truncation
num_int = functools.partial(member_int, fallback=0)
obj_arr = member_objects


# ---- Internal -------------------------------------------------------------

def parse_json_object(body):
    """ParseJsonObjectAsync: empty -> {}; not an object -> {}; invalid JSON
    throws (a JsonException, not an ApiException)."""
    text = body.decode("utf-8")
    if not text:
        return {}
    data = json.loads(text)
    return data if isinstance(data, dict) else {}


def error_message(body, status):
    text = body.decode("utf-8", errors="replace")
    if not text:
        return f"HTTP {status}"
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        # a non-empty string member is taken as is; any other non-null
        # member (an empty string too) is re-serialized
        for k in ("detail", "error"):
            v = parsed.get(k)
            if isinstance(v, str) and v:
                return v
            if v is not None:
                return cs_json(v)
        return cs_json(parsed)
    return text


# ---- response mappers -----------------------------------------------------

def cs_to_conversion_result(d):
    object_key = opt_str(d, "object_key") or ""
    filename = opt_str(d, "filename")
    if filename is None:
        filename = object_key.rsplit("/", 1)[-1]
    return {"PresignedUrl": opt_str(d, "presigned_url") or "", "ObjectKey": object_key,
            "Filename": filename, "FileSize": opt_num_int(d, "file_size"),
            "ConversionTimeSeconds": opt_num(d, "conversion_time_seconds"),
            "JobId": opt_str(d, "job_id")}


def cs_to_job_status(d):
    return {"Status": str_(d, "status"), "PresignedUrl": opt_str(d, "presigned_url"),
            "ObjectKey": opt_str(d, "object_key"), "Error": opt_str(d, "error")}


def cs_to_batch_status(d):
    return {
        "BatchId": opt_str(d, "batch_id") or "", "Status": str_(d, "status"),
        "Total": num_int(d, "total"), "Completed": num_int(d, "completed"),
        "Failed": num_int(d, "failed"), "InProgress": num_int(d, "in_progress"),
        "OutputMode": str_(d, "output_mode"),
        "ZipDownloadUrl": opt_str(d, "zip_download_url"),
        "Items": [{"SourceUrl": opt_str(i, "source_url") or "",
                   "Status": opt_str(i, "status") or "",
                   "DownloadUrl": opt_str(i, "download_url"),
                   "OutputFileSize": opt_num_int(i, "output_file_size"),
                   "Duration": opt_str(i, "duration")} for i in obj_arr(d, "items")],
    }


# ---- the SDK ----------------------------------------------------------------

def cs_headers(key, json_body=False):
    h = {"User-Agent": CS_UA, "X-API-Key": key}
    if json_body:
        h["Content-Type"] = CS_JSON_CONTENT_TYPE
    return h


class CSharpSdk(SdkReplay):
    error = CSharpApiError
    poll_interval = CS_POLL_INTERVAL
    poll_max_wait = CS_POLL_MAX_WAIT
    batch_interval = CS_BATCH_POLL_INTERVAL
    batch_timeout = CS_BATCH_TIMEOUT
    PRESIGNED, STATUS, ZIP_URL = "PresignedUrl", "Status", "ZipDownloadUrl"
    error_for = staticmethod(kind_errors(CSharpApiError))
    error_message = staticmethod(error_message)
    decode = staticmethod(parse_json_object)      # ParseJsonObjectAsync
    new_job_id = staticmethod(new_job_id)
    to_conversion_result = staticmethod(cs_to_conversion_result)
    to_job_status = staticmethod(cs_to_job_status)
    to_batch_status = staticmethod(cs_to_batch_status)

    def send(self, base, key, method, path, body=None, post=None):
        """SendAsync: base + "/" + path without its leading slash."""
        url_path = urllib.parse.urlsplit(base.rstrip("/") + "/").path + path.lstrip("/")
        return (post or send)(base, method, url_path, body, cs_headers(key, body is not None))

    def encode(self, body, key_order=None):
        return cs_json(body).encode("utf-8")

    def download(self, url, dest):
        """DownloadAsync: plain HttpClient (no key, no User-Agent), redirects
        followed; the bytes written to dest."""
        resp = fetch(url, lambda origin, path: send(origin, "GET", path), 50)
        if not 200 <= resp.status < 300:
            raise CSharpApiError(resp.status, f"Failed to download: {resp.reason}")
        save_file(dest, resp.body)


CSHARP = CSharpSdk()
cs_basic_auth = CSHARP.basic_auth
cs_cookie = CSHARP.cookie                     # BrowserCookie.ToJson
cs_pdf_options = CSHARP.pdf_options           # SerializePdfOptions
cs_url_body = CSHARP.url_body                 # BuildUrlBody + AppendBrowserAccess
cs_download = CSHARP.download
cs_convert_url_to_pdf = CSHARP.convert_url_to_pdf
cs_convert_url_to_screenshot = CSHARP.convert_url_to_screenshot
cs_get_job_status = CSHARP.get_job_status
cs_get_batch_status = CSHARP.get_batch_status
cs_wait_for_batch = CSHARP.wait_for_batch
