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
    // Codes already counted: a page shows the same few hundred codes tens
    // of thousands of times, and a set lookup each time showed in profiles.
    std::vector<bool> seen = std::vector<bool>(0x10000);
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
// Tf through q/Q (the font is part of the graphics state). Reads tokens
// (for_each_token), not parsed objects: qpdf's object parser allocates an
// object for every operand of every operator, which made this scan the
// largest part of the PDF post-processing; only Tf's font name and the
// shown strings matter.
class TextScanner {
  public:
    TextScanner(QPDFObjectHandle fonts, std::map<QPDFObjGen, std::pair<CompositeFont, Shown>>& out)
        : fonts_(fonts), out_(out) {}

    void operator()(const QPDFTokenizer::Token& token) {
        const QPDFTokenizer::token_type_e type = token.getType();
        switch (type) {
            case QPDFTokenizer::tt_array_open:
            case QPDFTokenizer::tt_dict_open:
                if (depth_++ == 0) operand(type == QPDFTokenizer::tt_array_open, false);
                return;
            case QPDFTokenizer::tt_array_close:
            case QPDFTokenizer::tt_dict_close:
                if (depth_ > 0) --depth_;
                return;
            case QPDFTokenizer::tt_word:
                if (depth_ == 0) return operate(token.getValue());
                return;
            case QPDFTokenizer::tt_string:
                if (depth_ == 0) {
                    strings_.assign(1, token.getValue());
                    operand(false, true);
                } else if (depth_ == 1 && array_) {
                    strings_.push_back(token.getValue());  // a TJ array's
                }
                return;
            case QPDFTokenizer::tt_name:
                if (depth_ == 0) {
                    if (operands_ == 0) first_name_ = token.getValue();
                    operand(false, false);
                }
                return;
            default:
                if (depth_ == 0) operand(false, false);
                return;
        }
    }

  private:
    // One more operand of the coming operator: an array (TJ's) or a string.
    void operand(bool array, bool string) {
        ++operands_;
        array_ = array;
        last_is_string_ = string;
        if (array) strings_.clear();
    }

    void operate(const std::string& op) {
        if (font_.follow(op)) {
            // q or Q
        } else if (op == "Tf" && operands_ == 2 && !first_name_.empty()) {
            select(first_name_);
        } else if (op == "Tj" || op == "'" || op == "\"") {
            if (last_is_string_) show(strings_.back());
        } else if (op == "TJ" && operands_ == 1 && array_) {
            for (const std::string& text : strings_) show(text);
        }
        operands_ = 0;
        array_ = false;
        last_is_string_ = false;
        first_name_.clear();
        strings_.clear();
    }

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

    void show(const std::string& bytes) {
        if (!font_.current) return;
        const std::string& map = font_.current->first.cid_to_gid;
        Shown& shown = font_.current->second;
        for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
            const std::uint32_t cid = (static_cast<unsigned char>(bytes[i]) << 8) |
                                      static_cast<unsigned char>(bytes[i + 1]);
            if (shown.seen[cid]) continue;
            shown.seen[cid] = true;
            shown.codes.insert(cid);
            if (map.empty()) {
                shown.glyphs.insert(cid);
            } else if (2 * cid + 1 < map.size()) {
                shown.glyphs.insert((static_cast<unsigned char>(map[2 * cid]) << 8) |
                                    static_cast<unsigned char>(map[2 * cid + 1]));
            }
        }
    }

    QPDFObjectHandle fonts_;
    std::map<QPDFObjGen, std::pair<CompositeFont, Shown>>& out_;
    FontSelection<std::pair<CompositeFont, Shown>*> font_;
    // The operands since the last operator (top level only).
    int operands_ = 0;
    int depth_ = 0;                     // inside an array or dictionary operand
    bool array_ = false;                // the last operand is an array
    bool last_is_string_ = false;       // the last operand is a string
    std::string first_name_;            // the first operand, if a name
    std::vector<std::string> strings_;  // the last string, or the array's
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
        for_each_token(contents, TextScanner(fonts, used));
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
