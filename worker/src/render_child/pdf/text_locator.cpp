#include "render_child/pdf/text_locator.h"

#include <algorithm>

namespace enconvert::render_child::pdf {

namespace {
// How far above the text a jump lands, so the line is not cut at the top
// of the viewer's window.
constexpr double kDestinationLeadPt = 4;

// FNV-1a over `n` characters, by a callable giving the i-th.
template <typename At>
std::uint64_t gram_hash(At at, std::size_t n) {
    std::uint64_t h = 14695981039346656037ull;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<std::uint64_t>(at(i));
        h *= 1099511628211ull;
    }
    return h;
}
}  // namespace

TextLocator::TextLocator(const PageText& text, const PageGeometry& geometry, std::uint64_t max_work)
    : text_(text), geometry_(geometry), max_work_(max_work) {
    for (std::size_t i = 0; i < text_.glyphs.size(); ++i)
        positions_[text_.glyphs[i].c].push_back(static_cast<int>(i));
}

void TextLocator::index_grams() const {
    const auto& glyphs = text_.glyphs;
    grams_.reserve(glyphs.size() - kGram + 1);
    for (std::size_t i = 0; i + kGram <= glyphs.size(); ++i)
        grams_.emplace_back(gram_hash([&](std::size_t k) { return glyphs[i + k].c; }, kGram),
                            static_cast<int>(i));
    std::sort(grams_.begin(), grams_.end());
    grams_indexed_ = true;
}

std::vector<int> TextLocator::candidates(const std::u32string& needle) const {
    std::vector<int> out;
    // The needle's rarest character.
    const std::vector<int>* rarest = nullptr;
    std::size_t at = 0;
    for (std::size_t k = 0; k < needle.size(); ++k) {
        auto it = positions_.find(needle[k]);
        if (it == positions_.end()) return out;  // not printed at all
        if (!rarest || it->second.size() < rarest->size()) {
            rarest = &it->second;
            at = k;
        }
    }
    if (rarest->size() <= kFewPlaces || needle.size() < kGram) {
        for (int p : *rarest)
            if (p >= static_cast<long>(at)) out.push_back(p - static_cast<int>(at));
        return out;
    }
    // Too common: its rarest run of kGram characters instead (hash
    // collisions only add candidates: each is compared in full).
    if (!grams_indexed_) index_grams();
    using Iter = decltype(grams_)::const_iterator;
    std::pair<Iter, Iter> run{grams_.end(), grams_.end()};
    bool first = true;
    for (std::size_t k = 0; k + kGram <= needle.size(); ++k) {
        const std::uint64_t h = gram_hash([&](std::size_t i) { return needle[k + i]; }, kGram);
        const auto range =
            std::equal_range(grams_.begin(), grams_.end(), std::pair<std::uint64_t, int>{h, 0},
                             [](const auto& a, const auto& b) { return a.first < b.first; });
        if (range.first == range.second) return out;  // not printed at all
        if (first || range.second - range.first < run.second - run.first) {
            run = range;
            at = k;
            first = false;
        }
    }
    for (auto it = run.first; it != run.second; ++it)
        if (it->second >= static_cast<long>(at)) out.push_back(it->second - static_cast<int>(at));
    return out;
}

std::vector<int> TextLocator::matches(const std::u32string& needle) const {
    std::vector<int> out;
    if (needle.empty() || budget_spent()) return out;
    const auto& glyphs = text_.glyphs;
    const std::vector<int> starts = candidates(needle);
    work_ += starts.size();
    if (budget_spent()) return out;
    for (int start : starts) {
        ++candidates_checked_;
        if (static_cast<std::size_t>(start) + needle.size() > glyphs.size()) continue;
        bool equal = true;
        for (std::size_t k = 0; k < needle.size() && equal; ++k)
            equal = glyphs[static_cast<std::size_t>(start) + k].c == needle[k];
        if (equal) out.push_back(start);
    }
    return out;
}

std::vector<Span> TextLocator::find_all(const std::u32string& needle) const {
    std::vector<Span> spans = find_spans(needle);
    work_ += spans.size();
    if (budget_spent()) return {};
    return spans;
}

std::vector<Span> TextLocator::find_spans(const std::u32string& needle) const {
    std::vector<Span> spans;
    const int n = static_cast<int>(needle.size());
    if (needle.size() <= kWholeNeedle) {
        for (int s : matches(needle)) spans.push_back({s, s + n - 1});
        return spans;
    }
    const int part = static_cast<int>(kWholeNeedle);
    const std::vector<int> heads = matches(needle.substr(0, kWholeNeedle));
    const std::vector<int> tails = matches(needle.substr(needle.size() - kWholeNeedle));
    for (int h : heads) {
        // The tail normally starts n - part after the head; allow the text
        // in between to have grown by half and a line's worth.
        const int limit = h + n + n / 2 + 64;
        auto t = std::lower_bound(tails.begin(), tails.end(), h + 1);
        if (t != tails.end() && *t + part - 1 <= limit)
            spans.push_back({h, *t + part - 1});
        else
            spans.push_back({h, h + part - 1});
    }
    return spans;
}

FlowBox TextLocator::flow_of(int glyph) const {
    const Glyph& g = text_.glyphs[static_cast<std::size_t>(glyph)];
    return {g.x0, g.page * geometry_.printable_height + (g.y0 - geometry_.margin_top), g.x1 - g.x0,
            g.y1 - g.y0};
}

std::vector<LinkArea> TextLocator::line_boxes(Span span) const {
    std::vector<LinkArea> out;
    // Collected top-left first, turned into PDF user space at the end.
    struct Line {
        int page;
        double x0, y0, x1, y1;
    };
    std::vector<Line> lines;
    for (int i = span.first; i <= span.last; ++i) {
        const Glyph& g = text_.glyphs[static_cast<std::size_t>(i)];
        if (g.x1 <= g.x0 && g.y1 <= g.y0) continue;  // nothing drawn
        if (!lines.empty()) {
            Line& l = lines.back();
            // Same line: same page, vertically overlapping by half.
            const double overlap = std::min(l.y1, g.y1) - std::max(l.y0, g.y0);
            const double height = std::min(l.y1 - l.y0, g.y1 - g.y0);
            if (l.page == g.page && overlap >= height / 2) {
                l.x0 = std::min(l.x0, g.x0);
                l.y0 = std::min(l.y0, g.y0);
                l.x1 = std::max(l.x1, g.x1);
                l.y1 = std::max(l.y1, g.y1);
                continue;
            }
        }
        lines.push_back({g.page, g.x0, g.y0, g.x1, g.y1});
    }
    for (const Line& l : lines) {
        const double h = text_.page_heights[static_cast<std::size_t>(l.page)];
        LinkArea a;
        a.page = l.page;
        a.x0 = l.x0;
        a.x1 = l.x1;
        a.y0 = h - l.y1;
        a.y1 = h - l.y0;
        out.push_back(std::move(a));
    }
    return out;
}

Destination TextLocator::destination(Span span) const {
    const Glyph& g = text_.glyphs[static_cast<std::size_t>(span.first)];
    const double h = text_.page_heights[static_cast<std::size_t>(g.page)];
    return {g.page, g.x0, std::min(h, h - g.y0 + kDestinationLeadPt)};
}

}  // namespace enconvert::render_child::pdf
