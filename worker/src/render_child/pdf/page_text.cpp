#include "render_child/pdf/page_text.h"

#include <poppler.h>

#include <algorithm>
#include <memory>

#include "render_child/glib_ptr.h"
#include "render_child/pdf/poppler_document.h"

namespace enconvert::render_child::pdf {

namespace {

bool is_dash(gunichar c) {
    switch (c) {
        case 0x002D:  // hyphen-minus
        case 0x00AD:  // soft hyphen (shown as a hyphen where a line breaks)
        case 0x2010:
        case 0x2011:
        case 0x2012:
        case 0x2013:
        case 0x2014:
        case 0x2015:
        case 0x2212:  // minus sign
        case 0xFE63:
        case 0xFF0D:
            return true;
        default:
            return false;
    }
}

bool dropped(gunichar c) {
    if (g_unichar_isspace(c) || is_dash(c)) return true;
    switch (g_unichar_type(c)) {
        case G_UNICODE_CONTROL:
        case G_UNICODE_FORMAT:  // zero-width joiners, direction marks
        case G_UNICODE_NON_SPACING_MARK:
        case G_UNICODE_ENCLOSING_MARK:
        case G_UNICODE_SPACING_MARK:
        case G_UNICODE_SPACE_SEPARATOR:
        case G_UNICODE_LINE_SEPARATOR:
        case G_UNICODE_PARAGRAPH_SEPARATOR:
            return true;
        default:
            return false;
    }
}

}  // namespace

void append_normalized(char32_t c, std::u32string& out) {
    if (dropped(c)) return;
    gunichar parts[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
    const gsize n = g_unichar_fully_decompose(c, TRUE, parts, G_UNICHAR_MAX_DECOMPOSITION_LENGTH);
    for (gsize i = 0; i < n; ++i) {
        if (dropped(parts[i])) continue;
        out.push_back(static_cast<char32_t>(g_unichar_tolower(parts[i])));
    }
}

std::u32string normalize_text(std::string_view utf8) {
    std::u32string out;
    const char* p = utf8.data();
    const char* end = p + utf8.size();
    while (p < end) {
        const gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
            ++p;  // not UTF-8: skip the byte
            continue;
        }
        append_normalized(c, out);
        p = g_utf8_next_char(p);
    }
    return out;
}

PageText read_page_text(const std::string& path, std::string* error) {
    PageText result;
    GObjectPtr<PopplerDocument> doc(open_poppler_document(path, error));
    if (!doc) return result;
    const int pages = poppler_document_get_n_pages(doc.get());
    std::u32string normalized;
    for (int k = 0; k < pages; ++k) {
        GObjectPtr<PopplerPage> page(poppler_document_get_page(doc.get(), k));
        double width = 0, height = 0;
        if (page) poppler_page_get_size(page.get(), &width, &height);
        result.page_heights.push_back(height);
        if (!page) continue;
        GCharPtr text(poppler_page_get_text(page.get()));
        PopplerRectangle* rects_raw = nullptr;
        guint count = 0;
        if (!text || !poppler_page_get_text_layout(page.get(), &rects_raw, &count)) {
            g_free(rects_raw);
            continue;
        }
        // One rectangle per character of the page's text, in order.
        std::unique_ptr<PopplerRectangle, GFree> rects(rects_raw);
        const std::size_t page_start = result.glyphs.size();
        const char* p = text.get();
        gunichar previous = ' ';
        for (guint i = 0; i < count && *p; ++i, p = g_utf8_next_char(p)) {
            const gunichar c = g_utf8_get_char(p);
            const bool follows_word = !g_unichar_isspace(previous);
            previous = c;
            const PopplerRectangle& r = rects.get()[i];
            if (is_dash(c) && follows_word && result.glyphs.size() > page_start) {
                // A dash is not matched, but a link broken at one (a
                // hyphen at the line's end) should still cover it: it
                // widens the glyph before it on the same line.
                Glyph& before = result.glyphs.back();
                if (std::min(before.y1, r.y2) - std::max(before.y0, r.y1) > 0 && r.x2 > before.x1)
                    before.x1 = r.x2;
            }
            normalized.clear();
            append_normalized(c, normalized);
            for (char32_t n : normalized) result.glyphs.push_back({n, k, r.x1, r.y1, r.x2, r.y2});
        }
    }
    return result;
}

}  // namespace enconvert::render_child::pdf
