#include "render_child/pdf/postprocess.h"

#include <exception>
#include <optional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

#include "render_child/pdf/font_subsetter.h"
#include "render_child/pdf/grayscale.h"
#include "render_child/pdf/link_annotator.h"
#include "render_child/pdf/mapped_file.h"
#include "render_child/pdf/outline_writer.h"
#include "render_child/pdf/page_overlay.h"
#include "render_child/pdf/pdf_file.h"
#include "render_child/pdf/pdf_metadata.h"
#include "render_child/pdf/type3_fonts.h"

namespace enconvert::render_child::pdf {

WriteError postprocess(const std::string& path, const PostProcessInput& input,
                       PostProcessStats* stats) {
    try {
        // The bands' streams are copied lazily: `bands` outlives the write.
        std::optional<MappedPdf> bands;
        MappedPdf body(path);
        QPDF& doc = body.doc();
        int stamped = 0;
        if (!input.overlay_path.empty()) {
            bands.emplace(input.overlay_path);
            stamped = overlay_pages(doc, bands->doc());
        }
        // After stamping, so the bands' fonts are subset and merged with
        // the body's identical ones too; the replaced Type 3 fonts too.
        const Type3Stats type3 = replace_type3_fonts(doc);
        const FontStats fonts = subset_fonts(doc);
        const int links = add_links(doc, input.links);
        const int outline = write_outline(doc, input.outline);
        set_metadata(doc, input.info);
        if (input.grayscale) make_grayscale(doc);
        WriteError error = write_replacing(doc, path, [](QPDFWriter& writer) {
            // Object streams and compressed streams: what makes
            // Chromium's files small besides the font subsets. Streams
            // WebKit already deflated pass through: inflating and
            // deflating them again at the same zlib level gave the same
            // bytes (PostgreSQL manual pages, 113-226 KiB) and cost ~30 ms
            // of a 60-page PDF's 50 ms write.
            writer.setObjectStreamMode(qpdf_o_generate);
            writer.setStreamDataMode(qpdf_s_compress);
            writer.setCompressStreams(true);
            writer.setRecompressFlate(false);
        });
        if (!error.failed() && stats)
            *stats = {fonts.programs, fonts.subset, fonts.duplicates, type3.replaced,
                      type3.kept,     links,        outline,          stamped};
        return error;
    } catch (const std::exception& e) {
        return {e.what()};
    }
}

int page_count(const std::string& path) {
    try {
        MappedPdf pdf(path);
        return static_cast<int>(QPDFPageDocumentHelper(pdf.doc()).getAllPages().size());
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace enconvert::render_child::pdf
