"""Print fidelity (docs/rendering.md, "Fonts", "Capture without scrollbars",
"Layout width"): text extracts as typed, the classic family names get
TrueType Liberation faces, nothing prints a scrollbar, screenshots are as
wide as asked, and print is laid out at the paper's width, with page counts
next to Chromium's (Debian's `chromium`) on the same fixtures."""

import os
import re
import shutil
import subprocess
import tempfile
from http.server import SimpleHTTPRequestHandler

import pytest

from stack import LoopbackServer, decoded_image, pdftotext

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "print")
FONTS = {
    "/fonts/sans.ttf": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/fonts/serif.ttf": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
}


class _PrintFixtures(SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=FIXTURES, **kw)

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        return FONTS.get(path) or super().translate_path(path)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def pages():
    server = LoopbackServer(_PrintFixtures)
    yield server
    server.close()


def convert(stack, endpoint, url, **options):
    r = stack.call("POST", f"/v1/convert/{endpoint}",
                   {"url": url, "direct_download": True, **options})
    assert r.status == 200, r
    return r.body


def pdf_of(stack, url, **options):
    data = convert(stack, "url-to-pdf", url, **options)
    assert data.startswith(b"%PDF-")
    return data


def run_on_pdf(data, *command, after=()):
    """Runs a poppler tool on `data` saved to a file (named after
    `command`, then `after`); its stdout."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return subprocess.run([*command, f.name, *after], capture_output=True, text=True,
                              check=True).stdout


def page_count(data):
    for line in run_on_pdf(data, "pdfinfo").splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("pdfinfo gave no page count")


def gray_page(data, dpi=96):
    """Page 1 rendered in gray at `dpi`: (width, height, bytes), one byte a
    pixel, row by row (poppler's PGM output)."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.pdf")
        with open(src, "wb") as f:
            f.write(data)
        subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", "1", "-l", "1",
                        "-singlefile", src, os.path.join(d, "page")], check=True)
        with open(os.path.join(d, "page.pgm"), "rb") as f:
            pgm = f.read()
    fields = pgm.split(maxsplit=4)
    assert fields[0] == b"P5" and fields[3] == b"255", fields[:4]
    return int(fields[1]), int(fields[2]), fields[4]


def words(text):
    return " ".join(text.split())


# ---- text extraction --------------------------------------------------------

def test_ligatures_and_quotes_extract_as_typed(stack, pages):
    """DejaVu ligates fi, ff, ffl, ...: the text must come back as letters,
    not as U+FB00-FB06 or nothing, and ’ as ’."""
    text = words(pdftotext(pdf_of(stack, pages.base + "/ligatures.html")))
    assert ("The office staff were affluent after a difficult flight and "
            "shuffled off; it’s fine.") in text, text
    assert "Efficient baffles fluff the waffle; “quoted” and it’s offered." in text, text
    assert not any(0xFB00 <= ord(c) <= 0xFB06 for c in text), text


def test_classic_family_names_print_as_liberation_truetype(stack, pages):
    data = pdf_of(stack, pages.base + "/families.html")
    fonts = run_on_pdf(data, "pdffonts")
    assert "Type 3" not in fonts, fonts
    for face in ("LiberationSans", "LiberationSerif", "LiberationMono"):
        assert face in fonts, fonts
    text = words(pdftotext(data))
    assert "Helvetica text for the sans-serif alias." in text


def test_faces_the_engine_draws_as_type3_are_embedded_as_real_fonts(stack, pages):
    """A CFF face, a CID-keyed CFF face and a face the engine slants itself
    (no italic in the family) come out as Type 0 fonts around the system's
    face, not as Type 3 glyph procedures, and their text extracts as typed
    (日, not the radical ⽇ its glyph also draws) (docs/rendering.md,
    "Type 3 fonts")."""
    data = pdf_of(stack, pages.base + "/type3_faces.html")
    fonts = run_on_pdf(data, "pdffonts")
    assert "Type 3" not in fonts, fonts
    assert re.search(r"NotoSansMono-Regular +CID TrueType", fonts), fonts
    assert re.search(r"NimbusSans-Regular +CID Type 0C", fonts), fonts
    assert re.search(r"NotoSansCJKjp-Regular +CID Type 0C", fonts), fonts
    text = words(pdftotext(data))
    for line in ("# a comment in a monospace family without an italic",
                 "Nimbus Sans is a CFF face, quick brown fox 0123456789.",
                 "日本語のテキストを検索できます。",
                 "Line two of mixed faces in one paragraph."):
        assert line in text, text


# ---- scrollbars ----------------------------------------------------------------

def test_overflowing_block_prints_no_scrollbar(stack, pages):
    """The fixture's box (300x80 CSS px at 100,100) holds one line at its
    top; a scrollbar would be drawn across its foot."""
    data = pdf_of(stack, pages.base + "/scrollbars.html",
                  pdf_options={"margins": {"top": 0, "right": 0, "bottom": 0, "left": 0}})
    width, _, gray = gray_page(data)  # 96 dpi: one pixel a CSS px
    assert "a_line_of_code" in pdftotext(data)
    foot = [gray[y * width + x] for y in range(158, 178) for x in range(104, 396)]
    dark = sum(1 for v in foot if v < 235)
    assert dark == 0, f"{dark} non-white pixels where a scrollbar would be"


def test_screenshot_is_exactly_the_viewport_wide_without_a_scrollbar(stack, pages):
    data = convert(stack, "url-to-screenshot", pages.base + "/tall_red.html",
                   viewport_width=1280, viewport_height=400, full_page=False,
                   image_format="png")
    width, height, stride, channels, px = decoded_image(data)
    assert (width, height) == (1280, 400)
    # The page is red to its edges: a scrollbar would paint the right edge.
    for y in (10, 200, 390):
        for x in (0, 1270, 1279):
            r, g, b = px[y * stride + x * channels:y * stride + x * channels + 3]
            assert r > 230 and g < 30 and b < 30, ((x, y), (r, g, b))


# ---- layout width ---------------------------------------------------------------

def test_print_is_laid_out_at_the_papers_width(stack, pages):
    """A4 with 10 mm margins: 190 mm = 718 CSS px, so max-width media queries
    for narrow screens apply and vw is the paper's."""
    text = words(pdftotext(pdf_of(stack, pages.base + "/media_width.html")))
    assert "PAPER WIDTH LAYOUT" in text and "WIDE SCREEN LAYOUT" not in text, text
    assert "innerWidth 718" in text, text


def test_layout_width_viewport_prints_the_viewport_layout(stack, pages):
    text = words(pdftotext(pdf_of(stack, pages.base + "/media_width.html",
                                  viewport_width=1280,
                                  pdf_options={"layout_width": "viewport"})))
    assert "WIDE SCREEN LAYOUT" in text and "PAPER WIDTH LAYOUT" not in text, text
    assert "innerWidth 1280" in text, text


def test_layout_width_must_be_page_or_viewport(stack, pages):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": pages.base + "/media_width.html",
                    "pdf_options": {"layout_width": "wide"}})
    assert r.status == 400, r
    assert r.json()["field"] == "pdf_options.layout_width", r.json()


# ---- table headers -------------------------------------------------------------

HEADER = "Item column Amount column Remarks column"


def page_texts(data):
    """pdftotext of each page, white space collapsed."""
    return [words(run_on_pdf(data, "pdftotext", "-f", str(p), "-l", str(p), "-layout",
                                 after=["-"]))
            for p in range(1, page_count(data) + 1)]


def word_x(data, page, word):
    """Left edge (pt) of the first `word` on `page` (1-based), per
    pdftotext -bbox."""
    out = run_on_pdf(data, "pdftotext", "-bbox", "-f", str(page), "-l", str(page),
                     after=["-"])
    for line in out.splitlines():
        if line.strip().endswith(f">{word}</word>"):
            return float(line.split('xMin="')[1].split('"')[0])
    raise AssertionError(f"{word} not on page {page}")


def test_long_table_repeats_its_header_on_every_page(stack, pages):
    data = pdf_of(stack, pages.base + "/long_table.html")
    texts = page_texts(data)
    assert len(texts) >= 3, len(texts)
    for n, text in enumerate(texts, 1):
        assert HEADER in text, f"page {n} has no table header: {text[:120]}"
        # The header leads the page's rows, it is not stranded below them.
        assert text.index(HEADER) < text.index("Row "), f"page {n}: {text[:120]}"
    # Every row exactly once, in order.
    rows = [int(w) for text in texts for w in
            re.findall(r"Row (\d+)\b", text)]
    assert rows == list(range(1, 121)), rows
    # The pieces keep the whole table's columns.
    first = word_x(data, 1, "Remarks")
    for n in range(2, len(texts) + 1):
        assert abs(word_x(data, n, "Remarks") - first) < 1, n


def test_a_header_that_would_sit_alone_at_a_page_foot_moves_with_its_rows(stack, pages):
    texts = page_texts(pdf_of(stack, pages.base + "/table_at_foot.html"))
    assert "Item column" not in texts[0], texts[0]
    assert texts[1].startswith(HEADER + " Row 1 "), texts[1][:80]


# ---- next to Chromium -----------------------------------------------------------------

def chromium_pdf(url):
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium is a test dependency (scripts/deps.sh)"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.pdf")
        subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", f"--user-data-dir={d}/profile",
                        f"--print-to-pdf={out}", url],
                       capture_output=True, timeout=120, check=True)
        with open(out, "rb") as f:
            return f.read()


@pytest.mark.parametrize("page", ["responsive_doc.html", "long_table.html",
                                  "table_at_foot.html"])
def test_page_count_within_one_of_chromium(stack, pages, page):
    url = f"{pages.base}/{page}"
    ours, theirs = page_count(pdf_of(stack, url)), page_count(chromium_pdf(url))
    assert abs(ours - theirs) <= 1, f"{page}: {ours} pages, Chromium {theirs}"


# ---- near-empty last page -----------------------------------------------------------------

def test_a_last_page_holding_only_a_border_sliver_is_dropped(stack, pages):
    """The body is one view tall (1080 px) and the page's printable height is
    1047 px: its closing border alone spills onto a second sheet."""
    data = pdf_of(stack, pages.base + "/full_height.html")
    assert page_count(data) == 1
    assert "A short page whose body is one viewport tall." in words(pdftotext(data))


def test_a_last_page_with_text_is_kept(stack, pages):
    data = pdf_of(stack, pages.base + "/long_table.html")
    assert page_count(data) >= 3
    assert "Row 120" in pdftotext(data)
