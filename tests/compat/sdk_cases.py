"""The SDK replays as the compatibility tests drive them: one Case per SDK
(Kotlin, Swift, C#, Java, PHP, Go) with what its tests expect differently
(the SDK's names of the result members, how an absent string reads, its
error types, how its options are passed, the exact request it sends), and
the helpers the test files share (the lost answer, the recorder, the result
checks). test_sdk_replays.py runs the tests that hold for several SDKs over
these cases; test_<sdk>_sdk.py keep the ones of one SDK."""

import json

from clients import GO
from clients_csharp import CS_JSON_CONTENT_TYPE, CS_UA, CSHARP
from clients_java import JAVA, JavaAuthenticationException, java_wait_for_batch
from clients_kotlin import JDK_H2C_UPGRADE, KOTLIN, KOTLIN_UA
from clients_php import PHP, PhpAuthenticationException, php_wait_for_batch
from clients_swift import SWIFT, SWIFT_UA, URLSESSION_HEADERS
from sdk_replay import Answer, wire
from stack import request

import clients_csharp
import clients_kotlin
import clients_swift

PNG = b"\x89PNG\r\n\x1a\n"
# bounds of the tests' own waits: the SDKs' intervals, shorter deadlines
POLL_MAX_WAIT = 120
BATCH_TIMEOUT = 120


def bad_gateway():
    return Answer(502, {"content-type": "application/json"}, b'{"error":"bad gateway"}',
                  "Bad Gateway")


def lost_answer_via(send):
    """A `post` for the SDK whose requests go out through `send`: the POST
    reaches the service, but the SDK sees a 502 (a proxy in between gave
    up): it then polls GET /v1/convert/status/{its job_id}."""
    def lost_answer(base, method, path, body, headers):
        send(base, method, path, body, headers)
        return bad_gateway()
    return lost_answer


class Recorder:
    """Sends the POST unchanged (through `send`) and keeps what went on the
    wire."""

    def __init__(self, send):
        self.send = send
        self.sent = []

    def __call__(self, base, method, path, body, headers):
        self.sent.append((method, path, body, dict(headers)))
        return self.send(base, method, path, body, headers)

    def job_ids(self):
        return [json.loads(body)["job_id"] for _, _, body, _ in self.sent]


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Case:
    """One SDK in the shared tests. `names` maps the node SDK's member names
    (presignedUrl, jobId, ...) to the SDK's own; `absent` is how it reads a
    missing string member; `seconds` the type(s) of conversionTimeSeconds."""

    bad_key = "sk_live_" + "g" * 40
    names = {}
    absent = None
    seconds = float
    output_format = "zip"                    # how the test asks the service for a ZIP batch
    # its names in the option values of test_every_option_the_sdk_sends
    label = slug = header_label = None

    def __init__(self, name, sdk, send):
        self.name = name
        self.sdk = sdk
        self.send = send
        self.lost_answer = lost_answer_via(send)
        self.error = sdk.error

    def __repr__(self):
        return self.name

    def f(self, member):
        return self.names.get(member, member)

    def get(self, obj, *members):
        return tuple(obj[self.f(m)] for m in members)

    # the SDK's calls, keyword options as the node SDK names them
    def pdf(self, base, key, url, **kw):
        return self.sdk.convert_url_to_pdf(base, key, url, **kw)

    def shot(self, base, key, url, **kw):
        return self.sdk.convert_url_to_screenshot(base, key, url, **kw)

    def converts(self):
        return (self.pdf, self.shot)

    def job_status(self, base, key, job_id):
        return self.sdk.get_job_status(base, key, job_id)

    def batch_status(self, base, key, batch_id):
        return self.sdk.get_batch_status(base, key, batch_id)

    def wait(self, base, key, batch_id, save_to=None):
        return self.sdk.wait_for_batch(base, key, batch_id, timeout=BATCH_TIMEOUT,
                                       save_to=save_to)

    # what its errors look like
    def assert_api_error(self, e, status):
        assert (e.status, e.kind) == (status, "api"), e

    def assert_auth_error(self, e):
        assert (e.status, e.kind) == (401, "authentication"), e

    def check_post(self, body, headers, key, url, sent_id):
        """The POST of a plain convertUrlToPdf as the SDK sends it."""

    # the result checks
    def assert_result(self, result, ext):
        presigned, object_key, filename, size, seconds, job_id = self.get(
            result, "presignedUrl", "objectKey", "filename", "fileSize",
            "conversionTimeSeconds", "jobId")
        assert isinstance(presigned, str) and presigned.startswith("http")
        assert object_key.startswith("live/files/") and object_key.endswith(ext)
        assert filename.endswith(ext)
        assert isinstance(size, int) and size > 0
        assert isinstance(seconds, self.seconds) and seconds >= 0
        assert isinstance(job_id, str) and job_id

    def assert_failed_status(self, status):
        """getJobStatus of a failed job: the clients' sync vocabulary."""
        assert status[self.f("status")] == "failed"
        error = status[self.f("error")]
        assert isinstance(error, str) and error
        assert self.get(status, "presignedUrl", "objectKey") == (self.absent, self.absent)


class KotlinCase(Case):
    label, slug, header_label = "Kotlin", "kotlin", "Kotlin"

    def check_post(self, body, headers, key, url, sent_id):
        """job_id first, kotlinx.serialization's compact form."""
        assert headers == {**JDK_H2C_UPGRADE, "X-API-Key": key, "User-Agent": KOTLIN_UA,
                           "content-type": "application/json"}
        assert body == ('{"job_id":"%s","url":"%s","direct_download":false,"viewport_width":1920,'
                        '"viewport_height":1080,"load_media":true,"enable_scroll":true,'
                        '"single_page":true}' % (sent_id, url)).encode()


class SwiftCase(Case):
    label, slug, header_label = "Swift", "swift", "Swift"

    def check_post(self, body, headers, key, url, sent_id):
        """URLSession's headers, JSONSerialization's `\\/`."""
        assert headers == {"X-API-Key": key, "User-Agent": SWIFT_UA,
                           "content-type": "application/json", **URLSESSION_HEADERS}
        assert b"http:\\/\\/127.0.0.1" in body
        assert json.loads(body)["job_id"] == sent_id


class CSharpCase(Case):
    label, slug, header_label = "C#", "cs", "CSharp"
    names = {k: k[0].upper() + k[1:] for k in (
        "presignedUrl", "objectKey", "filename", "fileSize", "conversionTimeSeconds", "jobId",
        "status", "error", "batchId", "total", "completed", "failed", "inProgress",
        "outputMode", "zipDownloadUrl", "items", "sourceUrl", "downloadUrl",
        "outputFileSize", "duration")}

    def check_post(self, body, headers, key, url, sent_id):
        """Its headers, job_id last."""
        assert headers == {"User-Agent": CS_UA, "X-API-Key": key,
                           "Content-Type": CS_JSON_CONTENT_TYPE}
        assert list(json.loads(body)) == ["url", "direct_download", "viewport_width",
                                          "viewport_height", "load_media", "enable_scroll",
                                          "single_page", "job_id"]
        assert json.loads(body)["job_id"] == sent_id


class TypedErrorsCase(Case):
    """Java and PHP: an exception class per kind."""

    auth_error = None
    wait_for_batch = None                    # waitForBatch with its options in milliseconds

    def wait(self, base, key, batch_id, save_to=None):
        return type(self).wait_for_batch(base, key, batch_id, timeout_ms=BATCH_TIMEOUT * 1000,
                                         save_to=save_to)

    def assert_api_error(self, e, status):
        assert type(e) is self.error and e.status == status, e

    def assert_auth_error(self, e):
        assert isinstance(e, self.auth_error) and e.status == 401, e


class JavaCase(TypedErrorsCase):
    bad_key = "sk_live_" + "j" * 40
    auth_error = JavaAuthenticationException
    wait_for_batch = java_wait_for_batch
    output_format = True


class PhpCase(TypedErrorsCase):
    bad_key = "sk_live_" + "p" * 40
    auth_error = PhpAuthenticationException
    wait_for_batch = php_wait_for_batch
    seconds = (int, float)                   # a PHP number as the JSON wrote it

    def pdf(self, base, key, url, save_to=None, **kw):
        return self.sdk.convert_url_to_pdf(base, key, url, {"saveTo": save_to}, **kw)

    def shot(self, base, key, url, save_to=None, **kw):
        return self.sdk.convert_url_to_screenshot(base, key, url, {"saveTo": save_to}, **kw)


class GoCase(Case):
    names = {"presignedUrl": "PresignedURL", "objectKey": "ObjectKey",
             "filename": "Filename", "fileSize": "FileSize",
             "conversionTimeSeconds": "ConversionTimeSeconds", "jobId": "JobID",
             "status": "Status", "error": "Error", "batchId": "BatchID", "total": "Total",
             "completed": "Completed", "failed": "Failed", "inProgress": "InProgress",
             "outputMode": "OutputMode", "zipDownloadUrl": "ZipDownloadURL", "items": "Items",
             "sourceUrl": "SourceURL", "downloadUrl": "DownloadURL",
             "outputFileSize": "OutputFileSize", "duration": "Duration"}
    absent = ""                              # Go strings: the zero value


KOTLIN_CASE = KotlinCase("kotlin", KOTLIN, clients_kotlin.send)
SWIFT_CASE = SwiftCase("swift", SWIFT, clients_swift.send)
CSHARP_CASE = CSharpCase("csharp", CSHARP, clients_csharp.send)
JAVA_CASE = JavaCase("java", JAVA, wire)
PHP_CASE = PhpCase("php", PHP, wire)
GO_CASE = GoCase("go", GO, request)

ALL = [KOTLIN_CASE, SWIFT_CASE, CSHARP_CASE, JAVA_CASE, PHP_CASE, GO_CASE]
# the SDKs whose tests had the same steps (C#, Kotlin, Swift: the same SDK
# generation) and those with a per-kind exception family
KSC = [KOTLIN_CASE, SWIFT_CASE, CSHARP_CASE]
WITHOUT_GO = [KOTLIN_CASE, SWIFT_CASE, CSHARP_CASE, JAVA_CASE, PHP_CASE]
