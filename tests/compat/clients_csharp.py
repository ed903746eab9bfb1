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

import http.client
import json
import os
import time
import urllib.parse

from clients import new_job_id   # Guid "N": 32 lower-case hex digits, as uuid4().hex

CS_SDK_VERSION = "0.1.1"
CS_UA = f"enconvert-sdk/{CS_SDK_VERSION} (csharp)"   # DefaultUserAgent
CS_JSON_CONTENT_TYPE = "application/json; charset=utf-8"
CS_POLL_INTERVAL = 3            # PollJobAsync intervalMs
CS_POLL_MAX_WAIT = 300          # PollJobAsync maxWaitMs
CS_BATCH_POLL_INTERVAL = 5      # DefaultBatchPollIntervalMs
CS_BATCH_TIMEOUT = 30 * 60      # DefaultBatchTimeoutMs
CS_TIMEOUT = 300                # DefaultTimeoutMs


class CSharpApiError(Exception):
    """ApiException and its subclasses: `kind` is "authentication"
    (AuthenticationException, 401/403, StatusCode always 401), "quota"
    (402), "rate_limit" (429) or "api"; Message is "[<status>] <message>"."""

    def __init__(self, status, message, kind="api"):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message
        self.kind = kind


class Answer:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


def send(base, method, path, body=None, headers=None, timeout=CS_TIMEOUT):
    """One HTTP/1.1 request with exactly these headers (Host and
    Content-Length added as HttpClient does, no Accept-Encoding)."""
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
        return Answer(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


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
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v).replace("e", "E")
    return str(v)


def cs_json(v):
    """JsonNode.ToJsonString(): compact, objects in insertion order."""
    if isinstance(v, dict):
        return "{" + ",".join(cs_string(k) + ":" + cs_json(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(cs_json(x) for x in v) + "]"
    if isinstance(v, str):
        return cs_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    return cs_number(v)


# ---- JsonHelpers ----------------------------------------------------------

def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def opt_str(o, k):
    v = o.get(k)
    return v if isinstance(v, str) else None


def str_(o, k, fallback=""):
    v = opt_str(o, k)
    return fallback if v is None else v


def opt_num(o, k):
    v = o.get(k)
    return float(v) if _is_num(v) else None


def opt_num_int(o, k):
    v = o.get(k)
    return int(v) if _is_num(v) else None     # (int)double: truncation


def num_int(o, k, fallback=0):
    v = opt_num_int(o, k)
    return fallback if v is None else v


def obj_arr(o, k):
    v = o.get(k)
    return [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []


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


def raise_for_status(resp):
    if resp.status < 400:
        return
    message = error_message(resp.body, resp.status)
    if resp.status in (401, 403):
        raise CSharpApiError(401, message, "authentication")
    kind = {402: "quota", 429: "rate_limit"}.get(resp.status, "api")
    raise CSharpApiError(resp.status, message, kind)


def cs_headers(key, json_body=False):
    h = {"User-Agent": CS_UA, "X-API-Key": key}
    if json_body:
        h["Content-Type"] = CS_JSON_CONTENT_TYPE
    return h


def cs_send(base, key, method, path, body=None, send_fn=None):
    """SendAsync: base + "/" + path without its leading slash."""
    url_path = urllib.parse.urlsplit(base.rstrip("/") + "/").path + path.lstrip("/")
    headers = cs_headers(key, body is not None)
    return (send_fn or send)(base, method, url_path, body, headers)


def cs_poll_job(base, key, job_id, max_wait=CS_POLL_MAX_WAIT, interval=CS_POLL_INTERVAL):
    deadline = time.time() + max_wait
    while time.time() < deadline:
        time.sleep(interval)
        resp = cs_send(base, key, "GET", f"/v1/convert/status/{job_id}")
        if resp.status == 404:
            continue
        raise_for_status(resp)
        data = parse_json_object(resp.body)
        status = opt_str(data, "status")
        if status == "success":
            return data
        if status == "failed":
            raise CSharpApiError(500, opt_str(data, "error") or "Conversion failed")
    raise CSharpApiError(504, "Conversion timed out")


def cs_post_json(base, key, endpoint, body, post=None, poll_max_wait=None):
    """PostJsonAsync with jobFallback: job_id appended last. `post` replaces
    the sending of the POST (same signature as send) to replay a lost
    answer or record the request."""
    job_id = new_job_id()
    body["job_id"] = job_id
    payload = cs_json(body).encode("utf-8")
    try:
        resp = cs_send(base, key, "POST", endpoint, payload, post)
        raise_for_status(resp)
        data = parse_json_object(resp.body)
        if "job_id" not in data:
            data["job_id"] = job_id
        return data, job_id
    except CSharpApiError as e:
        if e.status >= 500:
            return cs_poll_job(base, key, job_id, poll_max_wait or CS_POLL_MAX_WAIT), job_id
        raise


def cs_download(url, dest):
    """DownloadAsync: plain HttpClient (no key, no User-Agent), redirects
    followed; the bytes written to dest."""
    for _ in range(50):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "http", f"replay speaks plain http only: {url}"
        resp = send(f"{u.scheme}://{u.netloc}", "GET",
                    (u.path or "/") + ("?" + u.query if u.query else ""))
        if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        break
    if not 200 <= resp.status < 300:
        raise CSharpApiError(resp.status, f"Failed to download: {resp.reason}")
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(resp.body)


# ---- body builders --------------------------------------------------------

def cs_basic_auth(username, password):
    return {"username": username, "password": password}


def cs_cookie(name, value, domain=None, url=None, path=None, expires=None,
              http_only=None, secure=None, same_site=None):
    """BrowserCookie.ToJson: name, value, then the members that are set."""
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


def cs_pdf_options(page_size=None, page_width=None, page_height=None, orientation=None,
                   margins=None, scale=None, grayscale=None, header=None, footer=None):
    """SerializePdfOptions: only members set; doubles for the sizes."""
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


def cs_url_body(url, viewport_width=None, viewport_height=None, load_media=None,
                enable_scroll=None, output_filename=None, auth=None, cookies=None,
                headers=None):
    """BuildUrlBody + AppendBrowserAccess, in their order."""
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


# ---- public methods -------------------------------------------------------

def cs_convert_url_to_pdf(base, key, url, single_page=None, pdf_options=None, save_to=None,
                          post=None, poll_max_wait=None, **render):
    """ConvertUrlToPdfAsync -> (ConversionResult, the job_id it sent)."""
    body = cs_url_body(url, **render)
    body["single_page"] = True if single_page is None else single_page
    if pdf_options is not None:
        body["pdf_options"] = pdf_options
    data, job_id = cs_post_json(base, key, "/v1/convert/url-to-pdf", body, post, poll_max_wait)
    result = cs_to_conversion_result(data)
    if save_to is not None:
        cs_download(result["PresignedUrl"], save_to)
    return result, job_id


def cs_convert_url_to_screenshot(base, key, url, save_to=None, post=None, poll_max_wait=None,
                                 **render):
    """ConvertUrlToScreenshotAsync: BuildUrlBody only."""
    body = cs_url_body(url, **render)
    data, job_id = cs_post_json(base, key, "/v1/convert/url-to-screenshot", body, post,
                                poll_max_wait)
    result = cs_to_conversion_result(data)
    if save_to is not None:
        cs_download(result["PresignedUrl"], save_to)
    return result, job_id


def cs_get_job_status(base, key, job_id):
    resp = cs_send(base, key, "GET", f"/v1/convert/status/{job_id}")
    raise_for_status(resp)
    return cs_to_job_status(parse_json_object(resp.body))


def cs_get_batch_status(base, key, batch_id):
    resp = cs_send(base, key, "GET", f"/v1/convert/batch/{batch_id}")
    raise_for_status(resp)
    return cs_to_batch_status(parse_json_object(resp.body))


def cs_wait_for_batch(base, key, batch_id, interval=CS_BATCH_POLL_INTERVAL,
                      timeout=CS_BATCH_TIMEOUT, save_to=None):
    deadline = time.time() + timeout
    while True:
        status = cs_get_batch_status(base, key, batch_id)
        if status["Status"] != "processing":
            if save_to is not None:
                if status["ZipDownloadUrl"] is None:
                    raise CSharpApiError(500, f"Batch {batch_id} finished with status "
                                         f"'{status['Status']}' but no ZIP is available to save")
                cs_download(status["ZipDownloadUrl"], save_to)
            return status
        if time.time() >= deadline:
            raise CSharpApiError(504, f"Batch {batch_id} did not complete within "
                                 f"{int(timeout * 1000)}ms")
        time.sleep(interval)
