#include "render_child/pdf/cff_charset.h"

#include <map>

namespace enconvert::render_child::pdf {
namespace {

class Reader {
  public:
    explicit Reader(std::string_view data) : data_(data) {}

    bool has(std::size_t at, std::size_t n) const {
        return at <= data_.size() && n <= data_.size() - at;
    }
    unsigned byte(std::size_t at) const { return static_cast<unsigned char>(data_[at]); }
    std::uint32_t number(std::size_t at, unsigned width) const {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < width; ++i) v = (v << 8) | byte(at + i);
        return v;
    }

    // An INDEX at `at`: its items as [begin, end) offsets, and where it
    // ends. nullopt if it runs past the table.
    struct Index {
        std::vector<std::pair<std::size_t, std::size_t>> items;
        std::size_t end = 0;
    };
    std::optional<Index> index(std::size_t at) const {
        if (!has(at, 2)) return std::nullopt;
        const std::size_t count = number(at, 2);
        Index out;
        if (count == 0) {
            out.end = at + 2;
            return out;
        }
        if (!has(at, 3)) return std::nullopt;
        const unsigned width = byte(at + 2);
        if (width < 1 || width > 4 || !has(at + 3, (count + 1) * width)) return std::nullopt;
        const std::size_t base = at + 3 + (count + 1) * width - 1;
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t begin = base + number(at + 3 + i * width, width);
            const std::size_t end = base + number(at + 3 + (i + 1) * width, width);
            if (end < begin || !has(begin, end - begin)) return std::nullopt;
            out.items.emplace_back(begin, end);
        }
        out.end = out.items.back().second;
        return out;
    }

    // The integer operands of each operator of a DICT (12 x is 1200 + x);
    // real operands count as 0. nullopt if it is malformed.
    std::optional<std::map<int, std::vector<long>>> dict(std::size_t begin, std::size_t end) const {
        std::map<int, std::vector<long>> out;
        std::vector<long> operands;
        std::size_t p = begin;
        while (p < end) {
            const unsigned b0 = byte(p);
            auto need = [&](std::size_t n) { return p + n <= end; };
            if (b0 <= 21) {
                int op = static_cast<int>(b0);
                if (b0 == 12) {
                    if (!need(2)) return std::nullopt;
                    op = 1200 + static_cast<int>(byte(p + 1));
                    ++p;
                }
                ++p;
                out[op] = std::move(operands);
                operands.clear();
            } else if (b0 == 28) {
                if (!need(3)) return std::nullopt;
                operands.push_back(static_cast<std::int16_t>(number(p + 1, 2)));
                p += 3;
            } else if (b0 == 29) {
                if (!need(5)) return std::nullopt;
                operands.push_back(static_cast<std::int32_t>(number(p + 1, 4)));
                p += 5;
            } else if (b0 == 30) {
                // A real: nibbles up to an 0xF nibble.
                for (++p; p < end && (byte(p) & 0x0F) != 0x0F && (byte(p) >> 4) != 0x0F; ++p) {
                }
                if (p == end) return std::nullopt;
                ++p;
                operands.push_back(0);
            } else if (b0 >= 32 && b0 <= 246) {
                operands.push_back(static_cast<long>(b0) - 139);
                ++p;
            } else if (b0 >= 247 && b0 <= 254) {
                if (!need(2)) return std::nullopt;
                const long w = b0 <= 250 ? (static_cast<long>(b0) - 247) * 256 + byte(p + 1) + 108
                                         : -(static_cast<long>(b0) - 251) * 256 - byte(p + 1) - 108;
                operands.push_back(w);
                p += 2;
            } else {
                return std::nullopt;
            }
        }
        return out;
    }

  private:
    std::string_view data_;
};

}  // namespace

std::optional<CffCharset> read_cff_charset(std::string_view cff) {
    const Reader r(cff);
    if (!r.has(0, 4)) return std::nullopt;
    const auto names = r.index(r.byte(2));  // after the header
    if (!names) return std::nullopt;
    const auto tops = r.index(names->end);
    if (!tops || tops->items.empty()) return std::nullopt;
    const auto top = r.dict(tops->items[0].first, tops->items[0].second);
    if (!top) return std::nullopt;
    CffCharset out;
    out.cid_keyed = top->count(1230) > 0;  // ROS
    if (!out.cid_keyed) return out;

    const auto charstrings = top->find(17);
    const auto charset = top->find(15);
    if (charstrings == top->end() || charstrings->second.size() != 1 || charset == top->end() ||
        charset->second.size() != 1 || charset->second[0] <= 2)  // 0..2: predefined, not CID
        return std::nullopt;
    const auto glyphs = r.index(static_cast<std::size_t>(charstrings->second[0]));
    if (!glyphs) return std::nullopt;
    const std::size_t count = glyphs->items.size();
    std::size_t p = static_cast<std::size_t>(charset->second[0]);
    if (!r.has(p, 1)) return std::nullopt;
    const unsigned format = r.byte(p++);
    out.cid_of_glyph.push_back(0);  // .notdef
    while (out.cid_of_glyph.size() < count) {
        if (format == 0) {
            if (!r.has(p, 2)) return std::nullopt;
            out.cid_of_glyph.push_back(r.number(p, 2));
            p += 2;
        } else if (format == 1 || format == 2) {
            const unsigned width = format == 1 ? 1 : 2;
            if (!r.has(p, 2 + width)) return std::nullopt;
            const std::uint32_t first = r.number(p, 2);
            const std::uint32_t left = r.number(p + 2, width);
            p += 2 + width;
            for (std::uint32_t i = 0; i <= left && out.cid_of_glyph.size() < count; ++i)
                out.cid_of_glyph.push_back(first + i);
        } else {
            return std::nullopt;
        }
    }
    return out;
}

}  // namespace enconvert::render_child::pdf
