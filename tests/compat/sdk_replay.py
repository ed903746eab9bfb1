"""What the vendor's SDK replays share, written once: the wire (one request
with exactly the given headers), the sync conversion with its job_id and its
fallback to polling GET /v1/convert/status/{its own job_id} after a 5xx,
getJobStatus/getBatchStatus, waitForBatch with saveTo, the error mapping of
the typed SDKs, the download of a presigned link and the body builders.

Each SDK is a small subclass of SdkReplay (clients.py: node SDK and Go SDK,
clients_<lang>.py: the others) that says what differs: its headers and
transport (`send`), its JSON writer (`encode`) and reader (`decode`), where
its job_id goes, how it reads an answer's members and maps errors, its
polling intervals and deadlines and its download. The flows below only call
those hooks, so every SDK's own wire behaviour stays its own.

Not replayed: the SDKs' website conversions (this service has them:
tests/e2e/test_website_capture.py), and what this service does not
implement: markdown conversion, file conversions and the v2 namespaces. These SDKs have no URL-array, async_mode, whoami
or download-by-key call."""

import http.client
import json
import os
import time
import urllib.parse

from stack import Response

STATUS_PATH = "/v1/convert/status/"
BATCH_PATH = "/v1/convert/batch/"
PDF_ENDPOINT = "/v1/convert/url-to-pdf"
SCREENSHOT_ENDPOINT = "/v1/convert/url-to-screenshot"
REDIRECTS = (301, 302, 303, 307, 308)
# the values of the SDKs' enums (JobStatusValue, BatchStatusValue, BatchOutputMode)
JOB_STATUS_VALUES = ("processing", "success", "failed")
BATCH_STATUS_VALUES = ("processing", "completed", "partial", "failed")
BATCH_OUTPUT_MODES = ("zip", "individual")
# the typed errors of the SDKs, by answer status (others: "api")
ERROR_KINDS = {401: "authentication", 403: "authentication", 402: "quota",
               429: "rate_limit"}


class Answer(Response):
    """An answer as an SDK's HTTP client sees it (the C# SDK also reads the
    reason phrase)."""

    def __init__(self, status, headers, body, reason=""):
        super().__init__(status, headers, body)
        self.reason = reason


def wire(base, method, path, body=None, headers=None, timeout=120, length_first=False):
    """One HTTP/1.1 request with exactly the given headers, plus Host and,
    with a body, Content-Length (after the headers, or before them with
    `length_first`): unlike tests/e2e/stack.py's request, no
    "Accept-Encoding: identity" of Python's http.client, which the SDKs'
    HTTP clients do not send."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if length_first and body is not None:
            conn.putheader("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if not length_first and body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), r.reason)
    finally:
        conn.close()


def target(u):
    """The request target of a split URL: path (or "/") and query."""
    return (u.path or "/") + ("?" + u.query if u.query else "")


class ApiError(Exception):
    """An SDK's API error with a `kind` (Go, Kotlin, C#, Swift): "api",
    "authentication", "quota", a rate-limit kind...; the message reads
    "[<status>] <message>" (just the message when there is no status)."""

    def __init__(self, status, message, kind="api"):
        super().__init__(message if status is None else f"[{status}] {message}")
        self.status = status
        self.message = message
        self.kind = kind


def kind_errors(cls, kinds=ERROR_KINDS, auth_status=401):
    """raiseForStatus of the SDKs with one error type and a kind: 401/403 is
    the authentication kind with status `auth_status` (None: the answer's),
    402 quota, 429 the rate limit, others "api"."""
    def error_for(status, message):
        kind = kinds.get(status, "api")
        if kind == "authentication" and auth_status is not None:
            status = auth_status
        return cls(status, message, kind)
    return error_for


def exception_family(sdk, quota_default=None, rate_limit_default=None):
    """The exception classes of the SDKs with one class per kind (Java,
    PHP): EnconvertException > ApiException(status, message) >
    AuthenticationException (always 401), QuotaException (402),
    RateLimitException (429). Returns them in that order and error_for,
    raiseForStatus's mapping of a status and message to one of them."""

    class EnconvertException(Exception):
        pass

    class ApiException(EnconvertException):
        def __init__(self, status, message):
            super().__init__(f"[{status}] {message}")
            self.status = status
            self.message = message

    class AuthenticationException(ApiException):
        def __init__(self, message="Invalid or missing API key"):
            super().__init__(401, message)

    class QuotaException(ApiException):
        def __init__(self, message=quota_default):
            super().__init__(402, message)

    class RateLimitException(ApiException):
        def __init__(self, message=rate_limit_default):
            super().__init__(429, message)

    family = (EnconvertException, ApiException, AuthenticationException, QuotaException,
              RateLimitException)
    for cls in family:
        cls.__name__ = cls.__qualname__ = sdk + cls.__name__
    typed = {401: AuthenticationException, 403: AuthenticationException,
             402: QuotaException, 429: RateLimitException}

    def error_for(status, message):
        cls = typed.get(status)
        return cls(message) if cls is not None else ApiException(status, message)
    return family + (error_for,)


def escaping_string(escapes):
    """A JSON string writer: the characters in `escapes` written as given,
    the other control characters as \\u00xx, everything else as is."""
    def string(s):
        out = ['"']
        for ch in s:
            if ch in escapes:
                out.append(escapes[ch])
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    return string


def shortest_double(v, exponent="e"):
    """A double as the shortest text that reads back the same, an integral
    one below 1e15 without a fraction (System.Text.Json, JSONSerialization);
    other numbers as they are."""
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v).replace("e", exponent)
    return str(v)


def object_or_empty(raw):
    """A JSON object; anything else (not JSON, not an object) is empty."""
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def json_writer(string, number, members=dict.items, as_list=None):
    """An SDK's compact JSON writer: `string` writes a string as its
    encoder escapes it, `number` a number as it formats it, `members(d)` an
    object's members in the order it writes them; `as_list(d)` (PHP's
    arrays) gives the values of an object written as an array, or None."""
    def write(v):
        if isinstance(v, dict):
            values = as_list(v) if as_list is not None else None
            if values is None:
                return "{" + ",".join(string(str(k)) + ":" + write(x)
                                      for k, x in members(v)) + "}"
            v = values
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(write(x) for x in v) + "]"
        if isinstance(v, str):
            return string(v)
        if v is True:
            return "true"
        if v is False:
            return "false"
        if v is None:
            return "null"
        return number(v)
    return write


# ---- lenient readers of an answer's members (the SDKs that read JSON into
# dynamic maps): strings only from JSON strings, numbers only from JSON
# numbers (not booleans), integers truncated

def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def member_str(o, k, fallback=None):
    v = o.get(k)
    return v if isinstance(v, str) else fallback


def member_int(o, k, fallback=None):
    v = o.get(k)
    return int(v) if is_number(v) else fallback


def member_float(o, k, fallback=None):
    v = o.get(k)
    return float(v) if is_number(v) else fallback


def member_objects(o, k):
    """An array member's objects (anything else in it skipped)."""
    v = o.get(k)
    return [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []


def fetch(url, get, attempts=1, too_many=None):
    """A download's GET of a presigned link (plain http here): `get(origin,
    target)` sends it as the SDK does; redirects are followed while
    `attempts` last (1: not followed); when they run out, `too_many()`
    raises (None: the last answer is returned)."""
    for _ in range(attempts):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "http", f"replay speaks plain http only: {url}"
        resp = get(f"{u.scheme}://{u.netloc}", target(u))
        if attempts > 1 and resp.status in REDIRECTS and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        return resp
    if too_many is not None:
        too_many()
    return resp


def save_file(dest, data):
    """The parent directories created, the file replaced."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(data)


def http_reason(status):
    return http.client.responses.get(status, "")


class SdkReplay:
    """An SDK's V1 URL calls. Subclasses set the attributes and hooks; the
    flows (post_json, poll_job, convert_*, get_*_status, wait_for_batch,
    the builders) are shared."""

    error = ApiError                 # what it raises for an API error: error(status, message)
    poll_interval = 3                # pollJob: wait before each GET
    poll_max_wait = 300              # pollJob: deadline
    batch_interval = 5               # waitForBatch: between polls
    batch_timeout = 30 * 60          # waitForBatch: deadline
    # the SDK's names of the result members (the node SDK's camelCase here)
    PRESIGNED, STATUS, ZIP_URL = "presignedUrl", "status", "zipDownloadUrl"

    # ---- hooks ------------------------------------------------------------

    def send(self, base, key, method, path, body=None, post=None):
        """One request as the SDK sends it (`post` replaces the sending)."""
        raise NotImplementedError

    def raise_for_status(self, resp):
        if resp.status >= 400:
            raise self.error_for(resp.status, self.error_message(resp.body, resp.status))

    def error_for(self, status, message):
        return self.error(status, message)

    def error_message(self, body, status):
        raise NotImplementedError

    def decode(self, body):
        """An answer body as the SDK reads it (a dict)."""
        raise NotImplementedError

    def decode_polled(self, body):
        """A status answer inside pollJob."""
        return self.decode(body)

    def new_job_id(self):
        raise NotImplementedError

    def with_job_id(self, body, job_id):
        """The body with the job_id where the SDK puts it: last by default."""
        body["job_id"] = job_id
        return body

    def encode(self, body, key_order=None):
        """The SDK's JSON writer (`key_order`: Swift's hash order)."""
        raise NotImplementedError

    def keep_job_id(self, data, job_id):
        """A success answer without job_id gets the sent one."""
        if "job_id" not in data:
            data["job_id"] = job_id
        return data

    def falls_back(self, exc):
        """Whether an error of the POST turns into pollJob."""
        return exc.status >= 500

    def polled_status(self, data):
        return data.get("status")

    def failed_message(self, data):
        """The error of a "failed" status inside pollJob."""
        error = data.get("error")
        return error if isinstance(error, str) and error else "Conversion failed"

    def saves(self, save_to):
        """Whether saveTo is set."""
        return save_to is not None

    def no_zip(self, zip_url):
        return zip_url is None

    def batch_timeout_message(self, batch_id, timeout):
        return f"Batch {batch_id} did not complete within {int(timeout * 1000)}ms"

    def download(self, url, dest):
        raise NotImplementedError

    def to_conversion_result(self, d):
        raise NotImplementedError

    def to_job_status(self, d):
        raise NotImplementedError

    def to_batch_status(self, d):
        raise NotImplementedError

    # builders: how the SDK writes a set option, a double, an object
    def is_set(self, v):
        return v is not None

    def integer(self, v):
        return v

    def double(self, v):
        return float(v)

    def expires(self, v):
        return float(v)

    def struct(self, *items, **members):
        return dict(*items, **members)

    # ---- shared flows ---------------------------------------------------------

    def request_json(self, base, key, method, path, body=None, post=None):
        resp = self.send(base, key, method, path, body, post)
        self.raise_for_status(resp)
        return self.decode(resp.body)

    def poll_job(self, base, key, job_id, max_wait=None, interval=None):
        """pollJob: wait, GET the status of its own job_id; 404 goes on,
        other >= 400 raises, "success" returns the status object, "failed"
        is error 500, past the deadline error 504 "Conversion timed out"."""
        deadline = time.time() + (max_wait or self.poll_max_wait)
        while time.time() < deadline:
            time.sleep(self.poll_interval if interval is None else interval)
            resp = self.send(base, key, "GET", STATUS_PATH + job_id)
            if resp.status == 404:
                continue
            self.raise_for_status(resp)
            data = self.decode_polled(resp.body)
            status = self.polled_status(data)
            if status == "success":
                return data
            if status == "failed":
                raise self.error(500, self.failed_message(data))
        raise self.error(504, "Conversion timed out")

    def post_json(self, base, key, endpoint, body, post=None, poll_max_wait=None,
                  key_order=None):
        """postJson with the job fallback: a fresh job_id in the body; an
        error the SDK falls back on turns into pollJob on that id. Returns
        the answer and the job_id sent."""
        job_id = self.new_job_id()
        payload = self.encode(self.with_job_id(body, job_id), key_order)
        try:
            data = self.request_json(base, key, "POST", endpoint, payload, post)
        except self.error as e:
            if self.falls_back(e):
                return self.poll_job(base, key, job_id, poll_max_wait), job_id
            raise
        return self.keep_job_id(data, job_id), job_id

    def convert(self, base, key, endpoint, body, save_to=None, post=None, poll_max_wait=None,
                key_order=None):
        data, job_id = self.post_json(base, key, endpoint, body, post, poll_max_wait, key_order)
        result = self.to_conversion_result(data)
        if self.saves(save_to):
            self.download(result[self.PRESIGNED], save_to)
        return result, job_id

    def convert_url_to_pdf(self, base, key, url, single_page=None, pdf_options=None,
                           save_to=None, post=None, poll_max_wait=None, key_order=None,
                           **render):
        """convertUrlToPdf: the URL body, single_page (default true),
        pdf_options when set -> (ConversionResult, the job_id it sent)."""
        body = self.url_body(url, **render)
        body["single_page"] = True if single_page is None else single_page
        if pdf_options is not None:
            body["pdf_options"] = pdf_options
        return self.convert(base, key, PDF_ENDPOINT, body, save_to, post, poll_max_wait,
                            key_order)

    def convert_url_to_screenshot(self, base, key, url, save_to=None, post=None,
                                  poll_max_wait=None, key_order=None, **render):
        """convertUrlToScreenshot: the URL body only."""
        return self.convert(base, key, SCREENSHOT_ENDPOINT, self.url_body(url, **render),
                            save_to, post, poll_max_wait, key_order)

    def get_job_status(self, base, key, job_id):
        return self.to_job_status(self.request_json(base, key, "GET", STATUS_PATH + job_id))

    def get_batch_status(self, base, key, batch_id):
        return self.to_batch_status(self.request_json(base, key, "GET", BATCH_PATH + batch_id))

    def wait_for_batch(self, base, key, batch_id, interval=None, timeout=None, save_to=None):
        """waitForBatch: getBatchStatus until status != "processing"; with
        saveTo the ZIP is downloaded (no ZIP: error 500); past the deadline
        error 504."""
        interval = self.batch_interval if interval is None else interval
        timeout = self.batch_timeout if timeout is None else timeout
        deadline = time.time() + timeout
        while True:
            status = self.get_batch_status(base, key, batch_id)
            if status[self.STATUS] != "processing":
                if self.saves(save_to):
                    if self.no_zip(status[self.ZIP_URL]):
                        raise self.error(500, f"Batch {batch_id} finished with status "
                                         f"'{status[self.STATUS]}' but no ZIP is available "
                                         "to save")
                    self.download(status[self.ZIP_URL], save_to)
                return status
            if time.time() >= deadline:
                raise self.error(504, self.batch_timeout_message(batch_id, timeout))
            time.sleep(interval)

    # ---- builders --------------------------------------------------------------

    def url_body(self, url, viewport_width=None, viewport_height=None, load_media=None,
                 enable_scroll=None, output_filename=None, auth=None, cookies=None,
                 headers=None):
        """buildUrlBody + appendBrowserAccess, in their order."""
        body = {"url": url, "direct_download": False,
                "viewport_width": 1920 if viewport_width is None else self.integer(viewport_width),
                "viewport_height": 1080 if viewport_height is None
                else self.integer(viewport_height),
                "load_media": True if load_media is None else load_media,
                "enable_scroll": True if enable_scroll is None else enable_scroll}
        if self.is_set(output_filename):
            body["output_filename"] = output_filename
        if auth is not None:
            body["auth"] = auth
        if cookies is not None:
            body["cookies"] = list(cookies)
        if headers is not None:
            body["headers"] = dict(headers)
        return body

    def basic_auth(self, username, password):
        return self.struct(username=username, password=password)

    def cookie(self, name, value, domain=None, url=None, path=None, expires=None,
               http_only=None, secure=None, same_site=None):
        """BrowserCookie: name, value, then the members that are set."""
        c = self.struct(name=name, value=value)
        for k, v in (("domain", domain), ("url", url), ("path", path)):
            if self.is_set(v):
                c[k] = v
        if expires is not None:
            c["expires"] = self.expires(expires)
        if http_only is not None:
            c["httpOnly"] = http_only
        if secure is not None:
            c["secure"] = secure
        if self.is_set(same_site):
            c["sameSite"] = same_site
        return c

    def pdf_options(self, page_size=None, page_width=None, page_height=None, orientation=None,
                    margins=None, scale=None, grayscale=None, header=None, footer=None):
        """serializePdfOptions: only the members set; doubles for sizes,
        margins (top, bottom, left, right), scale and header/footer heights."""
        out = {}
        if self.is_set(page_size):
            out["page_size"] = page_size
        if page_width is not None:
            out["page_width"] = self.double(page_width)
        if page_height is not None:
            out["page_height"] = self.double(page_height)
        if self.is_set(orientation):
            out["orientation"] = orientation
        if margins is not None:
            out["margins"] = self.struct((k, self.double(margins[k])) for k in
                                         ("top", "bottom", "left", "right")
                                         if margins.get(k) is not None)
        if scale is not None:
            out["scale"] = self.double(scale)
        if grayscale is not None:
            out["grayscale"] = grayscale
        for name, block in (("header", header), ("footer", footer)):
            if block is not None:
                s = self.struct()
                if self.is_set(block.get("content")):
                    s["content"] = block["content"]
                if block.get("height") is not None:
                    s["height"] = self.double(block["height"])
                out[name] = s
        return out
