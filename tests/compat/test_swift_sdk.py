"""The Swift SDK (enconvert/swift-sdk) against this service, unmodified:
what only it does (tests/compat/clients_swift.py has the replay; the flows
every SDK shares, with its exact request, are in test_sdk_replays.py under
[swift]). Its bodies come from JSONSerialization: keys in any order, `/`
escaped as `\\/`."""

import json
import random

from clients_swift import send, swift_convert_url_to_pdf, swift_pdf_options
from sdk_cases import SWIFT_CASE as CASE, Recorder
from stack import pdftotext


def test_any_key_order_of_json_serialization(stack, site):
    """Swift's Dictionary has no stable order: the same request with its
    keys (nested ones too) in other orders, job_id first or last."""
    orders = set()
    for seed in range(4):
        rec = Recorder(send)
        result, _ = swift_convert_url_to_pdf(
            stack.url, stack.key, site.url + "/hello.html", post=rec,
            rng=random.Random(seed),
            pdf_options=swift_pdf_options(page_size="A4", margins={"top": 10, "left": 12.5},
                                          header={"content": "Swift", "height": 12}),
            output_filename="swift-order")
        CASE.assert_result(result, ".pdf")
        assert result["filename"] == "swift-order.pdf"
        orders.add(tuple(json.loads(rec.sent[0][2])))
    assert len(orders) > 1


def test_json_escapes_of_json_serialization(stack, site):
    """`/` is written `\\/`, non-ASCII as raw UTF-8: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder(send)
    result, _ = swift_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=swift_pdf_options(header={"content": "<b>Caf\u00e9</b> &amp; 'A/B' +1"}))
    body = rec.sent[0][2]
    assert "Caf\u00e9".encode() in body and b"<\\/b>" in body
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["presignedUrl"]).body).split())
    assert "Caf\u00e9 & 'A/B' +1" in text
