"""The Go SDK (enconvert/go-sdk) against this service, unmodified: what
only it does (tests/compat/clients.py has the replay; the flows every SDK
shares are in test_sdk_replays.py under [go]): json.Marshal's escapes and
its options (sorted map keys, structs in field order)."""

from clients import (go_basic_auth, go_convert_url_to_pdf, go_convert_url_to_screenshot,
                     go_cookie, go_pdf_options)
from sdk_cases import GO_CASE as CASE, read


def test_json_escapes_of_go_in_the_url(stack, site):
    """json.Marshal writes & as \\u0026: the URL arrives intact."""
    url = site.url + "/hello.html?a=1&b=2"
    result, _ = go_convert_url_to_pdf(stack.url, stack.key, url)
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['JobID']}")
    assert r.status == 200 and r.json()["url"] == url


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """URLRenderOptions and PDFOptions as the SDK puts them on the wire:
    sorted map keys, structs in field order without empty members."""
    result, _ = go_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=go_pdf_options(page_size="A4", orientation="landscape",
                                   margins={"top": 10, "bottom": 12.5}, scale=1,
                                   grayscale=True, header={"content": "Go SDK", "height": 10},
                                   footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="go-report",
        auth=go_basic_auth("user", "secret"),
        cookies=[go_cookie("session", "abc", url=site.url + "/"),
                 go_cookie("pref", "1", domain="127.0.0.1", path="/", http_only=True,
                           secure=False, same_site="Lax")],
        headers={"X-Go-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    CASE.assert_result(result, ".pdf")
    assert result["Filename"].startswith("go-report")
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = go_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                           viewport_width=800, viewport_height=600,
                                           load_media=False, enable_scroll=False,
                                           output_filename="go-shot")
    CASE.assert_result(shot, ".png")
    assert shot["Filename"].startswith("go-shot")
