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

#include "render_child/pdf/hb_subset.h"

namespace enconvert::render_child::pdf {
namespace {

using Glyphs = std::set<std::uint32_t>;

// A composite (Type0) font whose program we can subset: where its program
// lives and how its 2-byte codes become glyph ids.
struct CompositeFont {
    QPDFObjectHandle descriptor;
    std::string program_key;  // "/FontFile2" or "/FontFile3"
    std::string cid_to_gid;   // empty: Identity
};

std::string stream_bytes(QPDFObjectHandle stream) {
    std::shared_ptr<Buffer> data = stream.getStreamData(qpdf_dl_generalized);
    return std::string(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
}

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
    TextScanner(QPDFObjectHandle fonts, std::map<QPDFObjGen, std::pair<CompositeFont, Glyphs>>& out)
        : fonts_(fonts), out_(out) {}

    void handleObject(QPDFObjectHandle obj, size_t, size_t) override {
        if (!obj.isOperator()) {
            operands_.push_back(obj);
            return;
        }
        const std::string op = obj.getOperatorValue();
        if (op == "q") {
            stack_.push_back(current_);
        } else if (op == "Q") {
            if (!stack_.empty()) {
                current_ = stack_.back();
                stack_.pop_back();
            }
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
        current_ = nullptr;
        if (!fonts_.isDictionary()) return;
        QPDFObjectHandle font = fonts_.getKey(name);
        if (!font.isIndirect()) return;
        auto it = out_.find(font.getObjGen());
        if (it == out_.end()) {
            std::optional<CompositeFont> analysed = analyse(font);
            if (!analysed) return;
            it = out_.emplace(font.getObjGen(), std::make_pair(*analysed, Glyphs{})).first;
        }
        current_ = &it->second;
    }

    void show(QPDFObjectHandle text) {
        if (!current_ || !text.isString()) return;
        const std::string bytes = text.getStringValue();
        const std::string& map = current_->first.cid_to_gid;
        for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
            const std::uint32_t cid = (static_cast<unsigned char>(bytes[i]) << 8) |
                                      static_cast<unsigned char>(bytes[i + 1]);
            if (map.empty()) {
                current_->second.insert(cid);
            } else if (2 * cid + 1 < map.size()) {
                current_->second.insert((static_cast<unsigned char>(map[2 * cid]) << 8) |
                                        static_cast<unsigned char>(map[2 * cid + 1]));
            }
        }
    }

    QPDFObjectHandle fonts_;
    std::map<QPDFObjGen, std::pair<CompositeFont, Glyphs>>& out_;
    std::pair<CompositeFont, Glyphs>* current_ = nullptr;
    std::vector<std::pair<CompositeFont, Glyphs>*> stack_;
    std::vector<QPDFObjectHandle> operands_;
};

}  // namespace

FontStats subset_fonts(QPDF& pdf) {
    // Font object -> (how to read it, glyphs used).
    std::map<QPDFObjGen, std::pair<CompositeFont, Glyphs>> used;
    for (QPDFPageObjectHelper& page : QPDFPageDocumentHelper(pdf).getAllPages()) {
        TextScanner scanner(page.getAttribute("/Resources", false).getKey("/Font"), used);
        page.parseContents(&scanner);
        page.forEachFormXObject(
            true, [&](QPDFObjectHandle& form, QPDFObjectHandle&, const std::string&) {
                TextScanner form_scanner(form.getDict().getKey("/Resources").getKey("/Font"), used);
                QPDFPageObjectHelper(form).parseContents(&form_scanner);
            });
    }

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
    for (auto& [objgen, entry] : used) {
        auto& [font, glyphs] = entry;
        QPDFObjectHandle stream = font.descriptor.getKey(font.program_key);
        seen_streams.insert(stream.getObjGen());
        Group& group = groups[stream_bytes(stream)];
        if (!group.stream.isInitialized()) group.stream = stream;
        group.glyphs.insert(glyphs.begin(), glyphs.end());
        group.fonts.push_back(font);
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
