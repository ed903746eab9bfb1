"""Links, outline and metadata of printed PDFs, measured on the PDF itself
(links): every /Link annotation is checked against the words
`pdftotext -bbox` finds under it, #fragment links against the page and
place of their target heading, the outline against the headings and the
pages they are printed on, the document information with `pdfinfo`.

The fixture pages (tests/fixtures/pages) reproduce each defect: a sidebar,
top bar and buttons hidden in print full of links over a body with a few
(print_sidebar.html), two printed columns with the same link text in both
(two_columns.html), a table of contents of #fragment links to headings
h1-h3 on later pages with an empty anchor and a heading hidden in print
(outline.html)."""

import html
import json
import os
import re
import subprocess
import tempfile
import threading
from functools import partial
from http.server import ThreadingHTTPServer

import pytest

from stack import REPO, _QuietHandler

PAGES = os.path.join(REPO, "tests", "fixtures", "pages")
# How far a link box may reach beyond the words it covers, and a jump
# land above its heading (points).
SLACK = 2.0


@pytest.fixture(scope="module")
def pages():
    """tests/fixtures/pages on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(_QuietHandler, directory=PAGES))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def convert(stack, url, **options):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": url, "direct_download": True, **options})
    assert r.status == 200, r
    assert r.body.startswith(b"%PDF-")
    return r.body


class Pdf:
    """A PDF's words (pdftotext -bbox), annotations, outline (qpdf --json)
    and information (pdfinfo). Boxes are (x0, y0, x1, y1) in points with
    the origin at the page's top left, as pdftotext reports them; pages
    count from 1."""

    def __init__(self, data):
        with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
            f.write(data)
            self.path = f.name
        try:
            self._read()
        finally:
            os.unlink(self.path)

    def _run(self, *args):
        return subprocess.run(args, capture_output=True, check=True,
                              text=True).stdout

    def _read(self):
        self.words = {}  # page -> [(text, box)]
        self.heights = {}
        bbox = self._run("pdftotext", "-bbox", self.path, "-")
        for n, page in enumerate(re.split(r"<page ", bbox)[1:], start=1):
            self.heights[n] = float(re.search(r'height="([\d.]+)"',
                                              page).group(1))
            self.words[n] = [
                (html.unescape(m.group(5)),
                 tuple(float(m.group(i)) for i in range(1, 5)))
                for m in re.finditer(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" '
                    r'xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        doc = json.loads(self._run("qpdf", "--json=2", self.path))
        objects = {k[4:]: v.get("value")
                   for k, v in doc["qpdf"][1].items() if k.startswith("obj:")}
        page_of = {p["object"]: p["pageposfrom1"] for p in doc["pages"]}
        self.links = []
        for ref, n in page_of.items():
            annots = objects[ref].get("/Annots", [])
            if isinstance(annots, str):
                annots = objects[annots]
            for a in annots:
                a = objects[a] if isinstance(a, str) else a
                if a.get("/Subtype") != "/Link":
                    continue
                llx, lly, urx, ury = a["/Rect"]
                h = self.heights[n]
                link = {"page": n, "box": (llx, h - ury, urx, h - lly)}
                if "/Dest" in a:
                    dest = a["/Dest"]
                    link["dest_page"] = page_of[dest[0]]
                    link["dest_top"] = self.heights[link["dest_page"]] - dest[3]
                else:
                    action = a["/A"]
                    action = objects[action] if isinstance(action, str) \
                        else action
                    link["uri"] = action["/URI"][2:]  # "u:..."
                self.links.append(link)
        self.outline = doc.get("outlines", [])
        self.info = {}
        for line in self._run("pdfinfo", self.path).splitlines():
            key, _, value = line.partition(":")
            self.info[key] = value.strip()

    def covered(self, link):
        """Words whose centre lies in the link's box, in reading order."""
        x0, y0, x1, y1 = link["box"]
        return [(t, b) for t, b in self.words[link["page"]]
                if x0 <= (b[0] + b[2]) / 2 <= x1
                and y0 <= (b[1] + b[3]) / 2 <= y1]

    def find(self, text):
        """(page, first word's box) of every place `text` is printed as
        consecutive words."""
        want = text.split()
        found = []
        for n, words in self.words.items():
            texts = [t for t, _ in words]
            for i in range(len(texts) - len(want) + 1):
                if texts[i:i + len(want)] == want:
                    found.append((n, words[i][1]))
        return found


def check_links_cover_their_words(pdf, expected):
    """Every annotation covers whole words and nothing else (within
    SLACK); the words under all annotations of one target, in order, are
    that link's text. `expected`: {uri or "#target": text}."""
    seen = {}
    for link in pdf.links:
        words = pdf.covered(link)
        assert words, f"link box over no text: {link}"
        bx0 = min(b[0] for _, b in words)
        by0 = min(b[1] for _, b in words)
        bx1 = max(b[2] for _, b in words)
        by1 = max(b[3] for _, b in words)
        x0, y0, x1, y1 = link["box"]
        assert abs(x0 - bx0) <= SLACK and abs(x1 - bx1) <= SLACK, \
            (link, words)
        assert abs(y0 - by0) <= SLACK and abs(y1 - by1) <= SLACK, \
            (link, words)
        key = link.get("uri") or f"#{link['dest_page']}:{link['dest_top']}"
        seen.setdefault(key, []).extend(t for t, _ in words)
    got = {k: " ".join(v) for k, v in seen.items()}
    for uri, text in expected.items():
        if not uri.startswith("#"):
            assert got.get(uri) == text, (uri, got)
    return got


# ---- a sidebar, top bar and buttons hidden in print ----------------------

BODY_LINKS = {
    "https://example.org/body/first": "first body link",
    "https://example.org/body/wrapping":
        "this body link whose long text is certain to wrap onto another "
        "printed line because it goes on and on about harbour cranes",
    "https://example.org/body/last": "last body link",
}


def test_links_hidden_in_print_get_no_boxes(stack, pages):
    pdf = Pdf(convert(stack, pages + "/print_sidebar.html"))
    uris = {link["uri"] for link in pdf.links}
    # The 30 sidebar, top bar and button links are not printed: none of
    # them is clickable, not even "Pricing" whose word the body has.
    assert uris == set(BODY_LINKS), uris
    assert "pricing" in [t for t, _ in pdf.words[1]]
    check_links_cover_their_words(pdf, BODY_LINKS)
    # One box per printed line: the long link wraps (its 130 characters
    # do not fit one line), each box on a line of its own.
    per_uri = {u: [link for link in pdf.links if link["uri"] == u]
               for u in BODY_LINKS}
    wrapped = per_uri["https://example.org/body/wrapping"]
    assert len(wrapped) >= 2
    assert all(a["box"][3] <= b["box"][1] + SLACK or a["page"] != b["page"]
               for a, b in zip(wrapped, wrapped[1:])), wrapped
    # The last link is on a later page, where its words are.
    last = per_uri["https://example.org/body/last"][-1]
    assert last["page"] > 1
    assert last["page"] == pdf.find("last body link")[0][0]


# ---- two printed columns --------------------------------------------------

COLUMN_LINKS = {
    "https://example.org/left/tides": "tide gauge readings",
    "https://example.org/left/more": "Read more",
    "https://example.org/left/long":
        "western breakwater inspection report with photographs and "
        "measurements",
    "https://example.org/right/buoys": "buoy telemetry archive",
    "https://example.org/right/more": "Read more",
    "mailto:harbourmaster@example.org": "harbourmaster mailbox",
}


def test_links_in_two_columns_cover_their_text(stack, pages):
    pdf = Pdf(convert(stack, pages + "/two_columns.html"))
    assert {link["uri"] for link in pdf.links} == set(COLUMN_LINKS)
    check_links_cover_their_words(pdf, COLUMN_LINKS)
    # The same text in both columns: each link over its own column's.
    middle = max(b[2] for _, b in pdf.words[1]) / 2 + 20
    for link in pdf.links:
        left = "/left/" in link["uri"]
        right_edge, left_edge = link["box"][2], link["box"][0]
        if left:
            assert right_edge < middle, link
        elif link["uri"].startswith("https://example.org/right"):
            assert left_edge > middle - 40, link


# ---- #fragment links, outline, metadata -----------------------------------

TOC = {
    "Chapter on harbour logistics": "Harbour logistics",
    "Section on crane maintenance": "Crane maintenance",
    "Section on berth allocation": "Berth allocation",
    "Chapter on customs paperwork": "Customs paperwork",
    "Section on cargo manifests": "Cargo manifests",
    "Section on import duties": "Import duties",
    "Chapter on storm procedures": "Storm procedures",
    "Section on gale warnings": "Gale warnings",
    "Section on emergency moorings": "Emergency moorings",
    # An empty anchor: the jump lands on the text after it.
    "Notes for night shifts": "Nightwatch crews log every arrival",
    # An empty <a name> anchor (no id): the same.
    "Duties at dawn": "Dawn shifts sign the harbour ledger",
    "Back to the top": None,
}
OUTLINE = [
    (1, "Port operations handbook"),
    (2, "Harbour logistics"), (3, "Crane maintenance"),
    (3, "Berth allocation"),
    (2, "Customs paperwork"), (3, "Cargo manifests"), (3, "Import duties"),
    (2, "Storm procedures"), (3, "Gale warnings"), (3, "Emergency moorings"),
    # a <div role="heading" aria-level="3">, as Chromium's outline has it
    (3, "Tide tables"),
]


def flatten(items, level=1):
    out = []
    for item in items:
        out.append((level, item["title"], item["destpageposfrom1"],
                    item["dest"]))
        out += flatten(item.get("kids", []), level + 1)
    return out


def test_fragment_links_jump_to_their_targets(stack, pages):
    pdf = Pdf(convert(stack, pages + "/outline.html"))
    assert pdf.links and all("uri" not in link for link in pdf.links)
    assert len(pdf.words) >= 3, "the fixture spans several pages"
    got = check_links_cover_their_words(pdf, {})
    by_text = {}
    for link in pdf.links:
        text = " ".join(t for t, _ in pdf.covered(link))
        by_text[text] = link
    assert sorted(by_text) == sorted(TOC), sorted(by_text)
    assert len(got) == len(TOC)
    for text, target in TOC.items():
        link = by_text[text]
        if target is None:  # #top: the first page's top
            assert link["dest_page"] == 1 and link["dest_top"] <= SLACK
            continue
        places = pdf.find(target)
        # Headings are printed once, besides the contents' lower case.
        assert len(places) == 1, (target, places)
        page, box = places[0]
        assert link["dest_page"] == page, (text, link, page)
        assert box[1] - 10 <= link["dest_top"] <= box[1] + SLACK, \
            (text, link, box)
    # Targets lie on later pages than the contents.
    assert max(link["dest_page"] for link in pdf.links) >= 3


def test_outline_follows_the_printed_headings(stack, pages):
    pdf = Pdf(convert(stack, pages + "/outline.html"))
    entries = flatten(pdf.outline)
    # The heading hidden in print has no entry.
    assert [(level, title) for level, title, _, _ in entries] == OUTLINE
    for level, title, page, dest in entries:
        places = pdf.find(title)
        if title == "Port operations handbook":
            places = places[:1]  # the h1 comes first
        assert len(places) == 1, (title, places)
        assert page == places[0][0], (title, page, places)
    assert len({page for _, _, page, _ in entries}) >= 3
    assert pdf.info["Title"] == "Port operations handbook"
    assert pdf.info["Author"] == "Harbour Authority Writers"
    assert pdf.info["Subject"] == "How the port runs, chapter by chapter"
    assert pdf.info["Keywords"] == "port, harbour, customs, storms"


def test_outline_off_and_metadata_from_the_request(stack, pages):
    pdf = Pdf(convert(stack, pages + "/outline.html", pdf_options={
        "outline": False,
        "metadata": {"title": "Handbook — edition 2", "author": "Ops desk",
                     "keywords": ""}}))
    assert pdf.outline == []
    assert pdf.info["Title"] == "Handbook — edition 2"
    assert pdf.info["Author"] == "Ops desk"
    # Not given: the page's; empty: removed.
    assert pdf.info["Subject"] == "How the port runs, chapter by chapter"
    assert "Keywords" not in pdf.info
    # Links are not affected by the outline switch.
    assert len(pdf.links) >= len(TOC)


def test_fragment_links_reach_rules_in_preformatted_text(stack, pages):
    """A grammar as Sphinx prints it: each rule's name is a link target in a
    <pre>, padded with spaces before its "::="; poppler reads text after
    such gaps in another order, so the target's text ends at the gap."""
    pdf = Pdf(convert(stack, pages + "/grammar.html"))
    gotos = [link for link in pdf.links if "dest_page" in link]
    assert len(gotos) == 5, pdf.links
    for link in gotos:
        # (pdftotext keeps a sentence's full stop with its last word)
        name = " ".join(t for t, _ in pdf.covered(link)).rstrip(".")
        assert name in ("expression", "or_expr"), name
        # The rule: the name with "::=" to its right on the same line
        # (poppler lists the grammar's columns as blocks, not as lines).
        places = [(n, box) for n, words in pdf.words.items() for t, box in words
                  if t == name and any(u == "::=" and abs(b[1] - box[1]) < 1 and b[0] > box[2]
                                       for u, b in words)]
        assert len(places) == 1, (name, places)
        page, box = places[0]
        assert link["dest_page"] == page, (name, link, page)
        assert box[1] - 10 <= link["dest_top"] <= box[1] + SLACK, (name, link, box)


def test_half_an_emoji_at_a_cut_keeps_the_links_and_outline(stack, pages):
    """The texts the PDF's links, outline and metadata come from are cut at
    a few hundred characters; a cut inside an emoji left half a surrogate
    pair, which made the whole set unreadable: the PDF had no link, no
    outline and no metadata (emoji_cut.html)."""
    pdf = Pdf(convert(stack, pages + "/emoji_cut.html"))
    assert len(pdf.links) == 2, pdf.links
    assert sorted("uri" in link for link in pdf.links) == [False, True]
    assert [(level, title) for level, title, _, _ in flatten(pdf.outline)] == [
        (1, "Field notes"), (2, "The note")]
    assert pdf.info["Author"] == "Survey Team"


def test_links_are_taken_while_their_urls_fit_in_the_budget(stack, pages):
    """A page's link URLs are copied through JSON into the renderer; a page
    of 20,000 links of 20 KB each took it past 1.8 GB. A URL over 64 Ki
    characters gets no link; links are taken in document order while their
    URLs add up to at most 4 Mi characters (long_hrefs.html)."""
    pdf = Pdf(convert(stack, pages + "/long_hrefs.html"))
    uris = [link["uri"] for link in pdf.links]
    assert not [u for u in uris if "xxxx" in u], "the overlong URL got a link"
    long = [u for u in uris if "aaaa" in u]
    assert long, uris
    assert {len(u) for u in long} == {60008}
    assert len(long) == 4 * 1048576 // 60008  # 69
    assert long == sorted(long)  # the first ones, in document order
    assert long[0].endswith("/0000000")
    assert "https://example.com/short" in uris
    assert len(uris) == len(long) + 1


def test_link_and_heading_texts_are_taken_while_they_fit_in_the_budget(stack, pages):
    """The texts of links and headings are copied through JSON into the
    renderer as well; 20,000 links of 1,000 characters made a reply of 20 Mi
    characters (120 MB when they were control characters). They are taken
    in document order while they add up to at most 2 Mi characters: past
    that a link goes without its text and is placed where it was measured,
    and a heading is left out of the outline; a later, shorter one may
    still fit (long_link_texts.html: 2,500 links of 1,000 characters whose
    text is not printed, then headings of 300 and 12 characters)."""
    pdf = Pdf(convert(stack, pages + "/long_link_texts.html"))
    placed = sorted(link["uri"] for link in pdf.links)
    # The first (2 Mi - 13) // 1,000 = 2,097 took their text, which has no
    # place in the PDF: no link. The rest have none and are placed.
    assert placed == [f"https://example.com/{i:04d}" for i in range(2097, 2500)]
    assert [title for _, title, _, _ in flatten(pdf.outline)] == [
        "First heading", "Last heading"]


def test_a_link_over_thousands_of_lines_keeps_its_first_boxes(stack, pages):
    """Every box of a link (one per line it wraps over) becomes an
    annotation; a link around 2,000 lines of tiny inline blocks, nested and
    with a 60 KB URL, took the renderer to 1.9 GB. A link keeps its first
    256 boxes (link_boxes.html)."""
    pdf = Pdf(convert(stack, pages + "/link_boxes.html"))
    long = [link for link in pdf.links if link.get("uri", "").endswith("mmmm")]
    # (a box across a page break is dropped, as for any image link)
    assert 240 <= len(long) <= 256, len(long)
