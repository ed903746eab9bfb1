"""Full-page screenshots of pages taller than one snapshot can be (issue:
hardening, defect 4): a 40,000 px page is captured in tiles and assembled,
as PNG and as JPEG, at the viewport's width and the page's height. The page
is bands of known colours whose edges fall inside tiles and across tile
boundaries; sampled rows show the tiles are in order, without gaps or
repeats. A fixed header shows once, at the top. WebP cannot hold the page
and fails with a clear error."""

import pytest

from stack import (LoopbackServer, _QuietHandler, decoded_image, jpeg_size, png_size,
                   send_html)

SHOT = "/v1/convert/url-to-screenshot"
PAGE_HEIGHT = 40000
BAND = 700       # no multiple of the viewport height: edges move across tiles
WIDTH, VIEWPORT_HEIGHT = 400, 900
HEADER = 40      # the fixed header's height
HEADER_RGB = (255, 0, 255)


def band_rgb(i):
    """The colour of band i: neighbours differ in every channel."""
    return ((i * 67 + 20) % 200 + 20, (i * 139 + 90) % 200 + 20, (i * 31 + 150) % 200 + 20)


def page():
    bands = []
    y = 0
    i = 0
    while y < PAGE_HEIGHT:
        h = min(BAND, PAGE_HEIGHT - y)
        r, g, b = band_rgb(i)
        bands.append(f'<div style="height:{h}px;background:rgb({r},{g},{b})"></div>')
        y += h
        i += 1
    r, g, b = HEADER_RGB
    return ("<!doctype html><title>Tall</title><style>body{margin:0}</style>"
            f'<div style="position:fixed;top:0;left:0;right:0;height:{HEADER}px;'
            f'background:rgb({r},{g},{b})"></div>' + "".join(bands)).encode()


def serving(body):
    """A loopback site answering every GET with the HTML `body`, for as
    long as the generator runs (a fixture's)."""
    class Handler(_QuietHandler):
        def do_GET(self):
            send_html(self, body)

    site = LoopbackServer(Handler)
    yield site
    site.close()


@pytest.fixture(scope="module")
def tall_site():
    yield from serving(page())


def shoot(stack, url, fmt):
    r = stack.call("POST", SHOT, {"url": url, "image_format": fmt, "full_page": True,
                                  "viewport_width": WIDTH, "viewport_height": VIEWPORT_HEIGHT,
                                  "wait_until": "load", "timeout": 120}, timeout=180)
    return r


def expected_at(y):
    """The page's colour at row y, below the fixed header's first place."""
    return band_rgb(y // BAND)


def sample_rows():
    """Rows next to every tile boundary and every band edge, and inside
    bands."""
    rows = set()
    for edge in range(VIEWPORT_HEIGHT, PAGE_HEIGHT, VIEWPORT_HEIGHT):
        rows.update({edge - 1, edge, edge + 1})
    for edge in range(BAND, PAGE_HEIGHT, BAND):
        rows.update({edge - 1, edge})
    rows.update(range(HEADER, PAGE_HEIGHT, 97))
    rows.add(PAGE_HEIGHT - 1)
    return sorted(rows)


def check_image(data, tolerance, away_from_edges):
    width, height, stride, channels, px = decoded_image(data)
    assert (width, height) == (WIDTH, PAGE_HEIGHT)

    def at(x, y):
        o = y * stride + x * channels
        return tuple(px[o:o + 3])

    def close(a, b):
        return all(abs(p - q) <= tolerance for p, q in zip(a, b))

    # The fixed header shows once, at the top, and not at the top of the
    # other tiles.
    assert close(at(WIDTH // 2, HEADER // 2), HEADER_RGB), at(WIDTH // 2, HEADER // 2)
    for y in (VIEWPORT_HEIGHT + HEADER // 2, 10 * VIEWPORT_HEIGHT + HEADER // 2):
        assert close(at(WIDTH // 2, y), expected_at(y)), (y, at(WIDTH // 2, y))

    wrong = []
    for y in sample_rows():
        # JPEG blurs across band edges (8 px blocks, subsampled chroma).
        if away_from_edges and (min(y % BAND, BAND - y % BAND) < 16 or y < HEADER + 16):
            continue
        for x in (0, WIDTH // 2, WIDTH - 1):
            if not close(at(x, y), expected_at(y)):
                wrong.append((x, y, at(x, y), expected_at(y)))
    assert not wrong, f"{len(wrong)} wrong pixels, first: {wrong[:5]}"


def test_tall_page_as_png_is_whole_and_in_order(stack, tall_site):
    r = shoot(stack, tall_site.base + "/", "png")
    assert r.status == 200, r
    file = stack.download(r.json()["presigned_url"])
    assert file.status == 200, file
    assert png_size(file.body) == (WIDTH, PAGE_HEIGHT)
    check_image(file.body, tolerance=0, away_from_edges=False)


def test_tall_page_as_jpeg_is_whole_and_in_order(stack, tall_site):
    r = shoot(stack, tall_site.base + "/", "jpeg")
    assert r.status == 200, r
    file = stack.download(r.json()["presigned_url"])
    assert file.status == 200, file
    assert jpeg_size(file.body) == (WIDTH, PAGE_HEIGHT)
    check_image(file.body, tolerance=12, away_from_edges=True)


def test_tall_page_as_webp_fails_clearly(stack, tall_site):
    r = shoot(stack, tall_site.base + "/", "webp")
    assert r.status == 422, r
    body = r.json()
    assert body["error"] == "print_failed", body
    assert "40000 px tall" in body["detail"] and "WebP" in body["detail"], body


@pytest.fixture(scope="module")
def wide_site():
    yield from serving(b'<!doctype html><body style="margin:0">'
                       b'<div style="width:32000px;height:3000px;'
                       b'background:linear-gradient(90deg,#f00,#00f)"></div>')


def test_a_page_wider_than_an_image_is_captured_in_tiles_of_the_viewport(stack, wide_site):
    """32,000 px wide: the one-piece snapshot held the whole width in
    memory (3 GB in the renderer, 2 GB in its web process) only to crop it
    to 16,384 px; it is captured in tiles of the viewport's width."""
    r = shoot(stack, wide_site.base + "/", "png")
    assert r.status == 200, r
    file = stack.download(r.json()["presigned_url"])
    assert file.status == 200, file
    assert png_size(file.body) == (WIDTH, 3000)


def test_a_page_wider_than_an_image_as_webp_fails_clearly(stack, wide_site):
    """WebP has no row encoder, so no tiles: the one-piece snapshot of a
    page 32,000 px wide held 3 GB in the renderer (and 2 GB in its web
    process) only to be cut to 16,383 px. A clear failure instead, as for a
    page too tall."""
    r = shoot(stack, wide_site.base + "/", "webp")
    assert r.status == 422, r
    body = r.json()
    assert body["error"] == "print_failed", body
    assert "32000 px wide" in body["detail"] and "WebP" in body["detail"], body
