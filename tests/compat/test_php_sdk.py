"""The PHP SDK (enconvert/php-sdk) against this service, unmodified: what
only it does (tests/compat/clients_php.py has the replay; the flows every
SDK shares are in test_sdk_replays.py under [php]): json_encode's
escapes, its base URL handling and its options as a PHP caller writes them.
Its website, markdown, file-upload and V2 methods are not implemented by
this service and not tested."""

from clients_php import php_convert_url_to_pdf, php_convert_url_to_screenshot, php_json_encode
from sdk_cases import PHP_CASE as CASE, read


def test_php_json_encoding_of_the_replay():
    """The replay writes what json_encode writes."""
    assert php_json_encode({"url": "http://h/a?b=é&c=<d>", "n": 10, "f": 12.5, "g": 10.0,
                            "b": False, "l": [], "e": {}}) == \
        '{"url":"http:\\/\\/h\\/a?b=\\u00e9&c=<d>","n":10,"f":12.5,"g":10.0,' \
        '"b":false,"l":[],"e":[]}'


def test_base_url_with_trailing_slash(stack, site):
    """base_url is rtrim'd; Guzzle resolves the absolute paths against it."""
    result, _ = php_convert_url_to_pdf(stack.url + "/", stack.key, site.url + "/hello.html")
    CASE.assert_result(result, ".pdf")


def test_json_escapes_of_php_in_the_url(stack, site):
    """json_encode writes every "/" as \\/ and non-ASCII as \\uXXXX: the URL
    arrives intact."""
    url = site.url + "/hello.html?a=1&b=x/y&c=%C3%A9"
    result, _ = php_convert_url_to_pdf(stack.url, stack.key, url)
    CASE.assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url


def test_non_ascii_escapes_of_php_in_options(stack, site):
    """A non-ASCII output name goes out as \\uXXXX, a header value with
    slashes as \\/."""
    result, _ = php_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                       {"outputFilename": "r\u00e9sum\u00e9 \U0001F4C4",
                                        "headers": {"X-Note": "a/b </c>"}})
    CASE.assert_result(result, ".pdf")
    assert "sum" in result["filename"]


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """The options as a PHP caller writes them (ints stay ints), in the
    order buildUrlBody and serializePdfOptions put them."""
    result, _ = php_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html", {
        "viewportWidth": 1280, "viewportHeight": 800, "loadMedia": False,
        "enableScroll": False, "outputFilename": "php-report",
        "auth": {"username": "user", "password": "secret"},
        "cookies": [{"name": "session", "value": "abc", "url": site.url + "/"},
                    {"name": "pref", "value": "1", "domain": "127.0.0.1", "path": "/",
                     "httpOnly": True, "secure": False, "sameSite": "Lax"}],
        "headers": {"X-Php-Test": "1", "Accept-Language": "en"},
        "singlePage": False,
        "pdfOptions": {"pageSize": "A4", "orientation": "landscape",
                       "margins": {"top": 10, "bottom": 12.5, "left": 15, "right": 15},
                       "scale": 1, "grayscale": True,
                       "header": {"content": "PHP SDK", "height": 10},
                       "footer": {"content": "page", "height": 12}},
        "saveTo": str(tmp_path / "report.pdf")})
    CASE.assert_result(result, ".pdf")
    assert result["filename"].startswith("php-report")
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    result, _ = php_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html", {
        "pdfOptions": {"pageWidth": 210, "pageHeight": 297.5}})
    CASE.assert_result(result, ".pdf")

    shot, _ = php_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html", {
        "viewportWidth": 800, "viewportHeight": 600, "loadMedia": False,
        "enableScroll": False, "outputFilename": "php-shot"})
    CASE.assert_result(shot, ".png")
    assert shot["filename"].startswith("php-shot")
