"""The Kotlin SDK (enconvert/kotlin-sdk) against this service, unmodified:
what only it does (tests/compat/clients_kotlin.py has the replay; the flows
every SDK shares, with its exact request, are in test_sdk_replays.py under
[kotlin]). Its bodies come from kotlinx.serialization: job_id first,
Doubles as `10.0` and `1.893456E9`; it reads counts and sizes only from
integer literals."""

import re

from clients_kotlin import (kotlin_convert_url_to_pdf, kotlin_cookie, kotlin_pdf_options,
                            send)
from sdk_cases import KOTLIN_CASE as CASE, Recorder
from stack import pdftotext


def test_doubles_of_kotlinx_serialization(stack, site):
    """PdfOptions and cookie expiry are Doubles: Kotlin writes 10.0 as
    `10.0` and 1893456000.0 as `1.893456E9`; both are plain JSON numbers."""
    rec = Recorder(send)
    result, _ = kotlin_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html", post=rec,
        pdf_options=kotlin_pdf_options(page_width=210, page_height=297,
                                       margins={"top": 10, "left": 12.5}, scale=1,
                                       header={"content": "Kotlin", "height": 12}),
        cookies=[kotlin_cookie("pref", "1", domain="127.0.0.1", expires=1893456000)],
        output_filename="kotlin-doubles")
    body = rec.sent[0][2].decode()
    for text in ('"page_width":210.0', '"top":10.0', '"left":12.5', '"scale":1.0',
                 '"height":12.0', '"expires":1.893456E9'):
        assert text in body, text
    CASE.assert_result(result, ".pdf")
    assert result["filename"] == "kotlin-doubles.pdf"


def test_json_escapes_of_kotlinx_serialization(stack, site):
    """Only `"`, `\\` and control characters are escaped; `/`, `&`, `<` and
    non-ASCII go as they are: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder(send)
    result, _ = kotlin_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=kotlin_pdf_options(
            header={"content": '<b title="t">Caf\u00e9</b> &amp; \'A/B\' +1'}))
    body = rec.sent[0][2]
    assert ('<b title=\\"t\\">Caf\u00e9</b>'.encode()) in body and url.encode() in body
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["presignedUrl"]).body).split())
    assert "Caf\u00e9 & 'A/B' +1" in text


def test_counts_and_sizes_are_integer_literals(stack, site):
    """intOrNull/longOrNull read only integer literals: a 12.0 would be a
    null file size and a 0 count. Our answers, as sent."""
    result, sent_id = kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for job_id in (result["jobId"], sent_id):
        r = stack.call("GET", f"/v1/convert/status/{job_id}")
        assert r.status == 200, r
        assert re.search(rb'"file_size":\s*[0-9]+[,}]', r.body), r.body
        assert re.search(rb'"conversion_time_seconds":\s*[0-9.eE+-]+[,}]', r.body), r.body
