"""The vendor clients' page fields (docs/rendering.md, "Page fields"), each
shown by its effect on a loopback page: enable_scroll loads a lazy image
(an observer's, a scroll listener's, a native lazy one) and leaves a page
that watches nothing unscrolled,
load_media false fetches no image, wait_for_images waits for a late slow
image, block_media keeps video and audio requests off the network,
block_ads keeps the requests of the shipped ad list off it, handle_cookies
hides a consent manager's banner. Each effect is checked
against the same page with the field switched the other way, so a test
shows the field did it. A fixed header prints once (handle_sticky_header):
WebKit prints it once either way, the test guards that."""

import struct
import subprocess
import threading
import time
import uuid
import zlib

import pytest

from stack import LoopbackServer, _QuietHandler, decoded_image, pdftotext, send_html

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
SLOW_IMAGE_SECONDS = 2


def png(width, height, rgb):
    """A solid-colour PNG."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", raw) + chunk(b"IEND", b""))


RED = (255, 0, 0)
RED_PNG = png(200, 200, RED)

LAZY = """<!doctype html><title>Lazy</title>
<p>Top of the page.</p><div style="height:6000px"></div>
<img id="lazy" data-src="/lazy.png?t={t}" width="200" height="200" alt="">
<script>
new IntersectionObserver((entries, observer) => {{
  for (const e of entries) if (e.isIntersecting) {{
    e.target.src = e.target.dataset.src; observer.disconnect();
  }}
}}).observe(document.getElementById('lazy'));
</script>"""

# Lazy loaders without an IntersectionObserver: a scroll listener (as
# jQuery-era plugins) and an event handler property.
SCROLL_LISTENER = """<!doctype html><title>Scroll listener</title>
<p>Top of the page.</p><div style="height:6000px"></div>
<img id="lazy" data-src="/listener.png?t={t}" width="200" height="200" alt="">
<script>
const img = document.getElementById('lazy');
const check = () => {{
  if (!img.src && img.getBoundingClientRect().top < innerHeight) img.src = img.dataset.src;
}};
window.addEventListener('scroll', check);
</script>"""

# A page that replaces built-ins the scroll watch could have leaned on: its
# own addEventListener must still work (docs/decisions.md, enable_scroll).
REPLACED_BUILTINS = """<!doctype html><title>Replaced built-ins</title>
<p>Top of the page.</p><div style="height:6000px"></div>
<img id="lazy" data-src="/builtins.png?t={t}" width="200" height="200" alt="">
<script>
Reflect.apply = Reflect.construct = () => {{ throw new Error('replaced'); }};
Array.prototype.includes = Set.prototype.has = () => {{ throw new Error('replaced'); }};
const img = document.getElementById('lazy');
window.addEventListener('scroll', () => {{
  if (!img.src && img.getBoundingClientRect().top < innerHeight) img.src = img.dataset.src;
}});
</script>"""

ONSCROLL = """<!doctype html><title>onscroll</title>
<body onscroll="check()">
<p>Top of the page.</p><div style="height:6000px"></div>
<img id="lazy" data-src="/onscroll.png?t={t}" width="200" height="200" alt="">
<script>
function check() {{
  const img = document.getElementById('lazy');
  if (!img.src && img.getBoundingClientRect().top < innerHeight) img.src = img.dataset.src;
}}
</script></body>"""

NATIVE_LAZY = """<!doctype html><title>Native lazy</title>
<p>Top of the page.</p><div style="height:6000px"></div>
<img loading="lazy" src="/native.png?t={t}" width="200" height="200" alt="">"""

# A long page that watches nothing (no observer, no scroll listener): it is
# not scrolled. It reports whether it ever was by polling, which no
# watcher sees; `observe=1` makes it create an IntersectionObserver too.
POLLING = """<!doctype html><title>Polling</title>
<p>Top of the page.</p><div style="height:6000px"></div><p>Bottom.</p>
<script>
if (location.search.includes('observe=1')) new IntersectionObserver(() => {{}});
const seen = setInterval(() => {{
  if (scrollY > 0) {{ clearInterval(seen); fetch('/scrolled?t={t}').catch(() => {{}}); }}
}}, 10);
</script>"""

# The view is hidden while it prints (docs/rendering.md, "Printing without
# a screen"): a page that marks itself when hidden prints the mark, and
# one that changes its title when hidden keeps the title it showed.
HIDDEN = """<!doctype html><title>Shown title</title><p>Printed text.</p>
<script>
document.addEventListener('visibilitychange', () => {{
  if (!document.hidden) return;
  document.title = 'Come back!';
  const p = document.createElement('p');
  p.textContent = 'HIDDENMARK';
  document.body.appendChild(p);
}});
</script>"""

IMAGE = """<!doctype html><title>Image</title><p>An image:</p>
<img src="/plain.png?t={t}" width="200" height="200" alt="">"""

# A lazy image in view: it loads at once but, lazy, does not hold up the
# load event; served late, only an image wait captures it.
LATE_IMAGE = """<!doctype html><title>Late image</title>
<style>body{{margin:0}} img{{display:block}}</style>
<img loading="lazy" src="/slow.png?t={t}" width="200" height="200" alt="">
<p>Below the image.</p>"""

MEDIA = """<!doctype html><title>Media</title><p>Media:</p>
<video src="/clip.mp4?t={t}" preload="auto" autoplay muted width="320" height="180"></video>
<audio src="/sound.mp3?t={t}" preload="auto" autoplay></audio>
<script>fetch('/stream.webm?t={t}').catch(() => {{}});</script>"""

# Same-origin loads that generic EasyList path filters block
# (`/pagead/conversion.js$script`, `/banner-ad.$~script,~xmlhttprequest`):
# no outside host needed.
ADS = """<!doctype html><title>Ads</title><p>Article with ads.</p>
<img src="/banner-ad.png?t={t}" width="200" height="200" alt="">
<script src="/pagead/conversion.js?t={t}"></script>"""

CONSENT = """<!doctype html><title>Consent</title>
<p>Article text stays.</p>
<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk"
  style="position:fixed;bottom:0;left:0;right:0;background:#fff;border-top:1px solid">
  We value your privacy CONSENTBANNERTEXT <button>Accept all</button>
</div></div>"""

STICKY = ("""<!doctype html><title>Sticky</title>
<style>body{margin:0;padding-top:60px} p{margin:0 0 12px}</style>
<header style="position:fixed;top:0;left:0;right:0;height:50px;background:#ddd">
STICKYHEADERMARK</header>""" +
          "".join(f"<p>Paragraph {i} of a long article that fills several printed pages.</p>"
                  for i in range(300)))

PAGES = {"/lazy": LAZY, "/scroll-listener": SCROLL_LISTENER, "/onscroll": ONSCROLL,
         "/replaced-builtins": REPLACED_BUILTINS, "/hidden": HIDDEN,
         "/native-lazy": NATIVE_LAZY, "/polling": POLLING, "/image": IMAGE, "/late-image": LATE_IMAGE, "/media": MEDIA,
         "/consent": CONSENT, "/sticky": STICKY, "/ads": ADS}


class Site(LoopbackServer):
    """The fixture pages; every request's path (with query) is recorded."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        site = self

        class Handler(_QuietHandler):
            def do_GET(self):
                with site.lock:
                    site.requests.append(self.path)
                path, _, query = self.path.partition("?")
                t = query[2:].partition("&")[0] if query.startswith("t=") else ""
                if path in PAGES:
                    page = PAGES[path].replace("{t}", t)
                    send_html(self, page.replace("{{", "{").replace("}}", "}").encode())
                    return
                if path.endswith(".png"):
                    if path == "/slow.png":
                        time.sleep(SLOW_IMAGE_SECONDS)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(RED_PNG)))
                    self.end_headers()
                    self.wfile.write(RED_PNG)
                    return
                self.send_error(404)

        super().__init__(Handler)

    def requested(self, fragment):
        with self.lock:
            return [p for p in self.requests if fragment in p]


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


def render(stack, endpoint, url, **options):
    r = stack.call("POST", endpoint, {"url": url, "direct_download": True, **options})
    assert r.status == 200, r
    return r.body


def token():
    return uuid.uuid4().hex


def pdf_title(data):
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    return next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                 if ln.startswith("Title:")), None)


# Each lazy loader's image loads when scrolled into view: an
# IntersectionObserver's, a scroll listener's (also on a page that replaced
# Reflect and Array.prototype.includes), an onscroll handler's and a native
# lazy image's (without the image wait, which would load it anyway).
@pytest.mark.parametrize("page,image,options", [
    ("/lazy", "/lazy.png", {}),
    ("/scroll-listener", "/listener.png", {}),
    ("/onscroll", "/onscroll.png", {}),
    ("/replaced-builtins", "/builtins.png", {}),
    ("/native-lazy", "/native.png", {"wait_for_images": False}),
])
def test_scroll_loads_lazy_image(stack, site, page, image, options):
    t = token()
    render(stack, PDF, f"{site.base}{page}?t={t}", **options)
    assert site.requested(f"{image}?t={t}")


def test_no_scroll_leaves_lazy_image(stack, site):
    t = token()
    render(stack, PDF, f"{site.base}/lazy?t={t}", enable_scroll=False)
    assert not site.requested(f"/lazy.png?t={t}")


@pytest.mark.parametrize("observes", [False, True])
def test_only_a_page_that_watches_scrolling_is_scrolled(stack, site, observes):
    """A page with nothing that reacts to scrolling is printed without the
    scroll steps (docs/rendering.md, enable_scroll); one that made an
    IntersectionObserver is scrolled. The page's poll of scrollY, which no
    watcher sees, tells which happened."""
    t = token()
    render(stack, PDF, f"{site.base}/polling?t={t}&observe={int(observes)}")
    assert bool(site.requested(f"/scrolled?t={t}")) == observes


def test_a_pdf_is_printed_from_a_hidden_view_with_the_title_it_showed(stack, site):
    data = render(stack, PDF, f"{site.base}/hidden")
    text = pdftotext(data)
    assert "Printed text." in text and "HIDDENMARK" in text
    assert pdf_title(data) == "Shown title"


def test_load_media_false_fetches_no_image(stack, site):
    t = token()
    render(stack, PDF, f"{site.base}/image?t={t}", load_media=False)
    assert not site.requested(f"/plain.png?t={t}")
    t = token()
    render(stack, PDF, f"{site.base}/image?t={t}")
    assert site.requested(f"/plain.png?t={t}")


def top_left_is_red(data):
    _, _, rowstride, channels, pixels = decoded_image(data)
    at = 50 * rowstride + 50 * channels
    return tuple(pixels[at:at + 3]) == RED


@pytest.mark.parametrize("wait", [True, False])
def test_wait_for_images(stack, site, wait):
    data = render(stack, SHOT, f"{site.base}/late-image?t={token()}", wait_until="load",
                  wait_for_images=wait, viewport_width=400, viewport_height=300,
                  full_page=False)
    assert top_left_is_red(data) == wait


def test_block_media(stack, site):
    t = token()
    render(stack, PDF, f"{site.base}/media?t={t}", block_media=True)
    for name in ("/clip.mp4", "/sound.mp3", "/stream.webm"):
        assert not site.requested(f"{name}?t={t}"), name
    t = token()
    render(stack, PDF, f"{site.base}/media?t={t}")
    assert site.requested(f"/stream.webm?t={t}")


def test_block_ads(stack, site):
    """The ad list is compiled when a job first asks for it (tens of
    seconds, once): async, with the longest timeout, so the first job
    waits for it instead of racing the sync answer. That the blocked
    requests never arrive also shows WebKit compiled the shipped list:
    one that fails to compile blocks nothing."""
    t = token()
    r = stack.call("POST", PDF, {"url": f"{site.base}/ads?t={t}", "block_ads": True,
                                 "async_mode": True, "timeout": 300})
    assert r.status == 202, r
    status = stack.wait_terminal(r.json()["job_id"], timeout=330)
    assert status["status"] == "completed", status
    assert site.requested(f"/ads?t={t}")  # the page itself is never blocked
    for name in ("/banner-ad.png", "/pagead/conversion.js"):
        assert not site.requested(f"{name}?t={t}"), name
    t = token()
    render(stack, PDF, f"{site.base}/ads?t={t}", block_ads=False)
    for name in ("/banner-ad.png", "/pagead/conversion.js"):
        assert site.requested(f"{name}?t={t}"), name


@pytest.mark.parametrize("handle", [True, False])
def test_consent_banner_hidden(stack, site, handle):
    text = pdftotext(render(stack, PDF, f"{site.base}/consent", handle_cookies=handle))
    assert "Article text stays." in text
    assert ("CONSENTBANNERTEXT" in text) == (not handle)


@pytest.mark.parametrize("handle", [True, False])
def test_sticky_header_printed_once(stack, site, handle):
    text = pdftotext(render(stack, PDF, f"{site.base}/sticky", handle_sticky_header=handle))
    assert text.count("\f") >= 3  # several pages
    assert text.count("STICKYHEADERMARK") == 1
    assert "Paragraph 299 " in text
