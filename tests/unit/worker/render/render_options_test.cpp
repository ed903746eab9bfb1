// Every rendering option of the API (docs/api.md), checked by measuring the
// output: page size and count (pdfinfo), text (pdftotext), link annotations
// (qpdf), colours (pdftoppm raster), image headers. One renderer child and
// one loopback server serve the whole suite, as in production (warm views).
#include <cairo.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "../../support/process_io.h"
#include "loopback_http_server.h"
#include "render/renderer_pool.h"
#include "render/xvfb.h"

namespace enconvert::render {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
namespace fs = std::filesystem;
using nlohmann::json;
using test_support::read_file;
using test_support::run_command;

struct PdfInfo {
    int pages = 0;
    double width_pt = 0, height_pt = 0;
    std::string title;
};

PdfInfo pdfinfo(const std::string& path) {
    PdfInfo info;
    const std::string out = run_command("pdfinfo '" + path + "'");
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"(Pages:\s+(\d+))"))) info.pages = std::stoi(m[1]);
    if (std::regex_search(out, m, std::regex(R"(Page size:\s+([\d.]+) x ([\d.]+) pts)"))) {
        info.width_pt = std::stod(m[1]);
        info.height_pt = std::stod(m[2]);
    }
    if (std::regex_search(out, m, std::regex(R"(Title:\s+([^\n]*))"))) info.title = m[1];
    return info;
}

std::string pdftext(const std::string& path) {
    return run_command("pdftotext '" + path + "' -");
}

// xMin of the first word `word` in pdftotext's bbox output, or NaN.
std::pair<double, double> word_box_x(const std::string& path, const std::string& word) {
    const std::string out = run_command("pdftotext -bbox '" + path + "' -");
    std::smatch m;
    const std::regex re("xMin=\"([\\d.]+)\" yMin=\"[\\d.]+\" xMax=\"([\\d.]+)\"[^>]*>" + word +
                        "<");
    if (!std::regex_search(out, m, re)) return {NAN, NAN};
    return {std::stod(m[1]), std::stod(m[2])};
}

// Words of one page as pdftotext -bbox reports them (points, origin top-left).
struct Word {
    std::string text;
    double x0, y0, x1, y1;
};
struct PageWords {
    double width = 0, height = 0;
    std::vector<Word> words;
};
PageWords page_words(const std::string& path, int page) {
    const std::string k = std::to_string(page);
    const std::string out =
        run_command("pdftotext -f " + k + " -l " + k + " -bbox '" + path + "' -");
    PageWords result;
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"re(<page width="([\d.]+)" height="([\d.]+)")re"))) {
        result.width = std::stod(m[1]);
        result.height = std::stod(m[2]);
    }
    const std::regex word(
        R"re(<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>)re");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), word); it != std::sregex_iterator();
         ++it) {
        const auto& w = *it;
        result.words.push_back(
            {w[5], std::stod(w[1]), std::stod(w[2]), std::stod(w[3]), std::stod(w[4])});
    }
    return result;
}

// The words whose boxes lie entirely between y0 and y1, joined by spaces.
std::string words_between(const PageWords& page, double y0, double y1) {
    std::string text;
    for (const Word& w : page.words) {
        if (w.y0 < y0 || w.y1 > y1) continue;
        if (!text.empty()) text += ' ';
        text += w.text;
    }
    return text;
}

int link_annotations(const std::string& path) {
    const std::string out = run_command("qpdf --qdf --object-streams=disable '" + path +
                                        "' - | grep -ac '/Subtype /Link'");
    return out.empty() ? -1 : std::stoi(out);
}

// First page rasterised at 20 dpi as PPM (P6): pixels r,g,b.
struct Raster {
    int width = 0, height = 0;
    std::string rgb;
};
Raster rasterise(const std::string& path) {
    Raster r;
    const std::string ppm = run_command("pdftoppm -r 20 -f 1 -l 1 '" + path + "'");
    std::istringstream in(ppm);
    std::string magic;
    int maxval = 0;
    in >> magic >> r.width >> r.height >> maxval;
    in.get();
    r.rgb = ppm.substr(static_cast<std::size_t>(in.tellg()));
    return r;
}
// Pixels darker than light grey in rows [y0, y1) of the raster.
int dark_pixels(const Raster& r, int y0, int y1) {
    int n = 0;
    for (int y = std::max(0, y0); y < std::min(r.height, y1); ++y)
        for (int x = 0; x < r.width; ++x) {
            const std::size_t i = 3 * (static_cast<std::size_t>(y) * r.width + x);
            if (i + 2 < r.rgb.size() && static_cast<unsigned char>(r.rgb[i]) < 160) ++n;
        }
    return n;
}
int coloured_pixels(const Raster& r) {
    int n = 0;
    for (std::size_t i = 0; i + 2 < r.rgb.size(); i += 3) {
        const int a = static_cast<unsigned char>(r.rgb[i]),
                  b = static_cast<unsigned char>(r.rgb[i + 1]),
                  c = static_cast<unsigned char>(r.rgb[i + 2]);
        if (std::max({a, b, c}) - std::min({a, b, c}) > 24) ++n;
    }
    return n;
}

// A PNG file as a Raster (read with cairo; empty if it cannot be read).
Raster png_raster(const std::string& path) {
    Raster r;
    cairo_surface_t* image = cairo_image_surface_create_from_png(path.c_str());
    if (cairo_surface_status(image) == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(image);
        const unsigned char* data = cairo_image_surface_get_data(image);
        const int stride = cairo_image_surface_get_stride(image);
        r.width = cairo_image_surface_get_width(image);
        r.height = cairo_image_surface_get_height(image);
        for (int y = 0; y < r.height; ++y)
            for (int x = 0; x < r.width; ++x) {
                std::uint32_t argb;  // native-endian ARGB32
                std::memcpy(&argb, data + y * stride + 4 * x, sizeof argb);
                r.rgb += static_cast<char>(argb >> 16 & 0xff);
                r.rgb += static_cast<char>(argb >> 8 & 0xff);
                r.rgb += static_cast<char>(argb & 0xff);
            }
    }
    cairo_surface_destroy(image);
    return r;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    return (std::uint32_t(static_cast<unsigned char>(s[at])) << 24) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 1])) << 16) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 2])) << 8) |
           std::uint32_t(static_cast<unsigned char>(s[at + 3]));
}

// Width and height from an image's header (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X).
std::pair<int, int> image_size(const std::string& d) {
    auto u8 = [&](std::size_t i) {
        return static_cast<unsigned>(static_cast<unsigned char>(d[i]));
    };
    if (d.size() > 24 && d.compare(1, 3, "PNG") == 0)
        return {static_cast<int>(be32(d, 16)), static_cast<int>(be32(d, 20))};
    if (d.size() > 4 && u8(0) == 0xFF && u8(1) == 0xD8) {
        for (std::size_t i = 2; i + 9 < d.size();) {
            if (u8(i) != 0xFF) return {0, 0};
            const unsigned marker = u8(i + 1);
            const std::size_t len = (u8(i + 2) << 8) | u8(i + 3);
            if (marker >= 0xC0 && marker <= 0xC3)
                return {static_cast<int>((u8(i + 7) << 8) | u8(i + 8)),
                        static_cast<int>((u8(i + 5) << 8) | u8(i + 6))};
            i += 2 + len;
        }
    }
    if (d.size() > 30 && d.compare(0, 4, "RIFF") == 0 && d.compare(8, 4, "WEBP") == 0) {
        if (d.compare(12, 4, "VP8 ") == 0)
            return {static_cast<int>((u8(26) | (u8(27) << 8)) & 0x3FFF),
                    static_cast<int>((u8(28) | (u8(29) << 8)) & 0x3FFF)};
        if (d.compare(12, 4, "VP8L") == 0) {
            const std::uint32_t b = u8(21) | (u8(22) << 8) | (u8(23) << 16) | (u8(24) << 24);
            return {static_cast<int>((b & 0x3FFF) + 1), static_cast<int>(((b >> 14) & 0x3FFF) + 1)};
        }
        if (d.compare(12, 4, "VP8X") == 0)
            return {static_cast<int>((u8(24) | (u8(25) << 8) | (u8(26) << 16)) + 1),
                    static_cast<int>((u8(27) | (u8(28) << 8) | (u8(29) << 16)) + 1)};
    }
    return {0, 0};
}

std::map<std::string, LoopbackHttpServer::Response> fixture_routes() {
    std::map<std::string, LoopbackHttpServer::Response> routes;
    for (const auto& entry : fs::directory_iterator(ENCONVERT_FIXTURE_PAGES)) {
        const std::string name = entry.path().filename();
        const std::string ext = entry.path().extension();
        const std::string type = ext == ".svg"   ? "image/svg+xml"
                                 : ext == ".txt" ? "text/plain"
                                                 : "text/html; charset=utf-8";
        routes["/" + name] = {200, type, read_file(entry.path())};
    }
    routes["/img/blue.svg"] = routes["/blue.svg"];
    routes["/slow.txt"].delay_ms = 700;
    routes["/fonts/fixture.ttf"] = {200, "font/ttf",
                                    read_file("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")};
    routes["/gone"] = {410, "text/html", "<title>Gone</title><p>This page is gone</p>"};
    // Pages that start a request 300 ms after load, each in a way the
    // early quiet of inert pages (settle_rule.h) must see; /slow.txt
    // answers 700 ms later. Without the check that sees it, each would be
    // captured before its request starts.
    const std::string late_fetch =
        "setTimeout(() => fetch('/slow.txt').then(r => r.text()).then(t => {"
        " const p = document.createElement('p'); p.textContent = t;"
        " document.body.appendChild(p); }), 300)";
    const auto page = [](const std::string& body) {
        return LoopbackHttpServer::Response{200, "text/html; charset=utf-8",
                                            "<!doctype html><title>Late</title>" + body};
    };
    // A script that removes itself leaves nothing in the document to see.
    routes["/late/removed_script.html"] = page(
        "<p>Static text</p><script>document.currentScript.remove();"
        "addEventListener('load', () => " +
        late_fetch + ");</script>");
    // A handler attribute runs script without a script element.
    routes["/late/handler.html"] =
        page("<body onload=\"" + late_fetch + "\"><p>Static text</p></body>");
    // A frame's document is not looked at: its script fetches late.
    routes["/late/frame.html"] =
        page("<p>Static text</p><iframe src=\"/late/inner.html\"></iframe>");
    routes["/late/inner.html"] =
        page("<script>addEventListener('load', () => " + late_fetch + ");</script>");
    // A red block shown at the end of a 350 ms animation: a screenshot
    // taken at once would show it still hidden.
    routes["/late/animation.html"] = page(
        "<style>@keyframes reveal { from { visibility: hidden } to { visibility: visible } }"
        " .late { animation: reveal 350ms step-end both;"
        " width: 200px; height: 100px; background: #c00 }</style>"
        "<p>Static text</p><div class=\"late\"></div>");
    // What a page sees of the view (docs/rendering.md "Printing without a
    // screen"): hidden while it loads (its image holds the load 1.5 s), its
    // timers at their pace all the same (WebKit aligns a hidden page's
    // timers to 1 s, but not while it loads: ten chained 20 ms timers take
    // ~0.2 s) and its animations too (the 1 s one is over when the page
    // is printed, at the load's end), shown once loaded.
    routes["/slow_image.png"] = {200, "image/png", "x", 1500};
    routes["/loading_view.html"] = page(
        "<style>@keyframes reveal { from { visibility: hidden } to { visibility: visible } }"
        " #late { animation: reveal 1s step-end both }</style>"
        "<p id=\"parsed\"></p><p id=\"timers\"></p><p id=\"late\">revealed by the animation</p>"
        "<script>const t0 = performance.now();"
        " const say = (id, text) => document.getElementById(id).textContent = text;"
        " say('parsed', 'parsed while ' + document.visibilityState);"
        " let n = 0;"
        " (function tick() {"
        "   if (++n < 10) { setTimeout(tick, 20); return; }"
        "   say('timers', 'ten timers in ' + (performance.now() - t0 < 1000 ? 'under' : 'over') +"
        "       ' a second while ' + document.visibilityState);"
        " })();"
        " addEventListener('load', () => requestAnimationFrame(() => {"
        "   const p = document.createElement('p'); p.id = 'settled';"
        "   p.textContent = 'settled while ' + document.visibilityState;"
        "   document.body.appendChild(p); }));</script>"
        "<img src=\"/slow_image.png\">");
    // A load-time script and a media query see the job's viewport even in
    // a view that is hidden while it loads (WebKitGTK resizes an unmapped
    // view only when it is mapped).
    routes["/media_width.html"] = page(
        "<p id=\"measure\"></p><script>document.getElementById('measure').textContent ="
        " 'innerWidth ' + window.innerWidth + ' matches ' + matchMedia('(max-width: "
        "900px)').matches;"
        "</script>");
    // The page scrolls inside its body; the window cannot scroll at all.
    routes["/inner_scroller.html"] = page(
        "<style>html { overflow: hidden; height: 100% }"
        " body { overflow: auto; height: 100%; margin: 0 }</style>"
        "<div style=\"height: 40000px; background: #39c\"></div>");
    return routes;
}

class RenderOptionsTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        xvfb_ = new Xvfb();
        dir_ = fs::temp_directory_path() / ("enconvert-options-test-" + std::to_string(getpid()));
        fs::create_directories(dir_);
        server_ = new LoopbackHttpServer(fixture_routes(), "/hang");
        RendererPool::Options options;
        options.binary = ENCONVERT_RENDER_BINARY;
        options.display = xvfb_->display();
        options.xauthority = xvfb_->authority();
        options.web_xauthority_dir = xvfb_->authority_directory();
        options.views_per_process = 1;
        options.hang_grace = 5s;
        options.allowed_networks = "127.0.0.1/32";  // the fixture server
        pool_ = new RendererPool(options);
    }
    static void TearDownTestSuite() {
        delete pool_;
        delete server_;
        delete xvfb_;
        // KEEP_RENDER_OUTPUT=1 keeps the rendered files for a look by eye.
        if (!getenv("KEEP_RENDER_OUTPUT")) fs::remove_all(dir_);
    }

    // Renders `page` and returns the result; the file is at out(id).
    RenderResult render(const std::string& page, const std::string& format, json options = {}) {
        const std::uint64_t id = ++next_id_;
        RenderRequest r;
        r.id = id;
        r.url = server_->url(page);
        r.format = format;
        r.out_path = out(id);
        r.options = options.is_object() ? options : json::object();
        while (pool_->free_slots() == 0) pump();
        pool_->submit(r);
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (std::chrono::steady_clock::now() < deadline) {
            for (RenderResult& result : pool_->collect())
                if (result.id == id) return result;
            pump();
        }
        ADD_FAILURE() << "no result for " << page;
        return {};
    }
    std::string last() const { return out(next_id_); }
    static std::string out(std::uint64_t id) {
        return (dir_ / ("out-" + std::to_string(id))).string();
    }

    static void pump() {
        std::vector<pollfd> fds;
        for (int fd : pool_->poll_fds()) fds.push_back({fd, POLLIN, 0});
        poll(fds.data(), fds.size(), static_cast<int>(pool_->next_timeout().count()));
    }

    static Xvfb* xvfb_;
    static fs::path dir_;
    static LoopbackHttpServer* server_;
    static RendererPool* pool_;
    static std::uint64_t next_id_;
};
Xvfb* RenderOptionsTest::xvfb_ = nullptr;
fs::path RenderOptionsTest::dir_;
LoopbackHttpServer* RenderOptionsTest::server_ = nullptr;
RendererPool* RenderOptionsTest::pool_ = nullptr;
std::uint64_t RenderOptionsTest::next_id_ = 1000;

#define ASSERT_OK(result) ASSERT_TRUE((result).ok) << (result).error_code << ": " << (result).error

const json kFast = {{"wait_until", "load"}};

TEST_F(RenderOptionsTest, DefaultIsA4WithTitleAndSmallFonts) {
    auto r = render("/basic.html", "pdf");
    ASSERT_OK(r);
    PdfInfo info = pdfinfo(last());
    EXPECT_EQ(info.pages, 1);
    EXPECT_NEAR(info.width_pt, 595.28, 1);
    EXPECT_NEAR(info.height_pt, 841.89, 1);
    EXPECT_EQ(info.title, "Basic fixture");
    EXPECT_NE(pdftext(last()).find("Plain paragraph"), std::string::npos);
    // Subset fonts: WebKit alone writes ~450 KB for this page.
    EXPECT_LT(fs::file_size(last()), 40'000u);
    // Default margins 10 mm = 28.35 pt, plus the body's 8 px margin at
    // Chromium's 0.75 pt per CSS px.
    EXPECT_NEAR(word_box_x(last(), "Basic").first, 28.35 + 6, 1);
}

TEST_F(RenderOptionsTest, PageSizesOrientationAndCustomSize) {
    json o = kFast;
    o["pdf_options"] = {{"page_size", "Letter"}, {"orientation", "landscape"}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    PdfInfo letter = pdfinfo(last());
    EXPECT_NEAR(letter.width_pt, 792, 1);
    EXPECT_NEAR(letter.height_pt, 612, 1);

    o["pdf_options"] = {{"page_size", "A5"}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    EXPECT_NEAR(pdfinfo(last()).width_pt, 419.53, 1);
    EXPECT_NEAR(pdfinfo(last()).height_pt, 595.28, 1);

    o["pdf_options"] = {{"page_width", 100}, {"page_height", 150}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    EXPECT_NEAR(pdfinfo(last()).width_pt, 283.46, 1);
    EXPECT_NEAR(pdfinfo(last()).height_pt, 425.2, 1);
}

TEST_F(RenderOptionsTest, MarginsAndScale) {
    json o = kFast;
    o["pdf_options"] = {{"margins", {{"left", 50}, {"top", 40}}}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    EXPECT_NEAR(word_box_x(last(), "Basic").first, 50 * 72 / 25.4 + 6, 1);

    ASSERT_OK(render("/basic.html", "pdf", kFast));
    auto [a0, a1] = word_box_x(last(), "Plain");
    // (Below ~0.6 WebKit's minimum logical font size of 9 px clamps body
    // text; docs/rendering.md.)
    o["pdf_options"] = {{"scale", 0.75}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    auto [b0, b1] = word_box_x(last(), "Plain");
    EXPECT_NEAR((b1 - b0) / (a1 - a0), 0.75, 0.05);  // font sizes round
}

TEST_F(RenderOptionsTest, PrintBackgroundAndGrayscale) {
    ASSERT_OK(render("/images.html", "pdf", kFast));
    const int colour = coloured_pixels(rasterise(last()));
    EXPECT_GT(colour, 50);  // blue image + green/blue gradient

    json o = kFast;
    o["pdf_options"] = {{"grayscale", true}};
    ASSERT_OK(render("/images.html", "pdf", o));
    const Raster gray = rasterise(last());
    EXPECT_EQ(coloured_pixels(gray), 0);
    // The paper stays white (margins and below the content).
    EXPECT_EQ(dark_pixels(gray, 0, 5), 0);
    EXPECT_EQ(dark_pixels(gray, gray.height - 5, gray.height), 0);
    EXPECT_NE(pdftext(last()).find("CSS background"), std::string::npos);

    ASSERT_OK(render("/basic.html", "pdf", kFast));
    const int with_bg = coloured_pixels(rasterise(last()));
    o["pdf_options"] = {{"print_background", false}};
    ASSERT_OK(render("/basic.html", "pdf", o));
    EXPECT_GT(with_bg, 50);  // the red box
    EXPECT_LT(coloured_pixels(rasterise(last())), with_bg / 10);
}

TEST_F(RenderOptionsTest, LongDocumentPaginatesAndSinglePageDoesNot) {
    ASSERT_OK(render("/long.html", "pdf", kFast));
    PdfInfo paged = pdfinfo(last());
    EXPECT_GE(paged.pages, 4);
    EXPECT_NE(pdftext(last()).find("END OF DOCUMENT"), std::string::npos);

    json o = kFast;
    o["single_page"] = true;
    ASSERT_OK(render("/long.html", "pdf", o));
    PdfInfo single = pdfinfo(last());
    EXPECT_EQ(single.pages, 1);
    EXPECT_NEAR(single.width_pt, 595.28, 1);
    EXPECT_GT(single.height_pt, 841.89 * (paged.pages - 1));
    EXPECT_NE(pdftext(last()).find("END OF DOCUMENT"), std::string::npos);
}

TEST_F(RenderOptionsTest, LinksBecomeAnnotations) {
    ASSERT_OK(render("/links.html", "pdf", kFast));
    // one, two, relative, mailto, #top (a jump to the first page); not the
    // fragment without a target nor javascript:.
    EXPECT_EQ(link_annotations(last()), 5);
    const std::string qdf = run_command("qpdf --qdf --object-streams=disable '" + last() + "' -");
    EXPECT_NE(qdf.find("(https://example.com/one)"), std::string::npos);
    EXPECT_NE(qdf.find(server_->url("/relative")), std::string::npos);

    ASSERT_OK(render("/long.html", "pdf", kFast));
    EXPECT_EQ(link_annotations(last()), 1);
}

TEST_F(RenderOptionsTest, HeaderAndFooterAreStampedInTheMargins) {
    json o = kFast;
    o["pdf_options"] = {
        {"header", {{"content", "<div>{{title}} | {{url}} | {{date}}</div>"}, {"height", 12}}},
        {"footer",
         {{"content", "<div style=\"text-align:right\">Page {{page}} of {{total_pages}}</div>"},
          {"height", 15}}}};
    auto r = render("/long.html", "pdf", o);
    ASSERT_OK(r);
    EXPECT_EQ(r.title, "Long document");
    EXPECT_EQ(pdfinfo(last()).title, "Long document");
    const int pages = pdfinfo(last()).pages;
    ASSERT_GE(pages, 4);
    constexpr double kPt = 72 / 25.4;
    const std::string total = std::to_string(pages);
    std::smatch m;
    for (int k : {1, 2, pages}) {
        SCOPED_TRACE("page " + std::to_string(k));
        const PageWords page = page_words(last(), k);
        ASSERT_NEAR(page.height, 841.89, 1);
        // The footer lies in the bottom 15 mm band, the header in the top
        // 12 mm, and the body (the only other text) between them.
        EXPECT_EQ(words_between(page, page.height - 15 * kPt, page.height),
                  "Page " + std::to_string(k) + " of " + total);
        const std::string header = words_between(page, 0, 12 * kPt);
        EXPECT_TRUE(std::regex_match(header, m,
                                     std::regex("Long document \\| " + server_->url("/long.html") +
                                                R"( \| (\d{4}-\d\d-\d\d))")))
            << header;
        const std::size_t body = std::count_if(page.words.begin(), page.words.end(), [&](auto& w) {
            return w.y0 >= 12 * kPt && w.y1 <= page.height - 15 * kPt;
        });
        EXPECT_EQ(body + 6 + 4, page.words.size());  // header 6 words, footer 4
        EXPECT_GT(body, 50u);
        // The footer is right-aligned at the right margin (10 mm).
        EXPECT_NEAR(page.words.back().x1, page.width - 10 * kPt, 3);
    }
    // Body text starts below the grown top margin, not under the header.
    const PageWords first = page_words(last(), 1);
    const auto heading = std::find_if(first.words.begin(), first.words.end(),
                                      [](const Word& w) { return w.y0 > 12 * 72 / 25.4; });
    ASSERT_NE(heading, first.words.end());
    EXPECT_EQ(heading->text, "Long");
    // Text stays text, and the bands' fonts are subset like the body's.
    EXPECT_LT(fs::file_size(last()), 80'000u);

    // Values are escaped: a title with markup characters shows as written.
    o["pdf_options"] = {{"header", {{"content", "<b>{{title}}</b>"}, {"height", 10}}},
                        {"grayscale", true}};
    ASSERT_OK(render("/bands.html", "pdf", o));
    const PageWords page = page_words(last(), 1);
    EXPECT_EQ(words_between(page, 0, 10 * kPt), "Q&amp;A &lt;Report&gt; &quot;quoted&quot;");
    EXPECT_NE(pdftext(last()).find("Body text that the header"), std::string::npos);
    // The stamp is transparent: the body's heading (rows 20..40 mm at
    // 20 dpi) is still visible under it, and the paper stays white.
    const Raster raster = rasterise(last());
    EXPECT_GT(dark_pixels(raster, 16, 32), 40);
    EXPECT_EQ(dark_pixels(raster, raster.height / 2, raster.height), 0);
}

TEST_F(RenderOptionsTest, PrintMediaQueriesApply) {
    ASSERT_OK(render("/print_media.html", "pdf", kFast));
    const std::string text = pdftext(last());
    EXPECT_NE(text.find("PRINT ONLY TEXT"), std::string::npos);
    EXPECT_EQ(text.find("SCREEN ONLY TEXT"), std::string::npos);
}

TEST_F(RenderOptionsTest, WebFontsCjkAndEmojiAreEmbeddedAndExtractable) {
    ASSERT_OK(render("/webfont.html", "pdf", kFast));
    EXPECT_NE(run_command("pdffonts '" + last() + "'").find("DejaVuSerif"), std::string::npos);
    EXPECT_NE(pdftext(last()).find("downloaded web font"), std::string::npos);
    EXPECT_LT(fs::file_size(last()), 60'000u);

    ASSERT_OK(render("/cjk_emoji.html", "pdf", kFast));
    const std::string text = pdftext(last());
    // (Skia maps some ideographs to their Kangxi radical look-alikes in
    // ToUnicode, e.g. 日 -> U+2F47, as Chromium's PDFs do too.)
    EXPECT_NE(text.find("本語のテキスト"), std::string::npos) << text;
    EXPECT_NE(text.find("한국어 텍스트"), std::string::npos) << text;
    // CJK fonts are tens of MB whole.
    EXPECT_LT(fs::file_size(last()), 300'000u);
}

TEST_F(RenderOptionsTest, WaitForSelectorDelayAndNetworkIdle) {
    // Without waiting, the script-rendered content is not there yet.
    ASSERT_OK(render("/js_content.html", "pdf", kFast));
    EXPECT_EQ(pdftext(last()).find("Rendered by script"), std::string::npos);

    json o = kFast;
    o["wait_for_selector"] = "#rendered";
    ASSERT_OK(render("/js_content.html", "pdf", o));
    EXPECT_NE(pdftext(last()).find("Rendered by script"), std::string::npos);

    o = kFast;
    o["delay"] = 1800;
    ASSERT_OK(render("/js_content.html", "pdf", o));
    EXPECT_NE(pdftext(last()).find("Rendered by script"), std::string::npos);

    // networkidle waits for the fetch() answered 700 ms after load.
    ASSERT_OK(render("/js_content.html", "pdf", {{"wait_until", "networkidle"}}));
    EXPECT_NE(pdftext(last()).find("Fetched after load"), std::string::npos);
}

// A page that can start no request by itself any more is quiet sooner
// (settle_rule.h); each way a page can still start one keeps the full wait.
TEST_F(RenderOptionsTest, NetworkIdleWaitsForWhatAPageCanStillStart) {
    for (const char* page :
         {"/late/removed_script.html", "/late/handler.html", "/late/frame.html"}) {
        ASSERT_OK(render(page, "pdf", {{"wait_until", "networkidle"}}));
        EXPECT_NE(pdftext(last()).find("Fetched after load"), std::string::npos) << page;
    }
    ASSERT_OK(
        render("/late/animation.html", "png",
               {{"wait_until", "networkidle"}, {"viewport_width", 400}, {"viewport_height", 300}}));
    EXPECT_GT(coloured_pixels(png_raster(last())), 200 * 100 / 2);
}

// The view paints nothing while a document loads (the parser's partial
// layouts): it is shown once loaded, for the waits, which need rendering
// updates (requestAnimationFrame here).
TEST_F(RenderOptionsTest, APageLoadsHiddenAtItsPaceAndSettlesShown) {
    ASSERT_OK(render("/loading_view.html", "pdf",
                     {{"wait_until", "load"}, {"wait_for_selector", "#settled"}}));
    const std::string text = pdftext(last());
    EXPECT_NE(text.find("parsed while hidden"), std::string::npos) << text;
    EXPECT_NE(text.find("ten timers in under a second while hidden"), std::string::npos) << text;
    EXPECT_NE(text.find("settled while visible"), std::string::npos) << text;
    EXPECT_NE(text.find("revealed by the animation"), std::string::npos) << text;
}

// Each job's viewport reaches the page before its load, whatever the last
// job's was (here: the paper's printable width, 718 px, then 1280).
TEST_F(RenderOptionsTest, ALoadingPageSeesItsJobsViewport) {
    ASSERT_OK(render("/media_width.html", "pdf", kFast));
    EXPECT_NE(pdftext(last()).find("innerWidth 718 matches true"), std::string::npos)
        << pdftext(last());
    ASSERT_OK(render("/media_width.html", "pdf",
                     {{"wait_until", "load"},
                      {"viewport_width", 1280},
                      {"pdf_options", {{"layout_width", "viewport"}}}}));
    EXPECT_NE(pdftext(last()).find("innerWidth 1280 matches false"), std::string::npos)
        << pdftext(last());
    ASSERT_OK(render("/media_width.html", "pdf", kFast));
    EXPECT_NE(pdftext(last()).find("innerWidth 718 matches true"), std::string::npos)
        << pdftext(last());
}

TEST_F(RenderOptionsTest, SelectorErrors) {
    auto r = render("/basic.html", "pdf",
                    {{"wait_until", "load"},
                     {"wait_for_selector", "#never"},
                     {"wait_for_selector_timeout", 300}});
    EXPECT_EQ(r.error_code, "selector_not_found");
    EXPECT_EQ(r.error, "Failed to render page: selector \"#never\" did not appear within 300 ms");
    r = render("/basic.html", "pdf", {{"wait_for_selector", "##bad["}});
    EXPECT_EQ(r.error_code, "invalid_request");
}

TEST_F(RenderOptionsTest, FailOnHttpError) {
    auto r = render("/gone", "pdf", {{"fail_on_http_error", true}});
    EXPECT_EQ(r.error_code, "http_error");
    EXPECT_EQ(r.error.find("Failed to load page: 127.0.0.1:"), 0u) << r.error;
    EXPECT_NE(r.error.find("answered HTTP 410"), std::string::npos) << r.error;
    EXPECT_FALSE(fs::exists(last()));
}

TEST_F(RenderOptionsTest, InvalidOptionsAreNamed) {
    auto r = render("/basic.html", "pdf", {{"pdf_options", {{"scale", 3}}}});
    EXPECT_EQ(r.error_code, "invalid_request");
    EXPECT_EQ(r.error, "Invalid render request: pdf_options.scale must be a number from 0.1 to 2");
    r = render("/basic.html", "pdf", {{"pdf_options", {{"page_size", "A9"}}}});
    EXPECT_EQ(r.error_code, "invalid_request");
    r = render("/basic.html", "pdf", {{"pdf_options", {{"page_width", 100}}}});
    EXPECT_NE(r.error.find("page_width and page_height"), std::string::npos);
    r = render("/basic.html", "pdf", {{"pdf_options", {{"margin", 1}}}});
    EXPECT_EQ(r.error, "Invalid render request: pdf_options.margin is not a known field");
    r = render("/basic.html", "pdf", {{"pdf_options", {{"outline", "yes"}}}});
    EXPECT_EQ(r.error, "Invalid render request: pdf_options.outline must be true or false");
    r = render("/basic.html", "pdf",
               {{"pdf_options", {{"metadata", {{"title", std::string(1001, 'x')}}}}}});
    EXPECT_EQ(r.error,
              "Invalid render request: pdf_options.metadata.title must be a string of at most "
              "1000 characters");
    r = render("/basic.html", "pdf", {{"pdf_options", {{"metadata", {{"creator", "x"}}}}}});
    EXPECT_EQ(r.error, "Invalid render request: pdf_options.metadata.creator is not a known field");
    r = render("/basic.html", "pdf", {{"wait_until", "domcontentloaded"}});
    EXPECT_EQ(r.error_code, "invalid_request");
    r = render("/basic.html", "png", {{"image_quality", 0}});
    EXPECT_EQ(r.error_code, "invalid_request");
    r = render("/basic.html", "png", {{"viewport_width", 100}});
    EXPECT_EQ(r.error,
              "Invalid render request: viewport_width must be an integer from 320 to 7680");
    r = render("/basic.html", "png", {{"viewport_height", 16385}});
    EXPECT_EQ(r.error,
              "Invalid render request: viewport_height must be an integer from 240 to 16384");
}

TEST_F(RenderOptionsTest, ScreenshotFormatsQualityAndRegion) {
    json o = {{"wait_until", "load"}, {"viewport_width", 800}, {"viewport_height", 600}};
    ASSERT_OK(render("/images.html", "png", o));
    auto png = image_size(read_file(last()));
    EXPECT_EQ(png.first, 800);
    EXPECT_GT(png.second, 2500);  // full page by default

    o["full_page"] = false;
    ASSERT_OK(render("/images.html", "jpeg", o));
    const std::string jpeg = read_file(last());
    EXPECT_EQ(image_size(jpeg), std::make_pair(800, 600));
    o["image_quality"] = 10;
    ASSERT_OK(render("/images.html", "jpeg", o));
    EXPECT_LT(read_file(last()).size(), jpeg.size());

    o["image_quality"] = 80;
    ASSERT_OK(render("/images.html", "webp", o));
    const std::string webp = read_file(last());
    EXPECT_EQ(webp.substr(8, 4), "WEBP");
    EXPECT_EQ(image_size(webp), std::make_pair(800, 600));
}

TEST_F(RenderOptionsTest, TallPagesAreCapturedInTiles) {
    // long.html is about 23600 px tall at 320 px wide, more than one
    // snapshot may be: captured a viewport at a time and kept whole
    // (tiled_snapshot.h; the e2e test checks the pixels).
    ASSERT_OK(render("/long.html", "png", {{"wait_until", "load"}, {"viewport_width", 320}}));
    auto size = image_size(read_file(last()));
    EXPECT_EQ(size.first, 320);
    EXPECT_GT(size.second, 20000);
    // WebP cannot hold it: a clear failure instead of a cut image.
    auto r = render("/long.html", "webp", {{"wait_until", "load"}, {"viewport_width", 320}});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, "print_failed");
    EXPECT_NE(r.error.find("WebP image holds at most 16383 px"), std::string::npos) << r.error;
}

// A page that scrolls inside its body (the window cannot scroll) is what
// the window shows, in one snapshot: measured by its body, it was captured
// in tiles that stalled after the first and padded with white to 40,000 px.
TEST_F(RenderOptionsTest, APageScrollingInsideItsBodyIsNotPaddedWithWhite) {
    ASSERT_OK(render("/inner_scroller.html", "png",
                     {{"wait_until", "load"}, {"viewport_width", 400}, {"viewport_height", 300}}));
    const auto size = image_size(read_file(last()));
    EXPECT_EQ(size.first, 400);
    EXPECT_LT(size.second, 16384) << "padded to the body's height";
}

}  // namespace
}  // namespace enconvert::render
