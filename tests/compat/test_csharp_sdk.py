"""The C# SDK (enconvert/csharp-sdk) against this service, unmodified:
what only it does (tests/compat/clients_csharp.py has the replay; the flows
every SDK shares, with its exact request, are in test_sdk_replays.py under
[csharp]). Its bodies come from System.Text.Json with the default
JavaScriptEncoder."""

from clients_csharp import cs_convert_url_to_pdf, cs_pdf_options, send
from sdk_cases import CSHARP_CASE as CASE, Recorder
from stack import pdftotext


def test_json_escapes_of_system_text_json(stack, site):
    """The default JavaScriptEncoder writes & + ' as \\u0026 \\u002B \\u0027,
    < > as \\u003C \\u003E and non-ASCII as \\uXXXX: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder(send)
    result, _ = cs_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=cs_pdf_options(header={"content": "<b>Caf\u00e9</b> &amp; 'C#' +1"}))
    body = rec.sent[0][2].decode("ascii")
    for esc in ("\\u0026", "\\u002B", "\\u0027", "\\u003C", "\\u003E", "\\u00E9"):
        assert esc in body, esc
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['JobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["PresignedUrl"]).body).split())
    assert "Caf\u00e9 & 'C#' +1" in text
