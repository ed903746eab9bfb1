#include "render_child/pdf/type3_fonts.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <numbers>
#include <optional>
#include <qpdf/Pl_Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFTokenizer.hh>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "render_child/pdf/content_streams.h"
#include "render_child/pdf/face_outlines.h"
#include "render_child/pdf/hb_ptr.h"
#include "render_child/pdf/hb_subset.h"
#include "render_child/pdf/system_fonts.h"
#include "render_child/pdf/to_unicode.h"

namespace enconvert::render_child::pdf {
namespace {

// How far a glyph procedure's point may lie from the face's, in 1/1000
// em: the engine writes scaled floats, the face has integer units.
constexpr double kPointTolerance = 1.5;
constexpr double kAdvanceTolerance = 1.0;
// Below this the slant is noise, not a synthetic oblique.
constexpr double kMinSlant = 0.002;

// How one Type 3 font is used by the pages.
struct Usage {
    std::set<unsigned> codes;
    // Every text object showing it selects it first, with no other font,
    // then sets the text matrix (Tm, which takes the slant) before showing
    // text, and uses no operator whose displacement a slant in the text
    // matrix would change (T*, ', ", Tz, Ts). Only a slanted face needs this.
    bool simple_runs = true;
};

// A Type 3 font found to draw a system face.
struct Match {
    std::map<unsigned, std::uint32_t> glyph_of_code;
    std::map<unsigned, double> width_of_code;  // 1/1000 em
    double slant = 0;                          // x += slant * y, glyph space
};

using Candidates = std::map<QPDFObjGen, Usage>;

bool is_type3(QPDFObjectHandle font) {
    return font.isIndirect() && font.isDictionary() &&
           font.getKey("/Subtype").isNameAndEquals("/Type3");
}

// Collects the codes each Type 3 font shows and whether its text runs are
// simple (see Usage).
class UsageScanner : public QPDFObjectHandle::ParserCallbacks {
  public:
    UsageScanner(QPDFObjectHandle fonts, Candidates& out) : fonts_(fonts), out_(out) {}

    void handleObject(QPDFObjectHandle obj, size_t, size_t) override {
        if (!obj.isOperator()) {
            operands_.push_back(obj);
            return;
        }
        operate(obj.getOperatorValue());
        operands_.clear();
    }
    void handleEOF() override {}

  private:
    void operate(const std::string& op) {
        if (font_.follow(op)) {
            // q or Q
        } else if (op == "BT") {
            block_fonts_.clear();
            placed_ = false;
            matrix_set_ = false;
        } else if (op == "ET") {
            if (block_fonts_.size() > 1)
                for (Usage* u : block_fonts_)
                    if (u) u->simple_runs = false;
        } else if (op == "Tf" && operands_.size() == 2 && operands_[0].isName()) {
            font_.current = lookup(operands_[0].getName());
            block_fonts_.insert(font_.current);
            if (font_.current && placed_) font_.current->simple_runs = false;
        } else if (op == "Tm" || op == "Td" || op == "TD") {
            placed_ = true;
            if (op == "Tm") matrix_set_ = true;
        } else if (op == "T*" || op == "Tz" || op == "Ts") {
            if (font_.current) font_.current->simple_runs = false;
        } else if (op == "Tj" || op == "'" || op == "\"" || op == "TJ") {
            if (!font_.current) return;
            if (op != "Tj" && op != "TJ") font_.current->simple_runs = false;
            // Selected before this text object began, or shown where no Tm
            // could carry the slant.
            if (!block_fonts_.count(font_.current) || !matrix_set_)
                font_.current->simple_runs = false;
            if (op == "TJ" && operands_.size() == 1 && operands_[0].isArray()) {
                for (auto& item : operands_[0].aitems()) show(item);
            } else if (!operands_.empty()) {
                show(operands_.back());
            }
        }
    }

    Usage* lookup(const std::string& name) {
        if (!fonts_.isDictionary()) return nullptr;
        QPDFObjectHandle font = fonts_.getKey(name);
        if (!is_type3(font)) return nullptr;
        return &out_[font.getObjGen()];
    }

    void show(QPDFObjectHandle text) {
        if (!text.isString()) return;
        for (unsigned char c : text.getStringValue()) font_.current->codes.insert(c);
    }

    QPDFObjectHandle fonts_;
    Candidates& out_;
    FontSelection<Usage*> font_;
    std::set<Usage*> block_fonts_;
    bool placed_ = false;      // Tm, Td or TD in this text object
    bool matrix_set_ = false;  // Tm in this text object
    std::vector<QPDFObjectHandle> operands_;
};

// The glyph name each code selects (/Encoding /Differences).
std::map<unsigned, std::string> code_names(QPDFObjectHandle font) {
    std::map<unsigned, std::string> names;
    QPDFObjectHandle differences = font.getKey("/Encoding").getKey("/Differences");
    if (!differences.isArray()) return names;
    long long code = 0;
    for (auto& item : differences.aitems()) {
        if (item.isInteger()) {
            code = item.getIntValue();
        } else if (item.isName() && code >= 0 && code < 256) {
            names[static_cast<unsigned>(code++)] = item.getName();
        }
    }
    return names;
}

// The glyph id in an engine-written glyph name, "/g5E1" -> 0x5E1.
std::optional<std::uint32_t> glyph_id(const std::string& name) {
    if (name.size() < 3 || name.size() > 7 || name.compare(0, 2, "/g") != 0) return std::nullopt;
    std::uint32_t id = 0;
    for (std::size_t i = 2; i < name.size(); ++i) {
        const char c = name[i];
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0) return std::nullopt;
        id = id * 16 + static_cast<std::uint32_t>(digit);
    }
    return id;
}

// The font matrix as glyph space -> 1/1000 em; only the engine's kind
// (no rotation or shear) is accepted.
struct GlyphScale {
    double x = 0;
    double y = 0;
};
std::optional<GlyphScale> glyph_scale(QPDFObjectHandle font) {
    QPDFObjectHandle m = font.getKey("/FontMatrix");
    if (!m.isArray() || m.getArrayNItems() != 6) return std::nullopt;
    double v[6];
    for (int i = 0; i < 6; ++i)
        if (!m.getArrayItem(i).getValueAsNumber(v[i])) return std::nullopt;
    if (v[1] != 0 || v[2] != 0 || v[4] != 0 || v[5] != 0 || v[0] == 0 || v[3] == 0)
        return std::nullopt;
    return GlyphScale{v[0] * 1000, v[3] * 1000};
}

// The contours a glyph procedure fills, as on-curve points in 1/1000 em,
// y up (face_outlines.h); nullopt if it does anything but fill one path
// with the nonzero rule fonts use (an image, a colour, a nested drawing:
// not an outline of a face).
class ProcReader : public QPDFObjectHandle::ParserCallbacks {
  public:
    explicit ProcReader(GlyphScale scale) : scale_(scale) {}

    void handleObject(QPDFObjectHandle obj, size_t, size_t) override {
        if (!obj.isOperator()) {
            operands_.push_back(obj);
            return;
        }
        const std::string op = obj.getOperatorValue();
        // The operator and how many operands it takes; its last two are
        // the point the segment ends at.
        static const std::map<std::string, std::size_t> kPathOps = {
            {"d0", 2}, {"d1", 6}, {"m", 2}, {"l", 2}, {"c", 6},
            {"v", 4},  {"y", 4},  {"h", 0}, {"f", 0}, {"F", 0}};
        const auto known = kPathOps.find(op);
        if (known == kPathOps.end() || operands_.size() != known->second) {
            ok_ = false;
        } else if (op == "m" || op == "l" || op == "c" || op == "v" || op == "y") {
            double x = 0;
            double y = 0;
            if (!operands_[operands_.size() - 2].getValueAsNumber(x) ||
                !operands_.back().getValueAsNumber(y) || (op != "m" && contours_.empty())) {
                ok_ = false;
            } else {
                if (op == "m") contours_.emplace_back();
                contours_.back().push_back({x * scale_.x, y * scale_.y});
            }
        }
        operands_.clear();
    }
    void handleEOF() override {}

    std::optional<Contours> contours() {
        if (!ok_) return std::nullopt;
        for (auto& contour : contours_) drop_closing_point(contour);
        return contours_;
    }

  private:
    GlyphScale scale_;
    bool ok_ = true;
    Contours contours_;
    std::vector<QPDFObjectHandle> operands_;
};

std::optional<Contours> proc_contours(QPDFObjectHandle proc, GlyphScale scale) {
    if (!proc.isStream()) return std::nullopt;
    ProcReader reader(scale);
    try {
        QPDFObjectHandle::parseContentStream(proc, &reader);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return reader.contours();
}

// Whether the font's glyph procedures for `codes` are the face's outlines
// and advances, upright or all slanted alike; the codes' glyphs if so.
std::optional<Match> match_face(QPDFObjectHandle font, const std::set<unsigned>& codes,
                                const FaceOutlines& face) {
    const std::optional<GlyphScale> scale = glyph_scale(font);
    if (!scale) return std::nullopt;
    const std::map<unsigned, std::string> names = code_names(font);
    QPDFObjectHandle procs = font.getKey("/CharProcs");
    QPDFObjectHandle widths = font.getKey("/Widths");
    long long first_char = 0;
    if (!procs.isDictionary() || !widths.isArray() ||
        !font.getKey("/FirstChar").getValueAsInt(first_char))
        return std::nullopt;

    Match match;
    std::vector<std::pair<GlyphPoint, GlyphPoint>> pairs;  // (face, procedure)
    for (unsigned code : codes) {
        const auto name = names.find(code);
        if (name == names.end()) return std::nullopt;
        const std::optional<std::uint32_t> glyph = glyph_id(name->second);
        if (!glyph || *glyph >= face.glyph_count()) return std::nullopt;
        double width = 0;
        const long long at = static_cast<long long>(code) - first_char;
        if (at < 0 || at >= widths.getArrayNItems() ||
            !widths.getArrayItem(static_cast<int>(at)).getValueAsNumber(width))
            return std::nullopt;
        width *= scale->x;
        if (std::abs(width - face.advance(*glyph)) > kAdvanceTolerance) return std::nullopt;
        const std::optional<Contours> drawn = proc_contours(procs.getKey(name->second), *scale);
        const Contours outline = face.contours(*glyph);
        if (!drawn || drawn->size() != outline.size()) return std::nullopt;
        for (std::size_t c = 0; c < outline.size(); ++c) {
            if ((*drawn)[c].size() != outline[c].size()) return std::nullopt;
            for (std::size_t i = 0; i < outline[c].size(); ++i)
                pairs.emplace_back(outline[c][i], (*drawn)[c][i]);
        }
        match.glyph_of_code[code] = *glyph;
        match.width_of_code[code] = width;
    }
    // The slant from the point farthest from the baseline, then every
    // on-curve point of every glyph must agree with it.
    const std::pair<GlyphPoint, GlyphPoint>* far = nullptr;
    for (const auto& p : pairs)
        if (!far || std::abs(p.first.y) > std::abs(far->first.y)) far = &p;
    if (far && std::abs(far->first.y) >= 50) {
        match.slant = (far->second.x - far->first.x) / far->first.y;
        if (std::abs(match.slant) < kMinSlant) match.slant = 0;
    }
    for (const auto& [at, drawn] : pairs) {
        if (std::abs(drawn.y - at.y) > kPointTolerance ||
            std::abs(drawn.x - (at.x + match.slant * at.y)) > kPointTolerance)
            return std::nullopt;
    }
    return match;
}

// A font file mapped, not read: CJK collections are tens of megabytes, and
// reading one into fresh memory for each document (zeroing, copying, page
// faults) was a tenth of the renderer child's CPU on the bench's page mix.
// The pages come from the page cache, shared by every child. An empty blob
// if the file cannot be mapped.
HbBlobPtr map_file(const std::string& path) {
    HbBlobPtr blob(hb_blob_create_from_file_or_fail(path.c_str()));
    return blob ? std::move(blob) : HbBlobPtr(hb_blob_get_empty());
}

QPDFObjectHandle number(double v) {
    return QPDFObjectHandle::newReal(v, 3, true);
}

// The Type 0 font (Identity-H, code = glyph id) that draws what the Type 3
// font drew; its descriptor keeps the engine's names and metrics.
QPDFObjectHandle type0_font(QPDF& pdf, QPDFObjectHandle type3, const Match& match,
                            const FaceOutlines& face, QPDFObjectHandle program) {
    QPDFObjectHandle old_descriptor = type3.getKey("/FontDescriptor");
    QPDFObjectHandle descriptor = old_descriptor.isDictionary() ? old_descriptor.shallowCopy()
                                                                : QPDFObjectHandle::newDictionary();
    descriptor.replaceKey("/Type", QPDFObjectHandle::newName("/FontDescriptor"));
    for (const char* key : {"/FontFile", "/FontFile2", "/FontFile3", "/CharSet", "/CIDSet"})
        descriptor.removeKey(key);
    const GlyphScale scale = *glyph_scale(type3);
    double box[4] = {0, 0, 0, 0};
    QPDFObjectHandle bbox = type3.getKey("/FontBBox");
    if (bbox.isArray() && bbox.getArrayNItems() == 4)
        for (int i = 0; i < 4; ++i) bbox.getArrayItem(i).getValueAsNumber(box[i]);
    const double xs[2] = {box[0] * scale.x, box[2] * scale.x};
    const double ys[2] = {box[1] * scale.y, box[3] * scale.y};
    descriptor.replaceKey("/FontBBox",
                          QPDFObjectHandle::newArray(std::vector<QPDFObjectHandle>{
                              number(std::min(xs[0], xs[1])), number(std::min(ys[0], ys[1])),
                              number(std::max(xs[0], xs[1])), number(std::max(ys[0], ys[1]))}));
    descriptor.replaceKey("/Ascent", number(face.ascent()));
    descriptor.replaceKey("/Descent", number(face.descent()));
    for (const char* key : {"/Flags", "/ItalicAngle", "/CapHeight", "/StemV"})
        if (!descriptor.hasKey(key)) descriptor.replaceKey(key, QPDFObjectHandle::newInteger(0));
    if (match.slant != 0) {
        // A slant to the right is a negative angle (counter-clockwise
        // from vertical), and the face is italic now.
        descriptor.replaceKey("/ItalicAngle",
                              number(-std::atan(match.slant) * 180 / std::numbers::pi));
        long long flags = 0;
        descriptor.getKey("/Flags").getValueAsInt(flags);
        descriptor.replaceKey("/Flags", QPDFObjectHandle::newInteger(flags | 64));
    }
    descriptor.replaceKey(face.truetype() ? "/FontFile2" : "/FontFile3", program);

    QPDFObjectHandle base_font = descriptor.getKey("/FontName");
    if (!base_font.isName()) base_font = QPDFObjectHandle::newName("/Type3Replacement");
    std::vector<QPDFObjectHandle> w;
    for (const auto& [code, glyph] : match.glyph_of_code) {
        w.push_back(QPDFObjectHandle::newInteger(glyph));
        w.push_back(QPDFObjectHandle::newArray(
            std::vector<QPDFObjectHandle>{number(match.width_of_code.at(code))}));
    }
    QPDFObjectHandle cid_font = QPDFObjectHandle::parse(
        "<< /Type /Font /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
        "/Supplement 0 >> /DW 0 >>");
    cid_font.replaceKey(
        "/Subtype", QPDFObjectHandle::newName(face.truetype() ? "/CIDFontType2" : "/CIDFontType0"));
    if (face.truetype())
        cid_font.replaceKey("/CIDToGIDMap", QPDFObjectHandle::newName("/Identity"));
    cid_font.replaceKey("/BaseFont", base_font);
    cid_font.replaceKey("/FontDescriptor", pdf.makeIndirectObject(descriptor));
    cid_font.replaceKey("/W", QPDFObjectHandle::newArray(w));

    QPDFObjectHandle type0 =
        QPDFObjectHandle::parse("<< /Type /Font /Subtype /Type0 /Encoding /Identity-H >>");
    type0.replaceKey("/BaseFont", base_font);
    type0.replaceKey("/DescendantFonts", QPDFObjectHandle::newArray(std::vector<QPDFObjectHandle>{
                                             pdf.makeIndirectObject(cid_font)}));
    // The engine's text for each code, now for each glyph.
    QPDFObjectHandle old_map = type3.getKey("/ToUnicode");
    if (old_map.isStream()) {
        if (std::optional<TextMap> by_code = parse_to_unicode(stream_bytes(old_map))) {
            TextMap by_glyph;
            for (const auto& [code, glyph] : match.glyph_of_code)
                if (auto text = by_code->find(code); text != by_code->end())
                    by_glyph[glyph] = text->second;
            type0.replaceKey("/ToUnicode",
                             QPDFObjectHandle::newStream(&pdf, write_to_unicode(by_glyph)));
        }
    }
    return type0;
}

// A number as PDF writes it: no exponent.
std::string pdf_number(double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.5f", v);
    std::string s = buffer;
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}

// Rewrites one content stream for the replaced fonts: their strings
// become 2-byte glyph ids, and under a slanted one the text matrix takes
// the slant (Tm's c and d) while Td/TD keep their displacement.
class Type3Rewriter : public QPDFObjectHandle::TokenFilter {
  public:
    Type3Rewriter(QPDFObjectHandle fonts, const std::map<QPDFObjGen, Match>& replaced)
        : fonts_(fonts), replaced_(replaced) {}

    void handleToken(QPDFTokenizer::Token const& token) override {
        if (token.getType() != QPDFTokenizer::tt_word) {
            pending_.push_back(token);
            return;
        }
        operate(token.getValue());
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            const auto edit = edits_.find(i);
            if (edit != edits_.end()) {
                write(edit->second);
            } else {
                writeToken(pending_[i]);
            }
        }
        writeToken(token);
        pending_.clear();
        edits_.clear();
    }
    void handleEOF() override {
        for (const auto& token : pending_) writeToken(token);
        pending_.clear();
    }

  private:
    void operate(const std::string& op) {
        std::vector<std::size_t> operands;
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            const auto type = pending_[i].getType();
            if (type != QPDFTokenizer::tt_space && type != QPDFTokenizer::tt_comment)
                operands.push_back(i);
        }
        if (font_.follow(op)) {
            // q or Q
        } else if (op == "Tf") {
            font_.current = nullptr;
            if (operands.size() == 2 && pending_[operands[0]].getType() == QPDFTokenizer::tt_name &&
                fonts_.isDictionary()) {
                QPDFObjectHandle font = fonts_.getKey(pending_[operands[0]].getValue());
                if (font.isIndirect())
                    if (auto it = replaced_.find(font.getObjGen()); it != replaced_.end())
                        font_.current = &it->second;
            }
        } else if (!font_.current) {
            return;
        } else if (op == "Tj" || op == "TJ" || op == "'" || op == "\"") {
            for (std::size_t i : operands)
                if (pending_[i].getType() == QPDFTokenizer::tt_string)
                    edits_[i] = glyph_string(pending_[i].getValue());
        } else if (font_.current->slant != 0 && op == "Tm" && operands.size() == 6) {
            double m[6];
            for (int i = 0; i < 6; ++i)
                if (!number_of(operands[i], m[i])) return;
            // [1 0 s 1 0 0] x Tm: the slant applied in text space.
            edits_[operands[2]] = pdf_number(m[2] + font_.current->slant * m[0]);
            edits_[operands[3]] = pdf_number(m[3] + font_.current->slant * m[1]);
        } else if (font_.current->slant != 0 && (op == "Td" || op == "TD") &&
                   operands.size() == 2) {
            double tx = 0;
            double ty = 0;
            if (number_of(operands[0], tx) && number_of(operands[1], ty) && ty != 0)
                edits_[operands[0]] = pdf_number(tx - font_.current->slant * ty);
        }
    }

    bool number_of(std::size_t at, double& out) const {
        const auto& token = pending_[at];
        if (token.getType() != QPDFTokenizer::tt_integer &&
            token.getType() != QPDFTokenizer::tt_real)
            return false;
        out = std::strtod(token.getValue().c_str(), nullptr);
        return true;
    }

    std::string glyph_string(const std::string& codes) const {
        static const char* digits = "0123456789ABCDEF";
        std::string out = "<";
        for (unsigned char c : codes) {
            const auto it = font_.current->glyph_of_code.find(c);
            const std::uint32_t glyph = it == font_.current->glyph_of_code.end() ? 0 : it->second;
            for (int shift : {12, 8, 4, 0}) out += digits[(glyph >> shift) & 15];
        }
        return out + ">";
    }

    QPDFObjectHandle fonts_;
    const std::map<QPDFObjGen, Match>& replaced_;
    FontSelection<const Match*> font_;
    std::vector<QPDFTokenizer::Token> pending_;
    std::map<std::size_t, std::string> edits_;
};

// Type 3 fonts named by resources this pass does not rewrite (patterns,
// annotation appearances, other Type 3 fonts): those must stay as they are.
std::set<QPDFObjGen> used_elsewhere(QPDF& pdf, const std::set<QPDFObjGen>& visited) {
    std::set<QPDFObjGen> out;
    for (QPDFObjectHandle obj : pdf.getAllObjects()) {
        QPDFObjectHandle dict = obj.isStream() ? obj.getDict() : obj;
        if (!dict.isDictionary() || !dict.hasKey("/Resources") || visited.count(obj.getObjGen()))
            continue;
        QPDFObjectHandle resources = dict.getKey("/Resources");
        if (!resources.isDictionary() || !resources.hasKey("/Font")) continue;
        QPDFObjectHandle fonts = resources.getKey("/Font");
        if (!fonts.isDictionary()) continue;
        for (auto& [name, font] : fonts.ditems())
            if (is_type3(font)) out.insert(font.getObjGen());
    }
    return out;
}

// The PostScript name a font descriptor carries, without its subset tag
// (six capital letters and "+", ISO 32000-1 9.6.4):
// "/BAAAAA+NotoSansMono-Regular" -> "NotoSansMono-Regular".
std::string postscript_name(QPDFObjectHandle font) {
    QPDFObjectHandle name = font.getKey("/FontDescriptor").getKey("/FontName");
    if (!name.isName()) return "";
    const std::string full = name.getName().substr(1);
    const bool tagged =
        full.size() > 7 && full[6] == '+' &&
        std::all_of(full.begin(), full.begin() + 6, [](char c) { return c >= 'A' && c <= 'Z'; });
    return tagged ? full.substr(7) : full;
}

// The installed faces the rewrites look at, each file mapped and opened
// once for the life of the process: pages often hold several Type 3 fonts
// of one face (Noto CJK: one per 256 glyphs), the same faces come back
// document after document, and CJK files are tens of megabytes. Bounded by
// the faces installed (the names looked up are capped); used under its lock.
class FaceCache {
  public:
    using Key = std::pair<std::string, unsigned>;  // file, face index

    static FaceCache& shared() {
        static FaceCache cache;
        return cache;
    }
    std::mutex& lock() { return lock_; }

    // The reference stays valid until the next call.
    const std::vector<SystemFace>& faces_named(const std::string& name) {
        auto it = names_.find(name);
        if (it == names_.end()) {
            // The names come from the pages (a web font's name, any page's
            // choice): forgotten now and then so that they cannot pile up;
            // the lookup is cheap, the files and faces stay.
            if (names_.size() >= kMaxNames) names_.clear();
            it = names_.emplace(name, find_system_faces(name)).first;
        }
        return it->second;
    }
    std::string_view program(const std::string& file) {
        auto it = programs_.find(file);
        if (it == programs_.end()) it = programs_.emplace(file, map_file(file)).first;
        unsigned size = 0;
        const char* data = hb_blob_get_data(it->second.get(), &size);
        return {data ? data : "", size};
    }
    const FaceOutlines* outlines(const SystemFace& face) {
        const Key key{face.file, face.index};
        auto it = outlines_.find(key);
        if (it == outlines_.end())
            it = outlines_.emplace(key, FaceOutlines::open(program(face.file), face.index)).first;
        return it->second ? &*it->second : nullptr;
    }

  private:
    static constexpr std::size_t kMaxNames = 1024;

    FaceCache() = default;

    std::mutex lock_;
    std::map<std::string, std::vector<SystemFace>> names_;
    std::map<std::string, HbBlobPtr> programs_;  // the outlines borrow these
    std::map<Key, std::optional<FaceOutlines>> outlines_;
};

// Whether a page, or a form the pages draw, selects a Type 3 font. Walks
// the resources: QPDF::getAllObjects would read and resolve every object
// of the file first (4 % of the child's CPU on the bench's page mix, for
// documents that mostly have none).
bool draws_type3(QPDF& pdf) {
    bool found = false;
    for_each_content_stream(pdf, [&](QPDFPageObjectHelper&, QPDFObjectHandle fonts) {
        if (found || !fonts.isDictionary()) return;
        for (auto& [name, font] : fonts.ditems())
            if (is_type3(font)) found = true;
    });
    return found;
}

// A Type 3 font matched to a face, waiting for that face's program.
struct Matched {
    QPDFObjGen font;
    FaceCache::Key face;
    Match match;
};

Type3Stats replace_in(QPDF& pdf) {
    Type3Stats stats;
    // Most documents have none: no content stream is parsed for them.
    if (!draws_type3(pdf)) return stats;
    Candidates candidates;
    std::set<QPDFObjGen> visited;
    for_each_content_stream(pdf, [&](QPDFPageObjectHelper& contents, QPDFObjectHandle fonts) {
        if (!visited.insert(contents.getObjectHandle().getObjGen()).second) return;
        UsageScanner scanner(fonts, candidates);
        contents.parseContents(&scanner);
    });
    if (candidates.empty()) return stats;
    const std::set<QPDFObjGen> elsewhere = used_elsewhere(pdf, visited);

    // Each font against the installed faces under its name, first match wins.
    FaceCache& cache = FaceCache::shared();
    const std::lock_guard<std::mutex> hold(cache.lock());
    std::vector<Matched> matched;
    for (const auto& [objgen, usage] : candidates) {
        if (elsewhere.count(objgen) || usage.codes.empty()) continue;
        QPDFObjectHandle font = pdf.getObjectByObjGen(objgen);
        for (const SystemFace& system : cache.faces_named(postscript_name(font))) {
            const FaceOutlines* face = cache.outlines(system);
            std::optional<Match> match;
            if (face) match = match_face(font, usage.codes, *face);
            if (!match) continue;
            // The slant goes into the text matrix: simple runs only.
            if (match->slant == 0 || usage.simple_runs)
                matched.push_back({objgen, {system.file, system.index}, std::move(*match)});
            break;
        }
    }

    // One program per face, cut to the glyphs all its fonts show.
    std::map<FaceCache::Key, std::set<std::uint32_t>> glyphs_of_face;
    for (const Matched& m : matched)
        for (const auto& [code, glyph] : m.match.glyph_of_code)
            glyphs_of_face[m.face].insert(glyph);
    std::map<FaceCache::Key, QPDFObjectHandle> program_of_face;
    for (const auto& [key, glyphs] : glyphs_of_face) {
        const std::optional<std::string> subset =
            subset_font(cache.program(key.first), glyphs, key.second);
        if (!subset) continue;
        // The codes become glyph ids: what the embedded program must select
        // them by (checked on the subset, whose charset is the one embedded).
        const std::optional<FaceOutlines> embedded = FaceOutlines::open(*subset, 0);
        if (!embedded || !embedded->cids_are_glyph_ids(glyphs)) continue;
        QPDFObjectHandle stream = QPDFObjectHandle::newStream(&pdf, *subset);
        if (embedded->truetype()) {
            stream.getDict().replaceKey(
                "/Length1", QPDFObjectHandle::newInteger(static_cast<long long>(subset->size())));
        } else {
            stream.getDict().replaceKey("/Subtype", QPDFObjectHandle::newName("/OpenType"));
        }
        program_of_face.emplace(key, stream);
    }

    std::map<QPDFObjGen, Match> replaced;
    std::map<QPDFObjGen, QPDFObjectHandle> fonts_of;  // built, not yet in place
    for (Matched& m : matched) {
        const auto program = program_of_face.find(m.face);
        if (program == program_of_face.end()) continue;
        const FaceOutlines& face = *cache.outlines({m.face.first, m.face.second});
        fonts_of.emplace(
            m.font, type0_font(pdf, pdf.getObjectByObjGen(m.font), m.match, face, program->second));
        replaced.emplace(m.font, std::move(m.match));
    }
    if (replaced.empty()) {
        stats.kept = static_cast<int>(candidates.size());
        return stats;
    }

    // Every stream rewritten in memory first: if one cannot be, nothing has
    // changed yet and the caller keeps the document as the engine wrote it.
    std::vector<std::pair<QPDFObjectHandle, std::string>> rewrites;
    std::set<QPDFObjGen> rewritten;
    for_each_content_stream(pdf, [&](QPDFPageObjectHelper& contents, QPDFObjectHandle fonts) {
        QPDFObjectHandle object = contents.getObjectHandle();
        if (!rewritten.insert(object.getObjGen()).second) return;
        Type3Rewriter rewriter(fonts, replaced);
        Pl_Buffer buffer("type3 rewrite");
        contents.filterContents(&rewriter, &buffer);
        std::shared_ptr<Buffer> data = buffer.getBufferSharedPointer();
        rewrites.emplace_back(
            object, std::string(reinterpret_cast<const char*>(data->getBuffer()), data->getSize()));
    });
    for (auto& [objgen, font] : fonts_of) pdf.replaceObject(objgen, font);
    for (auto& [object, bytes] : rewrites) {
        if (object.isStream()) {
            object.replaceStreamData(bytes, QPDFObjectHandle::newNull(),
                                     QPDFObjectHandle::newNull());
        } else {
            object.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, bytes));
        }
    }
    stats.replaced = static_cast<int>(replaced.size());
    stats.kept = static_cast<int>(candidates.size() - replaced.size());
    return stats;
}

}  // namespace

Type3Stats replace_type3_fonts(QPDF& pdf) {
    try {
        return replace_in(pdf);
    } catch (const std::exception&) {
        // A content stream qpdf cannot filter, a face HarfBuzz cannot cut:
        // the Type 3 fonts stay, the PDF is still delivered.
        Type3Stats kept;
        kept.failed = true;
        return kept;
    }
}

}  // namespace enconvert::render_child::pdf
