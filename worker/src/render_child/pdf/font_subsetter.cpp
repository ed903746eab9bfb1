#include "render_child/pdf/font_subsetter.h"

#include <cstdint>
#include <map>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <set>
#include <string>
#include <vector>

#include "render_child/pdf/content_streams.h"
#include "render_child/pdf/glyph_text.h"
#include "render_child/pdf/hb_subset.h"
#include "render_child/pdf/to_unicode.h"

namespace enconvert::render_child::pdf {
namespace {

using Glyphs = std::set<std::uint32_t>;

// What the pages show with one font: its codes and the glyphs they select.
struct Shown {
    Glyphs glyphs;
    std::set<std::uint32_t> codes;
};

// A composite (Type0) font whose program we can subset: where its program
// lives and how its 2-byte codes become glyph ids.
struct CompositeFont {
    QPDFObjectHandle descriptor;
    std::string program_key;  // "/FontFile2" or "/FontFile3"
    std::string cid_to_gid;   // empty: Identity
};

// nullopt-like empty descriptor for fonts we leave alone.
std::optional<CompositeFont> analyse(QPDFObjectHandle font) {
    if (!font.isDictionary() || !font.getKey("/Subtype").isNameAndEquals("/Type0"))
        return std::nullopt;
    // Identity-H/V: a code is two bytes and equals the CID.
    QPDFObjectHandle encoding = font.getKey("/Encoding");
    if (!encoding.isNameAndEquals("/Identity-H") && !encoding.isNameAndEquals("/Identity-V"))
        return std::nullopt;
    QPDFObjectHandle descendants = font.getKey("/DescendantFonts");
    if (!descendants.isArray() || descendants.getArrayNItems() != 1) return std::nullopt;
    QPDFObjectHandle cid_font = descendants.getArrayItem(0);
    QPDFObjectHandle descriptor = cid_font.getKey("/FontDescriptor");
    if (!descriptor.isDictionary()) return std::nullopt;
    CompositeFont result{descriptor, "", ""};
    if (descriptor.getKey("/FontFile2").isStream()) {
        result.program_key = "/FontFile2";
    } else if (QPDFObjectHandle ff3 = descriptor.getKey("/FontFile3");
               ff3.isStream() && ff3.getDict().getKey("/Subtype").isNameAndEquals("/OpenType")) {
        result.program_key = "/FontFile3";
    } else {
        return std::nullopt;  // bare CFF or no program: not ours to touch
    }
    QPDFObjectHandle map = cid_font.getKey("/CIDToGIDMap");
    if (map.isStream()) result.cid_to_gid = stream_bytes(map);
    return result;
}

// Collects the codes shown with each font of one content stream, tracking
// Tf through q/Q (the font is part of the graphics state).
class TextScanner : public QPDFObjectHandle::ParserCallbacks {
  public:
    TextScanner(QPDFObjectHandle fonts, std::map<QPDFObjGen, std::pair<CompositeFont, Shown>>& out)
        : fonts_(fonts), out_(out) {}

    void handleObject(QPDFObjectHandle obj, size_t, size_t) override {
        if (!obj.isOperator()) {
            operands_.push_back(obj);
            return;
        }
        const std::string op = obj.getOperatorValue();
        if (font_.follow(op)) {
            // q or Q
        } else if (op == "Tf" && operands_.size() == 2 && operands_[0].isName()) {
            select(operands_[0].getName());
        } else if (op == "Tj" || op == "'" || op == "\"") {
            if (!operands_.empty()) show(operands_.back());
        } else if (op == "TJ" && operands_.size() == 1 && operands_[0].isArray()) {
            for (auto& item : operands_[0].aitems()) show(item);
        }
        operands_.clear();
    }
    void handleEOF() override {}

  private:
    void select(const std::string& name) {
        font_.current = nullptr;
        if (!fonts_.isDictionary()) return;
        QPDFObjectHandle font = fonts_.getKey(name);
        if (!font.isIndirect()) return;
        auto it = out_.find(font.getObjGen());
        if (it == out_.end()) {
            std::optional<CompositeFont> analysed = analyse(font);
            if (!analysed) return;
            it = out_.emplace(font.getObjGen(), std::make_pair(*analysed, Shown{})).first;
        }
        font_.current = &it->second;
    }

    void show(QPDFObjectHandle text) {
        if (!font_.current || !text.isString()) return;
        const std::string bytes = text.getStringValue();
        const std::string& map = font_.current->first.cid_to_gid;
        for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
            const std::uint32_t cid = (static_cast<unsigned char>(bytes[i]) << 8) |
                                      static_cast<unsigned char>(bytes[i + 1]);
            font_.current->second.codes.insert(cid);
            if (map.empty()) {
                font_.current->second.glyphs.insert(cid);
            } else if (2 * cid + 1 < map.size()) {
                font_.current->second.glyphs.insert(
                    (static_cast<unsigned char>(map[2 * cid]) << 8) |
                    static_cast<unsigned char>(map[2 * cid + 1]));
            }
        }
    }

    QPDFObjectHandle fonts_;
    std::map<QPDFObjGen, std::pair<CompositeFont, Shown>>& out_;
    FontSelection<std::pair<CompositeFont, Shown>*> font_;
    std::vector<QPDFObjectHandle> operands_;
};

// The glyph a code selects: the code itself (Identity) or its CIDToGIDMap
// entry.
std::optional<std::uint32_t> glyph_of(const CompositeFont& font, std::uint32_t code) {
    if (font.cid_to_gid.empty()) return code;
    if (2 * code + 1 >= font.cid_to_gid.size()) return std::nullopt;
    return (static_cast<unsigned char>(font.cid_to_gid[2 * code]) << 8) |
           static_cast<unsigned char>(font.cid_to_gid[2 * code + 1]);
}

// Repairs the font's ToUnicode map from its program (to_unicode.h); true
// if it changed. Must run before subsetting, which drops the GSUB table
// the ligatures are read from.
bool fix_extraction(QPDFObjectHandle font, const CompositeFont& composite, const Shown& shown,
                    const GlyphText& glyphs) {
    QPDFObjectHandle stream = font.getKey("/ToUnicode");
    TextMap map;
    if (stream.isStream()) {
        std::optional<TextMap> parsed = parse_to_unicode(stream_bytes(stream));
        if (!parsed) return false;  // a CMap we cannot read whole: leave it
        map = std::move(*parsed);
    }
    const int changed = fix_text_map(map, shown.codes, glyphs,
                                     [&](std::uint32_t code) { return glyph_of(composite, code); });
    if (changed == 0) return false;
    const std::string cmap = write_to_unicode(map);
    if (stream.isStream() && stream.isIndirect()) {
        stream.replaceStreamData(cmap, QPDFObjectHandle::newNull(), QPDFObjectHandle::newNull());
    } else {
        QPDFObjectHandle fresh = QPDFObjectHandle::newStream(font.getOwningQPDF(), cmap);
        font.replaceKey("/ToUnicode", fresh);
    }
    return true;
}

}  // namespace

FontStats subset_fonts(QPDF& pdf) {
    // Font object -> (how to read it, glyphs used).
    std::map<QPDFObjGen, std::pair<CompositeFont, Shown>> used;
    for_each_content_stream(pdf, [&](QPDFPageObjectHelper& contents, QPDFObjectHandle fonts) {
        TextScanner scanner(fonts, used);
        contents.parseContents(&scanner);
    });

    // Group identical programs: the first stream of a group is kept and
    // receives the union of the glyphs, the others are dropped.
    struct Group {
        QPDFObjectHandle stream;
        Glyphs glyphs;
        std::vector<CompositeFont> fonts;
    };
    std::map<std::string, Group> groups;  // keyed by the program's bytes
    std::set<QPDFObjGen> seen_streams;
    FontStats stats;
    std::map<std::string, GlyphText> glyph_text;  // by program bytes
    for (auto& [objgen, entry] : used) {
        auto& [font, shown] = entry;
        const Glyphs& glyphs = shown.glyphs;
        QPDFObjectHandle stream = font.descriptor.getKey(font.program_key);
        seen_streams.insert(stream.getObjGen());
        const std::string bytes = stream_bytes(stream);
        Group& group = groups[bytes];
        if (!group.stream.isInitialized()) group.stream = stream;
        group.glyphs.insert(glyphs.begin(), glyphs.end());
        group.fonts.push_back(font);
        auto text = glyph_text.find(bytes);
        if (text == glyph_text.end())
            text = glyph_text.emplace(bytes, analyse_glyph_text(bytes)).first;
        if (fix_extraction(pdf.getObjectByObjGen(objgen), font, shown, text->second))
            ++stats.text_maps_fixed;
    }
    stats.duplicates = static_cast<int>(seen_streams.size() - groups.size());
    for (auto& [bytes, group] : groups) {
        ++stats.programs;
        for (CompositeFont& font : group.fonts)
            font.descriptor.replaceKey(font.program_key, group.stream);
        std::optional<std::string> smaller = subset_font(bytes, group.glyphs);
        if (!smaller || smaller->size() >= bytes.size()) continue;
        const auto length = static_cast<long long>(smaller->size());
        group.stream.replaceStreamData(*smaller, QPDFObjectHandle::newNull(),
                                       QPDFObjectHandle::newNull());
        // FontFile2 must state the program's decoded length.
        if (group.stream.getDict().hasKey("/Length1"))
            group.stream.getDict().replaceKey("/Length1", QPDFObjectHandle::newInteger(length));
        ++stats.subset;
    }
    return stats;
}

}  // namespace enconvert::render_child::pdf
