#include "render_child/pdf/to_unicode.h"

#include <glib.h>

#include <cctype>
#include <sstream>

namespace enconvert::render_child::pdf {
namespace {

// A CMap is PostScript; the parts we read are `<hex>` strings, `[` `]`
// arrays and the bf* keywords. Everything else is skipped as a word.
class CMapTokens {
  public:
    explicit CMapTokens(const std::string& text) : text_(text) {}

    // The next token: "<...>" (with brackets), "[", "]" or a word; empty at
    // the end.
    std::string next() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (std::isspace(static_cast<unsigned char>(c))) {
                ++pos_;
            } else if (c == '%') {
                while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
            } else {
                break;
            }
        }
        if (pos_ >= text_.size()) return {};
        const std::size_t start = pos_;
        const char c = text_[pos_];
        if (c == '<' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '<') {
            const std::size_t close = text_.find('>', pos_);
            pos_ = close == std::string::npos ? text_.size() : close + 1;
            return text_.substr(start, pos_ - start);
        }
        if (c == '[' || c == ']') {
            ++pos_;
            return std::string(1, c);
        }
        while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
               text_[pos_] != '<' && text_[pos_] != '[' && text_[pos_] != ']')
            ++pos_;
        if (pos_ == start) ++pos_;  // a lone '<' of "<<"
        return text_.substr(start, pos_ - start);
    }

  private:
    const std::string& text_;
    std::size_t pos_ = 0;
};

bool is_hex_token(const std::string& t) {
    return t.size() >= 2 && t.front() == '<';
}

// The bytes of a `<hex>` token; nullopt if it is not hex.
std::optional<std::string> hex_bytes(const std::string& token) {
    std::string digits;
    for (std::size_t i = 1; i + 1 < token.size(); ++i) {
        const char c = token[i];
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        digits += c;
    }
    if (digits.size() % 2) digits += '0';
    std::string out;
    for (std::size_t i = 0; i < digits.size(); i += 2)
        out += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
    return out;
}

std::optional<std::uint32_t> code_of(const std::string& token) {
    std::optional<std::string> bytes = hex_bytes(token);
    if (!bytes || bytes->empty() || bytes->size() > 4) return std::nullopt;
    std::uint32_t code = 0;
    for (unsigned char b : *bytes) code = (code << 8) | b;
    return code;
}

std::optional<std::u32string> utf16be_text(const std::string& bytes) {
    if (bytes.size() % 2) return std::nullopt;
    std::u32string out;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        char32_t unit =
            (static_cast<unsigned char>(bytes[i]) << 8) | static_cast<unsigned char>(bytes[i + 1]);
        if (unit >= 0xD800 && unit < 0xDC00 && i + 3 < bytes.size()) {
            const char32_t low = (static_cast<unsigned char>(bytes[i + 2]) << 8) |
                                 static_cast<unsigned char>(bytes[i + 3]);
            if (low >= 0xDC00 && low < 0xE000) {
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                i += 2;
            }
        }
        out += unit;
    }
    return out;
}

std::optional<std::u32string> text_of(const std::string& token) {
    std::optional<std::string> bytes = hex_bytes(token);
    if (!bytes) return std::nullopt;
    return utf16be_text(*bytes);
}

void append_hex16(std::ostringstream& out, unsigned unit) {
    static const char* const kDigits = "0123456789ABCDEF";
    for (int shift = 12; shift >= 0; shift -= 4) out << kDigits[(unit >> shift) & 0xF];
}

void append_utf16be(std::ostringstream& out, const std::u32string& text) {
    for (char32_t c : text) {
        if (c >= 0x10000) {
            const char32_t v = c - 0x10000;
            append_hex16(out, 0xD800 + (v >> 10));
            append_hex16(out, 0xDC00 + (v & 0x3FF));
        } else {
            append_hex16(out, c);
        }
    }
}

// A CMap block holds at most 100 entries (PDF 32000-1, 9.10.3).
constexpr std::size_t kBlockEntries = 100;

}  // namespace

std::optional<TextMap> parse_to_unicode(const std::string& cmap) {
    TextMap map;
    CMapTokens tokens(cmap);
    bool any_block = false;
    for (std::string t = tokens.next(); !t.empty(); t = tokens.next()) {
        if (t == "beginbfchar") {
            any_block = true;
            for (std::string src = tokens.next(); src != "endbfchar"; src = tokens.next()) {
                const std::string dst = tokens.next();
                if (!is_hex_token(src) || !is_hex_token(dst)) return std::nullopt;
                std::optional<std::uint32_t> code = code_of(src);
                std::optional<std::u32string> text = text_of(dst);
                if (!code || !text) return std::nullopt;
                map[*code] = *text;
            }
        } else if (t == "beginbfrange") {
            any_block = true;
            for (std::string lo = tokens.next(); lo != "endbfrange"; lo = tokens.next()) {
                const std::string hi = tokens.next();
                std::optional<std::uint32_t> first = code_of(lo), last = code_of(hi);
                if (!first || !last || *last < *first || *last - *first > 0xFFFF)
                    return std::nullopt;
                const std::string dst = tokens.next();
                if (dst == "[") {
                    std::uint32_t code = *first;
                    for (std::string item = tokens.next(); item != "]"; item = tokens.next()) {
                        std::optional<std::u32string> text = text_of(item);
                        if (!text || code > *last) return std::nullopt;
                        map[code++] = *text;
                    }
                } else {
                    std::optional<std::u32string> text = text_of(dst);
                    if (!text || text->empty()) return std::nullopt;
                    // The last character counts up through the range.
                    for (std::uint32_t code = *first; code <= *last; ++code) {
                        std::u32string value = *text;
                        value.back() += code - *first;
                        map[code] = value;
                    }
                }
            }
        }
    }
    if (!any_block) return std::nullopt;
    return map;
}

std::string write_to_unicode(const TextMap& map) {
    std::ostringstream out;
    out << "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
           "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
           "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
           "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
    auto it = map.begin();
    while (it != map.end()) {
        std::size_t n = 0;
        auto block_end = it;
        while (block_end != map.end() && n < kBlockEntries) {
            ++block_end;
            ++n;
        }
        out << n << " beginbfchar\n";
        for (; it != block_end; ++it) {
            out << '<';
            append_hex16(out, it->first);
            out << "> <";
            append_utf16be(out, it->second);
            out << ">\n";
        }
        out << "endbfchar\n";
    }
    out << "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    return out.str();
}

std::u32string unified_ideograph(char32_t c) {
    // Kangxi Radicals, CJK Radicals Supplement and the CJK Compatibility
    // Ideographs: (compatibility) decompositions to one unified ideograph.
    const bool radical = (c >= 0x2E80 && c <= 0x2EFF) || (c >= 0x2F00 && c <= 0x2FDF);
    const bool compatibility = (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    if (!radical && !compatibility) return {};
    gunichar decomposed[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
    const gsize n = g_unichar_fully_decompose(static_cast<gunichar>(c), TRUE, decomposed,
                                              G_UNICHAR_MAX_DECOMPOSITION_LENGTH);
    if (n != 1 || decomposed[0] == c) return {};
    return std::u32string(1, static_cast<char32_t>(decomposed[0]));
}

std::u32string ligature_letters(char32_t c) {
    switch (c) {
        case 0xFB00:
            return U"ff";
        case 0xFB01:
            return U"fi";
        case 0xFB02:
            return U"fl";
        case 0xFB03:
            return U"ffi";
        case 0xFB04:
            return U"ffl";
        case 0xFB05:
            return U"st";  // ſt: its compatibility decomposition
        case 0xFB06:
            return U"st";
        default:
            return {};
    }
}

int fix_text_map(TextMap& map, const std::set<std::uint32_t>& shown, const GlyphText& glyphs,
                 const std::function<std::optional<std::uint32_t>(std::uint32_t)>& glyph_of) {
    int changed = 0;
    for (std::uint32_t code : shown) {
        if (map.count(code)) continue;
        const std::optional<std::uint32_t> glyph = glyph_of(code);
        if (!glyph) continue;
        if (auto it = glyphs.ligatures.find(*glyph); it != glyphs.ligatures.end()) {
            map[code] = it->second;
            ++changed;
        }
    }
    for (auto& [code, text] : map) {
        const std::optional<std::uint32_t> glyph = glyph_of(code);
        std::u32string better;
        if (glyph) {
            if (auto it = glyphs.ligatures.find(*glyph); it != glyphs.ligatures.end())
                better = it->second;
            else if (auto pref = glyphs.preferred_chars.find(*glyph);
                     pref != glyphs.preferred_chars.end() && text.size() == 1)
                better = pref->second;
        }
        if (better.empty() && text.size() == 1) better = ligature_letters(text[0]);
        if (better.empty() && text.size() == 1) better = unified_ideograph(text[0]);
        if (!better.empty() && better != text) {
            text = better;
            ++changed;
        }
    }
    return changed;
}

}  // namespace enconvert::render_child::pdf
