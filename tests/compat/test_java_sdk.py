"""The Java SDK (enconvert/java-sdk) against this service, unmodified:
what only it does (tests/compat/clients_java.py has the replay; the flows
every SDK shares are in test_sdk_replays.py under [java]): Gson's
encoding, its base URL handling and its options. Its website, markdown,
file-upload and V2 methods are not implemented by this service and not
tested."""

from clients_java import (JDouble, JLong, gson_to_json, java_basic_auth, java_convert_url_to_pdf,
                          java_convert_url_to_screenshot, java_cookie, java_pdf_options)
from sdk_cases import JAVA_CASE as CASE, read


def test_gson_encoding_of_the_replay():
    """The replay writes what new Gson().toJson writes."""
    assert gson_to_json({"url": "http://h/a?b=é&c=<d>'", "n": 10, "d": JDouble(10),
                         "l": JLong(5), "skip": None, "b": False}) == \
        '{"url":"http://h/a?b\\u003dé\\u0026c\\u003d\\u003cd\\u003e\\u0027","n":10,' \
        '"d":10.0,"l":5,"b":false}'


def test_base_url_with_trailing_slashes(stack, site):
    """The constructor strips trailing slashes before baseUrl + path."""
    result, _ = java_convert_url_to_pdf(stack.url + "//", stack.key, site.url + "/hello.html")
    CASE.assert_result(result, ".pdf")


def test_json_escapes_of_gson_in_the_url(stack, site):
    """Gson writes =, &, ' as \\u003d, \\u0026, \\u0027: the URL arrives
    intact."""
    url = site.url + "/hello.html?a=1&b='x'&c=%C3%A9"
    result, _ = java_convert_url_to_pdf(stack.url, stack.key, url)
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url


def test_non_ascii_in_options(stack, site):
    """Gson sends non-ASCII as UTF-8 bytes, HTML characters escaped."""
    result, _ = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                        output_filename="r\u00e9sum\u00e9 \U0001F4C4",
                                        headers={"X-Note": "a=b & <c>"})
    CASE.assert_result(result, ".pdf")
    assert "sum" in result["filename"]


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """UrlToPdfOptions as the SDK puts them on the wire: insertion order,
    Doubles for every PDF size (10 -> 10.0), a Long cookie expiry."""
    result, _ = java_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=java_pdf_options(page_size="A4", orientation="landscape",
                                     margins={"top": 10, "bottom": 12.5, "left": 15,
                                              "right": 15},
                                     scale=1, grayscale=True,
                                     header={"content": "Java SDK", "height": 10},
                                     footer={"content": "page", "height": 12}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="java-report",
        auth=java_basic_auth("user", "secret"),
        cookies=[java_cookie("session", "abc", url=site.url + "/"),
                 java_cookie("pref", "1", domain="127.0.0.1", path="/",
                             expires=4102444800, http_only=True, secure=False,
                             same_site="Lax")],
        headers={"X-Java-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    CASE.assert_result(result, ".pdf")
    assert result["filename"].startswith("java-report")
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    result, _ = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                        pdf_options=java_pdf_options(page_width=210,
                                                                     page_height=297.5))
    CASE.assert_result(result, ".pdf")

    shot, _ = java_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                             viewport_width=800, viewport_height=600,
                                             load_media=False, enable_scroll=False,
                                             output_filename="java-shot")
    CASE.assert_result(shot, ".png")
    assert shot["filename"].startswith("java-shot")
