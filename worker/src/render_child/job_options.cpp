#include "render_child/job_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "options/option_limits.h"
#include "render_child/image_writer.h"
#include "render_child/page_sizes.h"
#include "render_child/print_setup.h"
#include "util/ascii.h"

namespace enconvert::render_child {
namespace {

using nlohmann::json;

namespace limits = enconvert::options;

// What must stay printable once margins, header and footer are taken.
constexpr double kMinPrintableMm = 10;
// The tallest image a screenshot keeps (image_writer.h); a window of 32768
// px or more makes X fail (BadAlloc) and takes the whole renderer down.
static_assert(limits::viewport_height.max == kMaxImageSide);

// Collects the first problem; later reads become no-ops, so callers can read
// every field unconditionally and check once at the end.
class Reader {
  public:
    const std::string& error() const { return error_; }
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }

    // Each returns the value node or nullptr when absent (JSON null counts
    // as absent: the module may forward "no value" that way).
    const json* find(const json& object, const char* key) {
        auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }

    void integer(const json& obj, const char* key, const std::string& name,
                 const limits::Range& range, int& out) {
        const json* v = find(obj, key);
        if (!v) return;
        const auto min = static_cast<long>(range.min);
        const auto max = static_cast<long>(range.max);
        if (!v->is_number_integer() || v->get<long>() < min || v->get<long>() > max)
            return fail(name + " must be an integer from " + std::to_string(min) + " to " +
                        std::to_string(max));
        out = static_cast<int>(v->get<long>());
    }

    void number(const json& obj, const char* key, const std::string& name,
                const limits::Range& range, double& out) {
        const json* v = find(obj, key);
        if (!v) return;
        const double min = range.min;
        const double max = range.max;
        if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min ||
            v->get<double>() > max) {
            char buffer[96];
            std::snprintf(buffer, sizeof buffer, " must be a number from %g to %g", min, max);
            return fail(name + buffer);
        }
        out = v->get<double>();
    }

    void boolean(const json& obj, const char* key, const std::string& name, bool& out) {
        const json* v = find(obj, key);
        if (!v) return;
        if (!v->is_boolean()) return fail(name + " must be true or false");
        out = v->get<bool>();
    }

    const json* object(const json& obj, const char* key, const std::string& name) {
        const json* v = find(obj, key);
        if (v && !v->is_object()) {
            fail(name + " must be an object");
            return nullptr;
        }
        return v;
    }

    // Fields of an object other than `known` are refused: inside our own
    // option objects a typo must not silently do nothing.
    void only(const json& obj, const std::string& name,
              std::initializer_list<std::string_view> known) {
        for (const auto& [key, value] : obj.items()) {
            bool listed = false;
            for (auto k : known) listed = listed || k == key;
            if (!listed) return fail(name + "." + key + " is not a known field");
        }
    }

  private:
    std::string error_;
};

std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

void read_band(Reader& r, const json& pdf, const char* key, std::optional<Band>& out) {
    const std::string name = std::string("pdf_options.") + key;
    const json* band = r.object(pdf, key, name);
    if (!band) return;
    r.only(*band, name, {"content", "height"});
    Band b;
    // Absent: the band's room is kept empty (the vendor's clients may send
    // only a height).
    const json* content = r.find(*band, "content");
    if (content && !content->is_string()) return r.fail(name + ".content must be a string of HTML");
    if (content) b.content = content->get<std::string>();
    if (utf8_length(b.content) > limits::pdf_options_band_content.max)
        return r.fail(name + ".content must be at most " +
                      std::to_string(static_cast<int>(limits::pdf_options_band_content.max)) +
                      " characters");
    r.number(*band, "height", name + ".height", limits::pdf_options_band_height, b.height_mm);
    out = std::move(b);
}

void read_metadata(Reader& r, const json& pdf, PdfMetadata& out) {
    const json* m = r.object(pdf, "metadata", "pdf_options.metadata");
    if (!m) return;
    r.only(*m, "pdf_options.metadata", {"title", "author", "subject", "keywords"});
    auto text = [&](const char* key, std::optional<std::string>& field) {
        const json* v = r.find(*m, key);
        if (!v) return;
        const std::string name = std::string("pdf_options.metadata.") + key;
        // The four members share their limit (schema/options.json).
        const double most = limits::pdf_options_metadata_title.max;
        if (!v->is_string() || utf8_length(v->get<std::string>()) > most)
            return r.fail(name + " must be a string of at most " +
                          std::to_string(static_cast<int>(most)) + " characters");
        field = v->get<std::string>();
    };
    text("title", out.title);
    text("author", out.author);
    text("subject", out.subject);
    text("keywords", out.keywords);
}

void read_pdf_options(Reader& r, const json& options, Job& job) {
    PdfOptions& p = job.pdf;
    const json* pdf = r.object(options, "pdf_options", "pdf_options");
    if (!pdf) return;
    r.only(*pdf, "pdf_options",
           {"page_size", "page_width", "page_height", "orientation", "margins", "scale",
            "print_background", "grayscale", "header", "footer", "outline", "metadata",
            "layout_width"});

    if (const json* size = r.find(*pdf, "page_size")) {
        std::optional<PaperMm> paper;
        if (size->is_string()) paper = paper_size(size->get<std::string>());
        if (!paper)
            return r.fail(
                "pdf_options.page_size must be one of A0-A6, B0-B5, Letter, Legal, Tabloid, "
                "Ledger");
        p.page_width_mm = paper->width;
        p.page_height_mm = paper->height;
    }
    const bool has_width = r.find(*pdf, "page_width") != nullptr;
    const bool has_height = r.find(*pdf, "page_height") != nullptr;
    if (has_width != has_height)
        return r.fail("pdf_options.page_width and page_height must be given together");
    r.number(*pdf, "page_width", "pdf_options.page_width", limits::pdf_options_page_width,
             p.page_width_mm);
    r.number(*pdf, "page_height", "pdf_options.page_height", limits::pdf_options_page_height,
             p.page_height_mm);

    if (const json* o = r.find(*pdf, "orientation")) {
        // Ignoring case, as the hosted service does ("Landscape").
        const std::string value = o->is_string() ? util::ascii_lower(o->get<std::string>()) : "";
        if (value != "portrait" && value != "landscape")
            return r.fail("pdf_options.orientation must be \"portrait\" or \"landscape\"");
        p.landscape = value == "landscape";
    }

    if (const json* m = r.object(*pdf, "margins", "pdf_options.margins")) {
        r.only(*m, "pdf_options.margins", {"top", "right", "bottom", "left"});
        r.number(*m, "top", "pdf_options.margins.top", limits::pdf_options_margins_top,
                 p.margin_top_mm);
        r.number(*m, "right", "pdf_options.margins.right", limits::pdf_options_margins_right,
                 p.margin_right_mm);
        r.number(*m, "bottom", "pdf_options.margins.bottom", limits::pdf_options_margins_bottom,
                 p.margin_bottom_mm);
        r.number(*m, "left", "pdf_options.margins.left", limits::pdf_options_margins_left,
                 p.margin_left_mm);
    }
    r.number(*pdf, "scale", "pdf_options.scale", limits::pdf_options_scale, p.scale);
    if (const json* w = r.find(*pdf, "layout_width")) {
        if (!w->is_string() || (*w != "page" && *w != "viewport"))
            return r.fail("pdf_options.layout_width must be \"page\" or \"viewport\"");
        p.layout_at_viewport = *w == "viewport";
    }
    r.boolean(*pdf, "print_background", "pdf_options.print_background", p.print_background);
    r.boolean(*pdf, "grayscale", "pdf_options.grayscale", p.grayscale);
    read_band(r, *pdf, "header", p.header);
    read_band(r, *pdf, "footer", p.footer);
    r.boolean(*pdf, "outline", "pdf_options.outline", p.outline);
    read_metadata(r, *pdf, p.metadata);
}

// Orientation turns the sheet; then the margins (grown to hold the header
// and footer bands) must leave something to print on.
void resolve_page(Reader& r, PdfOptions& p) {
    // "landscape" puts the long side horizontal. "portrait" keeps the size
    // as named or given, so Ledger and wide custom sizes stay wide.
    if (p.landscape && p.page_width_mm < p.page_height_mm)
        std::swap(p.page_width_mm, p.page_height_mm);
    if (p.header) p.margin_top_mm = std::max(p.margin_top_mm, p.header->height_mm);
    if (p.footer) p.margin_bottom_mm = std::max(p.margin_bottom_mm, p.footer->height_mm);
    if (p.page_width_mm - p.margin_left_mm - p.margin_right_mm < kMinPrintableMm ||
        p.page_height_mm - p.margin_top_mm - p.margin_bottom_mm < kMinPrintableMm)
        r.fail("pdf_options.margins leave less than 10 mm of the page to print on");
}

// layout_width "viewport": the print scale that makes the printable width
// exactly the viewport's width in CSS px, so the page is laid out as on a
// screen that wide and shrunk onto the paper; `scale` is replaced.
constexpr double kMaxViewportLayoutScale = 4;

void lay_out_at_viewport(Reader& r, Job& job) {
    PdfOptions& p = job.pdf;
    p.scale = 1;
    const double printable_px = printable_width_css_px(p);
    p.scale = printable_px / job.viewport_width;
    // A bound on the enlargement: a 320 px viewport on a 5 m sheet was 60
    // times, a page printed as thousands of sheets. A phone's viewport on
    // A3 (3.3 times) stays allowed. Shrinking is let be: fewer pages.
    if (p.scale > kMaxViewportLayoutScale) {
        char factor[32];
        std::snprintf(factor, sizeof factor, "%.1f", p.scale);
        r.fail("pdf_options.layout_width \"viewport\" would print the page " + std::string(factor) +
               " times its size (the printable width is " +
               std::to_string(static_cast<int>(printable_px)) + " CSS px, viewport_width " +
               std::to_string(job.viewport_width) + "); at most " +
               std::to_string(static_cast<int>(kMaxViewportLayoutScale)) +
               ": a wider viewport_width or a narrower page");
    }
}

}  // namespace

std::string read_options(const json& options, Job& job) {
    Reader r;
    const bool pdf = job.format == "pdf";
    r.integer(options, "viewport_width", "viewport_width", limits::viewport_width,
              job.viewport_width);
    r.integer(options, "viewport_height", "viewport_height", limits::viewport_height,
              job.viewport_height);
    int timeout = static_cast<int>(job.timeout_seconds);
    r.integer(options, "timeout", "timeout", limits::timeout, timeout);
    job.timeout_seconds = job.budget_seconds = timeout;

    if (const json* w = r.find(options, "wait_until")) {
        if (!w->is_string() || (*w != "load" && *w != "networkidle"))
            r.fail("wait_until must be \"load\" or \"networkidle\"");
        else
            job.wait_until = *w == "load" ? WaitUntil::Load : WaitUntil::NetworkIdle;
    }
    if (const json* s = r.find(options, "wait_for_selector")) {
        const limits::Range bytes = limits::wait_for_selector;
        if (!s->is_string() || s->get<std::string>().size() < bytes.min ||
            s->get<std::string>().size() > bytes.max)
            r.fail("wait_for_selector must be a CSS selector of " +
                   std::to_string(static_cast<int>(bytes.min)) + " to " +
                   std::to_string(static_cast<int>(bytes.max)) + " bytes");
        else
            job.wait_for_selector = s->get<std::string>();
    }
    r.integer(options, "wait_for_selector_timeout", "wait_for_selector_timeout",
              limits::wait_for_selector_timeout, job.wait_for_selector_timeout_ms);
    r.integer(options, "delay", "delay", limits::delay, job.delay_ms);
    r.boolean(options, "fail_on_http_error", "fail_on_http_error", job.fail_on_http_error);
    if (r.error().empty()) r.fail(read_credentials(options, job.credentials));
    r.boolean(options, "load_media", "load_media", job.load_media);
    r.boolean(options, "wait_for_images", "wait_for_images", job.wait_for_images);
    r.boolean(options, "enable_scroll", "enable_scroll", job.enable_scroll);
    r.boolean(options, "block_media", "block_media", job.block_media);
    r.boolean(options, "block_ads", "block_ads", job.block_ads);
    r.boolean(options, "handle_cookies", "handle_cookies", job.handle_cookies);
    r.boolean(options, "handle_sticky_header", "handle_sticky_header", job.handle_sticky_header);

    if (pdf) {
        r.boolean(options, "single_page", "single_page", job.single_page);
        read_pdf_options(r, options, job);
        if (r.error().empty()) resolve_page(r, job.pdf);
        if (r.error().empty() && job.pdf.layout_at_viewport) lay_out_at_viewport(r, job);
    } else {
        if (const json* f = r.find(options, "image_format")) {
            // `format` of the request is authoritative; a contradicting
            // image_format means the caller mixed two requests up.
            if (!f->is_string() || *f != job.format)
                r.fail("image_format must match the request format (" + job.format + ")");
        }
        r.integer(options, "image_quality", "image_quality", limits::image_quality,
                  job.image_quality);
        r.boolean(options, "full_page", "full_page", job.full_page);
    }
    return r.error();
}

}  // namespace enconvert::render_child
