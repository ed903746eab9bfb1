// Small PDFs made at test time for the post-processing tests: one with a
// whole TrueType font embedded as WebKit does (Type0, Identity-H,
// FontFile2), and cairo-drawn pages for colour and overlay checks.
#pragma once

#include <cairo-pdf.h>
#include <hb.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <sstream>
#include <string>

#include "../../../support/process_io.h"

namespace enconvert::render_child::pdf::testing {

inline constexpr const char* kFontPath =
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

// Glyph ids of `text` (ASCII) in the font, as 2-byte big-endian codes.
inline std::string glyph_codes(const std::string& font, const std::string& text) {
    std::unique_ptr<hb_blob_t, decltype(&hb_blob_destroy)> blob(
        hb_blob_create(font.data(), static_cast<unsigned>(font.size()), HB_MEMORY_MODE_READONLY,
                       nullptr, nullptr),
        &hb_blob_destroy);
    std::unique_ptr<hb_face_t, decltype(&hb_face_destroy)> face(hb_face_create(blob.get(), 0),
                                                                &hb_face_destroy);
    std::unique_ptr<hb_font_t, decltype(&hb_font_destroy)> hb(hb_font_create(face.get()),
                                                              &hb_font_destroy);
    std::string codes;
    for (char c : text) {
        hb_codepoint_t gid = 0;
        hb_font_get_nominal_glyph(hb.get(), static_cast<hb_codepoint_t>(c), &gid);
        codes += static_cast<char>(gid >> 8);
        codes += static_cast<char>(gid & 0xFF);
    }
    return codes;
}

inline std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// A Type0 font around its own copy of the whole font program; ToUnicode
// maps the glyphs of `text` back, so text is extractable.
inline QPDFObjectHandle type0_font(QPDF& pdf, const std::string& font, const std::string& text) {
    QPDFObjectHandle program = QPDFObjectHandle::newStream(&pdf, font);
    program.getDict().replaceKey("/Length1",
                                 QPDFObjectHandle::newInteger(static_cast<long long>(font.size())));
    QPDFObjectHandle descriptor = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /FontDescriptor /FontName /AAAAAA+LiberationSans /Flags 32 "
        "/FontBBox [-544 -303 1302 980] /ItalicAngle 0 /Ascent 905 /Descent -212 "
        "/CapHeight 1409 /StemV 80 >>"));
    descriptor.replaceKey("/FontFile2", program);
    std::string cmap =
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        "/CMapName /Enc def 1 begincodespacerange <0000> <FFFF> endcodespacerange ";
    const std::string codes = glyph_codes(font, text);
    cmap += std::to_string(text.size()) + " beginbfchar ";
    for (std::size_t i = 0; i < text.size(); ++i) {
        char unicode[8];
        std::snprintf(unicode, sizeof unicode, "%04X", static_cast<unsigned char>(text[i]));
        cmap += "<" + hex(codes.substr(2 * i, 2)) + "> <" + unicode + "> ";
    }
    cmap += "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end";
    QPDFObjectHandle cid = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+LiberationSans "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        "/DW 600 /CIDToGIDMap /Identity >>"));
    cid.replaceKey("/FontDescriptor", descriptor);
    QPDFObjectHandle type0 = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Font /Subtype /Type0 /BaseFont "
                                "/AAAAAA+LiberationSans /Encoding /Identity-H >>"));
    type0.replaceKey("/DescendantFonts", QPDFObjectHandle::newArray({cid}));
    type0.replaceKey("/ToUnicode", QPDFObjectHandle::newStream(&pdf, cmap));
    return type0;
}

// An A4 page drawing `content` with the /Font resources `fonts`, added last.
inline void add_page(QPDF& pdf, QPDFObjectHandle fonts, const std::string& content) {
    QPDFObjectHandle page = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Page /MediaBox [0 0 595.28 841.89] >>"));
    QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
    resources.replaceKey("/Font", fonts);
    page.replaceKey("/Resources", resources);
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
    QPDFPageDocumentHelper(pdf).addPage(page, false);
}

// One A4 page showing `first` with one embedded copy of the font and
// `second` with another (WebKit often embeds the same font twice).
inline void write_text_pdf(const std::string& path, const std::string& first,
                           const std::string& second) {
    const std::string font = test_support::read_file(kFontPath);
    QPDF pdf;
    pdf.emptyPDF();
    QPDFObjectHandle fonts = QPDFObjectHandle::newDictionary();
    fonts.replaceKey("/F1", type0_font(pdf, font, first));
    fonts.replaceKey("/F2", type0_font(pdf, font, second));
    const std::string content = "BT /F1 24 Tf 72 700 Td <" + hex(glyph_codes(font, first)) +
                                "> Tj ET BT /F2 24 Tf 72 600 Td <" +
                                hex(glyph_codes(font, second)) + "> Tj ET";
    add_page(pdf, fonts, content);
    QPDFWriter writer(pdf, path.c_str());
    writer.setStreamDataMode(qpdf_s_compress);
    writer.write();
}

// A4 pages drawn with cairo, `draw` called once per page (0-based).
inline void write_cairo_pdf(const std::string& path, int pages,
                            const std::function<void(cairo_t*, int)>& draw) {
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
        cairo_pdf_surface_create(path.c_str(), 595.28, 841.89), &cairo_surface_destroy);
    {
        std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()),
                                                              &cairo_destroy);
        for (int i = 0; i < pages; ++i) {
            draw(cr.get(), i);
            cairo_show_page(cr.get());
        }
    }
    cairo_surface_finish(surface.get());
}

inline void draw_text(cairo_t* cr, double x, double y, const std::string& text) {
    cairo_select_font_face(cr, "Liberation Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 14);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, text.c_str());
}

}  // namespace enconvert::render_child::pdf::testing
