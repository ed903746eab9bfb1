#include "render_child/pdf/trailing_page.h"

#include <cairo.h>
#include <poppler.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

#include "render_child/glib_ptr.h"
#include "render_child/pdf/mapped_file.h"
#include "render_child/pdf/pdf_file.h"
#include "render_child/pdf/poppler_document.h"

namespace enconvert::render_child::pdf {
namespace {

struct SurfaceDestroy {
    void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDestroy {
    void operator()(cairo_t* c) const { cairo_destroy(c); }
};

// Coarse is enough: a sliver is a few points tall, the limit 4 mm.
constexpr double kDotsPerPoint = 36.0 / 72.0;
constexpr double kPointsPerMm = 72.0 / 25.4;
// Anything darker than this on white paper counts as ink.
constexpr int kInkBelow = 250;

bool has_text(PopplerPage* page) {
    GCharPtr text(poppler_page_get_text(page));
    if (!text) return false;
    for (const char* c = text.get(); *c; ++c)
        if (!std::isspace(static_cast<unsigned char>(*c))) return true;
    return false;
}

// Height in points of the band between the first and the last inked row.
double ink_height_points(PopplerPage* page) {
    double width_pt = 0, height_pt = 0;
    poppler_page_get_size(page, &width_pt, &height_pt);
    const int w = std::max(1, static_cast<int>(width_pt * kDotsPerPoint));
    const int h = std::max(1, static_cast<int>(height_pt * kDotsPerPoint));
    std::unique_ptr<cairo_surface_t, SurfaceDestroy> surface(
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h));
    std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    cairo_scale(cr.get(), kDotsPerPoint, kDotsPerPoint);
    poppler_page_render_for_printing(page, cr.get());
    cairo_surface_flush(surface.get());
    const unsigned char* data = cairo_image_surface_get_data(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    int first = -1, last = -1;
    for (int y = 0; y < h; ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
        for (int x = 0; x < w; ++x) {
            const std::uint32_t px = row[x];
            const int r = (px >> 16) & 0xFF, g = (px >> 8) & 0xFF, b = px & 0xFF;
            if (r < kInkBelow || g < kInkBelow || b < kInkBelow) {
                if (first < 0) first = y;
                last = y;
                break;
            }
        }
    }
    if (first < 0) return 0;
    return (last - first + 1) / kDotsPerPoint;
}

}  // namespace

LastPage read_last_page(const std::string& path, bool look_for_sliver) {
    LastPage result;
    GObjectPtr<PopplerDocument> doc(open_poppler_document(path, nullptr));
    if (!doc) return result;
    result.pages = std::max(0, poppler_document_get_n_pages(doc.get()));
    if (!look_for_sliver || result.pages < 2) return result;
    GObjectPtr<PopplerPage> last(poppler_document_get_page(doc.get(), result.pages - 1));
    if (!last || has_text(last.get())) return result;
    result.sliver = ink_height_points(last.get()) <= kSliverMaxMm * kPointsPerMm;
    return result;
}

std::string drop_last_page(const std::string& path) {
    try {
        MappedPdf pdf(path);
        QPDF& doc = pdf.doc();
        QPDFPageDocumentHelper pages(doc);
        std::vector<QPDFPageObjectHelper> all = pages.getAllPages();
        if (all.size() < 2) return "the document has a single page";
        pages.removePage(all.back());
        return write_replacing(doc, path).message;
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace enconvert::render_child::pdf
