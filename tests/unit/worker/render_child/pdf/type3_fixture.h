// A one-page PDF with a Type 3 font made the way WebKitGTK's PDF backend
// (Skia) makes one for a CFF face or for a face it slants itself: one glyph
// procedure per glyph id ("/g" + uppercase hex id) drawing that glyph's
// outline in 1/1000 em with y pointing down, code == glyph id, a 1-byte
// ToUnicode map, and a page that flips y with its first `cm`. The outlines
// come from the real font file through HarfBuzz, so the face the font names
// can be found on this system and compared.
#pragma once

#include <hb-ot.h>
#include <hb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <stdexcept>
#include <string>
#include <vector>

#include "render_child/pdf/hb_ptr.h"

namespace enconvert::render_child::pdf::testing {

struct Type3Spec {
    std::string font_path;
    unsigned face_index = 0;
    std::string postscript_name;  // the descriptor's FontName is "BAAAAA+" + this
    std::string family;           // FontFamily; empty: the face's own family name
    double slant = 0;             // x' = x + slant * y (y up), as the engine's synthetic oblique
    std::string text;             // ASCII, shown on the page at 20 pt, one glyph per Tj
    // Non-empty: each character's outline is drawn from this font file
    // instead, while codes, names and widths stay those of `font_path`.
    std::string outline_path;
    // Shows the face's '*' after `text`, its procedure painting an image
    // over the outline (as for a colour glyph): the right outline and
    // advance, but not only an outline.
    bool image_glyph = false;
    // Non-empty: also shown through a Form XObject /Fm1 that the page
    // draws, with the same font object under another resource name.
    std::string form_text;
    // The form has no resources of its own and names the font as the
    // page does (/F5), from the page's resources (deprecated but valid).
    bool form_uses_page_resources = false;
    // The page's text object sets no text matrix: a `cm` around it places
    // and flips it instead (same drawing; the engine itself writes a Tm).
    bool place_with_cm = false;
};

inline constexpr double kType3FontSize = 20;
inline constexpr const char* kNotoSansMono =
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf";
inline constexpr const char* kNimbusSans =
    "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf";
inline constexpr const char* kLiberationSans =
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

namespace type3_detail {

// Numbers as a PDF writer prints them: no exponent, no trailing zeros.
inline std::string num(double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.6f", v);
    std::string s = buffer;
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

inline std::string hex_byte(unsigned value) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%02X", value);
    return buffer;
}

inline std::string glyph_name(unsigned gid) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "/g%X", gid);
    return buffer;
}

// A face at 1000 units per em, so HarfBuzz hands out 1/1000 em like Skia.
struct Face {
    HbBlobPtr blob;
    HbFacePtr face;
    HbFontPtr font;

    Face(const std::string& path, unsigned index) {
        blob.reset(hb_blob_create_from_file_or_fail(path.c_str()));
        if (!blob) throw std::runtime_error("cannot read " + path);
        face.reset(hb_face_create(blob.get(), index));
        font.reset(hb_font_create(face.get()));
        hb_font_set_scale(font.get(), 1000, 1000);
    }
    unsigned glyph(char c) const {
        hb_codepoint_t gid = 0;
        if (!hb_font_get_nominal_glyph(font.get(), static_cast<unsigned char>(c), &gid))
            throw std::runtime_error(std::string("no glyph for '") + c + "'");
        return gid;
    }
    int advance(unsigned gid) const { return hb_font_get_glyph_h_advance(font.get(), gid); }
    std::string family() const {
        char buffer[256];
        unsigned size = sizeof buffer;
        hb_ot_name_get_utf8(face.get(), HB_OT_NAME_ID_FONT_FAMILY,
                            hb_language_from_string("en", -1), &size, buffer);
        return std::string(buffer, size);
    }
    int metric(hb_ot_metrics_tag_t tag) const {
        hb_position_t value = 0;
        hb_ot_metrics_get_position(font.get(), tag, &value);
        return value;
    }
};

// One glyph outline as path operators in the engine's glyph space: y
// negated, slanted in x by the y above the baseline.
struct GlyphPath {
    double slant = 0;
    std::string ops;
    double x_min = std::numeric_limits<double>::max(), y_min = x_min;
    double x_max = std::numeric_limits<double>::lowest(), y_max = x_max;

    void point(double x, double y_up) {
        const double px = x + slant * y_up, py = -y_up;
        ops += num(px) + " " + num(py) + " ";
        x_min = std::min(x_min, px);
        x_max = std::max(x_max, px);
        y_min = std::min(y_min, py);
        y_max = std::max(y_max, py);
    }
    bool empty() const { return ops.empty(); }
};

inline hb_draw_funcs_t* path_funcs() {
    static hb_draw_funcs_t* funcs = [] {
        hb_draw_funcs_t* f = hb_draw_funcs_create();
        hb_draw_funcs_set_move_to_func(
            f,
            [](hb_draw_funcs_t*, void* data, hb_draw_state_t*, float x, float y, void*) {
                auto* path = static_cast<GlyphPath*>(data);
                path->point(x, y);
                path->ops += "m\n";
            },
            nullptr, nullptr);
        hb_draw_funcs_set_line_to_func(
            f,
            [](hb_draw_funcs_t*, void* data, hb_draw_state_t*, float x, float y, void*) {
                auto* path = static_cast<GlyphPath*>(data);
                path->point(x, y);
                path->ops += "l\n";
            },
            nullptr, nullptr);
        // PDF has no quadratic segment: the exact cubic with the same ends.
        hb_draw_funcs_set_quadratic_to_func(
            f,
            [](hb_draw_funcs_t*, void* data, hb_draw_state_t* st, float cx, float cy, float x,
               float y, void*) {
                auto* path = static_cast<GlyphPath*>(data);
                const double x0 = st->current_x, y0 = st->current_y;
                path->point(x0 + 2.0 / 3 * (cx - x0), y0 + 2.0 / 3 * (cy - y0));
                path->point(x + 2.0 / 3 * (cx - x), y + 2.0 / 3 * (cy - y));
                path->point(x, y);
                path->ops += "c\n";
            },
            nullptr, nullptr);
        hb_draw_funcs_set_cubic_to_func(
            f,
            [](hb_draw_funcs_t*, void* data, hb_draw_state_t*, float x1, float y1, float x2,
               float y2, float x, float y, void*) {
                auto* path = static_cast<GlyphPath*>(data);
                path->point(x1, y1);
                path->point(x2, y2);
                path->point(x, y);
                path->ops += "c\n";
            },
            nullptr, nullptr);
        hb_draw_funcs_set_close_path_func(
            f,
            [](hb_draw_funcs_t*, void* data, hb_draw_state_t*, void*) {
                static_cast<GlyphPath*>(data)->ops += "h\n";
            },
            nullptr, nullptr);
        hb_draw_funcs_make_immutable(f);
        return f;
    }();
    return funcs;
}

struct Glyph {
    int width = 0;
    std::string procedure;
    std::string unicode;  // UTF-16BE hex for ToUnicode; empty: none
    double box[4] = {0, 0, 0, 0};
};

inline Glyph outline_glyph(const Face& face, unsigned gid, int width, double slant) {
    GlyphPath path;
    path.slant = slant;
    hb_font_get_glyph_shape(face.font.get(), gid, path_funcs(), &path);
    Glyph glyph;
    glyph.width = width;
    if (path.empty()) {
        glyph.procedure = std::to_string(width) + " 0 0 0 0 0 d1\n";
        return glyph;
    }
    glyph.box[0] = std::floor(path.x_min);
    glyph.box[1] = std::floor(path.y_min);
    glyph.box[2] = std::ceil(path.x_max);
    glyph.box[3] = std::ceil(path.y_max);
    glyph.procedure = std::to_string(width) + " 0 " + num(glyph.box[0]) + " " + num(glyph.box[1]) +
                      " " + num(glyph.box[2]) + " " + num(glyph.box[3]) + " d1\n" + path.ops +
                      "f\n";
    return glyph;
}

inline std::string to_unicode_cmap(const std::map<unsigned, Glyph>& glyphs) {
    std::string entries;
    int count = 0;
    for (const auto& [code, glyph] : glyphs) {
        if (glyph.unicode.empty()) continue;
        entries += "<" + hex_byte(code) + "> <" + glyph.unicode + ">\n";
        ++count;
    }
    return "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
           "/CIDSystemInfo\n<<  /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
           "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
           "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" +
           std::to_string(count) + " beginbfchar\n" + entries +
           "endbfchar\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
}

// The codes of `text` in the face: its glyph ids, each of which must fit
// the engine's one-byte codes.
inline std::vector<unsigned> codes_of(const Face& face, const std::string& text) {
    std::vector<unsigned> codes;
    for (char c : text) {
        const unsigned gid = face.glyph(c);
        if (gid > 255) throw std::runtime_error("glyph id over 255 for a Type 3 code");
        codes.push_back(gid);
    }
    return codes;
}

inline QPDFObjectHandle dictionary_of(const std::string& key, const QPDFObjectHandle& value) {
    QPDFObjectHandle dictionary = QPDFObjectHandle::newDictionary();
    dictionary.replaceKey(key, value);
    return dictionary;
}

// One BT block as the engine writes it: a y-flipping text matrix (or, if
// not `with_tm`, the same matrix as a cm around the block), then one glyph
// per Tj and a Td by the previous glyph's advance.
inline std::string text_block(const std::string& font_name, const std::vector<unsigned>& codes,
                              const std::map<unsigned, Glyph>& glyphs, double x, double y,
                              bool with_tm = true) {
    const std::string place = "1 0 0 -1 " + num(x) + " " + num(y);
    std::string out = (with_tm ? "" : "q " + place + " cm\n") + "BT\n" + font_name + " " +
                      num(kType3FontSize) + " Tf\n" + (with_tm ? place + " Tm\n" : "");
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (i > 0) out += num(glyphs.at(codes[i - 1]).width * kType3FontSize / 1000) + " 0 Td ";
        const unsigned code = codes[i];
        const bool literal =
            code >= 0x20 && code < 0x7F && code != '(' && code != ')' && code != '\\';
        out += literal ? "(" + std::string(1, static_cast<char>(code)) + ")"
                       : "<" + hex_byte(code) + ">";
        out += " Tj\n";
    }
    return out + (with_tm ? "ET\n" : "ET\nQ\n");
}

}  // namespace type3_detail

// Writes the one-page (595 x 842) PDF described by `spec`. The page's text
// starts at 72 pt from the left, 100 pt from the top; the form's at 200 pt.
inline void write_type3_pdf(const std::string& path, const Type3Spec& spec) {
    using namespace type3_detail;
    const Face face(spec.font_path, spec.face_index);
    std::unique_ptr<Face> other;
    if (!spec.outline_path.empty()) other = std::make_unique<Face>(spec.outline_path, 0);
    const Face& outlines = other ? *other : face;

    std::vector<unsigned> page_codes = codes_of(face, spec.text);
    const std::vector<unsigned> form_codes = codes_of(face, spec.form_text);
    // Code 0 is .notdef, written as its advance alone like the engine does.
    std::map<unsigned, Glyph> glyphs;
    glyphs[0].width = face.advance(0);
    glyphs[0].procedure = std::to_string(glyphs[0].width) + " 0 0 0 0 0 d1\n";
    for (char c : spec.text + spec.form_text) {
        const unsigned gid = face.glyph(c);
        if (glyphs.count(gid)) continue;
        glyphs[gid] =
            outline_glyph(outlines, other ? outlines.glyph(c) : gid, face.advance(gid), spec.slant);
        glyphs[gid].unicode = "00" + hex_byte(static_cast<unsigned char>(c));
    }

    QPDF pdf;
    pdf.emptyPDF();
    QPDFObjectHandle font_resources = QPDFObjectHandle::newDictionary();
    if (spec.image_glyph) {
        // A 2x2 colour image one advance square above the baseline; d0
        // because the procedure sets its own colours.
        const unsigned code = face.glyph('*');
        if (code > 255 || glyphs.count(code)) throw std::runtime_error("'*' taken or too high");
        QPDFObjectHandle image = QPDFObjectHandle::newStream(
            &pdf, std::string("\xFF\x00\x00\x00\xA0\x00\x00\x00\xFF\xFF\xC0\x00", 12));
        image.replaceDict(QPDFObjectHandle::parse(
            "<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB "
            "/BitsPerComponent 8 >>"));
        font_resources.replaceKey("/XObject", dictionary_of("/X0", image));
        Glyph glyph = outline_glyph(face, code, face.advance(code), spec.slant);
        const std::string w = std::to_string(glyph.width);
        glyph.procedure = w + " 0 d0\n" + glyph.procedure.substr(glyph.procedure.find('\n') + 1) +
                          "q " + w + " 0 0 -" + w + " 0 0 cm /X0 Do Q\n";
        glyph.unicode = "2605";
        glyphs[code] = glyph;
        page_codes.push_back(code);
    }

    const unsigned last = glyphs.rbegin()->first;
    std::string differences = "[ 0", widths = "[";
    for (unsigned code = 0; code <= last; ++code) {
        const auto it = glyphs.find(code);
        differences += " " + glyph_name(it == glyphs.end() ? 0 : code);
        widths += " " + std::to_string(it == glyphs.end() ? 0 : it->second.width);
    }
    differences += " ]";
    widths += " ]";
    double box[4] = {0, 0, 0, 0};  // the engine's order: x_min, y_max, x_max, y_min (y down)
    QPDFObjectHandle procedures = QPDFObjectHandle::newDictionary();
    for (const auto& [code, glyph] : glyphs) {
        procedures.replaceKey(glyph_name(code), QPDFObjectHandle::newStream(&pdf, glyph.procedure));
        box[0] = std::min(box[0], glyph.box[0]);
        box[1] = std::max(box[1], glyph.box[3]);
        box[2] = std::max(box[2], glyph.box[2]);
        box[3] = std::min(box[3], glyph.box[1]);
    }

    const std::string family = spec.family.empty() ? face.family() : spec.family;
    QPDFObjectHandle descriptor = QPDFObjectHandle::parse(
        "<< /Type /FontDescriptor /FontName /BAAAAA+" + spec.postscript_name +
        " /Flags 4 /ItalicAngle 0 /CapHeight " +
        std::to_string(face.metric(HB_OT_METRICS_TAG_CAP_HEIGHT)) + " /XHeight " +
        std::to_string(face.metric(HB_OT_METRICS_TAG_X_HEIGHT)) +
        " /StemV 80 /FontWeight 400 /FontStretch /Normal >>");
    descriptor.replaceKey("/FontFamily", QPDFObjectHandle::newUnicodeString(family));
    QPDFObjectHandle font = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /Font /Subtype /Type3 /CIDToGIDMap /Identity /Encoding << /Type /Encoding "
        "/Differences " +
        differences + " >> /FirstChar 0 /LastChar " + std::to_string(last) + " /FontBBox [ " +
        num(box[0]) + " " + num(box[1]) + " " + num(box[2]) + " " + num(box[3]) +
        " ] /FontMatrix [ .001 0 0 -.001 0 0 ] /Widths " + widths + " >>"));
    font.replaceKey("/CharProcs", procedures);
    font.replaceKey("/FontDescriptor", pdf.makeIndirectObject(descriptor));
    font.replaceKey("/ToUnicode", QPDFObjectHandle::newStream(&pdf, to_unicode_cmap(glyphs)));
    if (!font_resources.getKeys().empty()) font.replaceKey("/Resources", font_resources);

    QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
    resources.replaceKey("/Font", dictionary_of("/F5", font));
    std::string content =
        "1 0 0 -1 0 842 cm\n" + text_block("/F5", page_codes, glyphs, 72, 100, !spec.place_with_cm);
    if (!spec.form_text.empty()) {
        const char* name = spec.form_uses_page_resources ? "/F5" : "/F6";
        QPDFObjectHandle form =
            QPDFObjectHandle::newStream(&pdf, text_block(name, form_codes, glyphs, 72, 200));
        form.replaceDict(
            QPDFObjectHandle::parse("<< /Type /XObject /Subtype /Form /BBox [ 0 0 595 842 ] >>"));
        if (!spec.form_uses_page_resources) {
            QPDFObjectHandle form_resources = QPDFObjectHandle::newDictionary();
            form_resources.replaceKey("/Font", dictionary_of(name, font));
            form.getDict().replaceKey("/Resources", form_resources);
        }
        resources.replaceKey("/XObject", dictionary_of("/Fm1", form));
        content += "/Fm1 Do\n";
    }
    QPDFObjectHandle page = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Page /MediaBox [ 0 0 595 842 ] >>"));
    page.replaceKey("/Resources", resources);
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
    QPDFPageDocumentHelper(pdf).addPage(page, false);
    QPDFWriter writer(pdf, path.c_str());
    writer.setStreamDataMode(qpdf_s_compress);
    writer.write();
}

}  // namespace enconvert::render_child::pdf::testing
