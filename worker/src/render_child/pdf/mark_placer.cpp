#include "render_child/pdf/mark_placer.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "render_child/pdf/text_locator.h"

namespace enconvert::render_child::pdf {

namespace {

// Texts shorter than this (normalised characters) are common words ("Home",
// "More"): they are taken only within a page's height of where the page
// measured them, so a link that was not printed never lands on the same
// word elsewhere. Longer texts are distinctive enough to be taken anywhere.
constexpr std::size_t kShortText = 12;
// Horizontal distance counts for less than vertical: columns move
// sideways when print styles hide a sidebar the measurement missed, but
// text order on a page is vertical.
constexpr double kHorizontalWeight = 0.5;
// Rounding slack when deciding whether a measured box lies on one page.
constexpr double kPageSlackPt = 1;

// How far the print layout had moved a mark from its measured place.
struct Drift {
    double dx = 0, dy = 0;
};

class Placer {
  public:
    Placer(const PageText& text, const PageGeometry& geometry, const MarkSources& sources)
        : text_(text),
          geometry_(geometry),
          sources_(sources),
          locator_(text, geometry),
          used_by_links_(text.glyphs.size(), 0),
          used_by_headings_(text.glyphs.size(), 0),
          targets_(sources.targets.size()) {}

    PlacedMarks run() {
        // Per item, in document order: its annotations (so the PDF's
        // annotation order follows the page, as tab order does).
        std::vector<std::vector<LinkArea>> boxes(sources_.items.size());
        std::vector<std::size_t> images;
        for (std::size_t i = 0; i < sources_.items.size(); ++i) {
            const MarkSource& item = sources_.items[i];
            const std::u32string needle = normalize_text(item.text);
            if (item.kind == MarkSource::Kind::Heading) {
                place_heading(item, needle);
                continue;
            }
            if (needle.empty()) {
                images.push_back(i);  // after every text mark is placed
                continue;
            }
            const std::optional<Span> span = pick(needle, estimate(item), drift_, &used_by_links_);
            if (!span) {
                ++placed_.links_not_printed;
                continue;
            }
            claim(*span, used_by_links_, estimate(item));
            boxes[i] = locator_.line_boxes(*span);
        }
        for (std::size_t i : images) {
            boxes[i] = estimated_boxes(sources_.items[i]);
            if (boxes[i].empty())
                ++placed_.links_not_printed;
            else
                ++placed_.links_estimated;
        }
        for (std::size_t i = 0; i < boxes.size(); ++i) {
            if (boxes[i].empty()) continue;
            const MarkSource& item = sources_.items[i];
            std::optional<Destination> dest;
            if (item.target >= 0) {
                dest = target(item.target);
                if (!dest) {
                    // The target was not printed: nowhere to jump to.
                    ++placed_.links_not_printed;
                    continue;
                }
            }
            for (LinkArea& a : boxes[i]) {
                a.uri = item.uri;
                a.dest = dest;
                placed_.links.push_back(std::move(a));
            }
        }
        return std::move(placed_);
    }

  private:
    static FlowBox estimate(const MarkSource& item) {
        return item.boxes.empty() ? FlowBox{} : item.boxes.front();
    }

    // The occurrence of `needle` nearest the corrected estimate, not
    // overlapping one already claimed in `used` (null: any).
    std::optional<Span> pick(const std::u32string& needle, const FlowBox& at, const Drift& drift,
                             const std::vector<char>* used) const {
        std::optional<Span> best;
        double best_cost = 0;
        for (const Span& s : locator_.find_all(needle)) {
            if (used && std::any_of(used->begin() + s.first, used->begin() + s.last + 1,
                                    [](char u) { return u != 0; }))
                continue;
            const FlowBox f = locator_.flow_of(s.first);
            const double cost = std::abs(f.y - (at.y + drift.dy)) +
                                kHorizontalWeight * std::abs(f.x - (at.x + drift.dx));
            if (!best || cost < best_cost) {
                best = s;
                best_cost = cost;
            }
        }
        if (best && needle.size() < kShortText && best_cost > geometry_.printable_height)
            return std::nullopt;
        return best;
    }

    // Marks the span's glyphs as taken and learns the drift from it.
    void claim(const Span& span, std::vector<char>& used, const FlowBox& at) {
        std::fill(used.begin() + span.first, used.begin() + span.last + 1, 1);
        const FlowBox f = locator_.flow_of(span.first);
        drift_ = {f.x - at.x, f.y - at.y};
        fixes_.push_back({at.y, drift_});
    }

    // The drift learnt at the placed mark measured nearest `y`.
    Drift drift_near(double y) const {
        const Fix* best = nullptr;
        for (const Fix& f : fixes_)
            if (!best || std::abs(f.y - y) < std::abs(best->y - y)) best = &f;
        return best ? best->drift : Drift{};
    }

    void place_heading(const MarkSource& item, const std::u32string& needle) {
        const std::optional<Span> span =
            needle.empty() ? std::nullopt
                           : pick(needle, estimate(item), drift_, &used_by_headings_);
        if (!span) {
            ++placed_.headings_not_printed;
            return;
        }
        claim(*span, used_by_headings_, estimate(item));
        placed_.outline.push_back({item.level, item.text, locator_.destination(*span)});
    }

    // Page and top (from the sheet's top) of a flow y, if a box of height
    // `h` starting there lies on one page's printable area.
    std::optional<std::pair<int, double>> on_page(double y, double h) const {
        const double ph = geometry_.printable_height;
        if (!(ph > 0) || !std::isfinite(y) || y < -kPageSlackPt) return std::nullopt;
        const int page = static_cast<int>(std::floor(std::max(0.0, y) / ph));
        if (page >= static_cast<int>(text_.page_heights.size())) return std::nullopt;
        if (y + h > (page + 1) * ph + kPageSlackPt) return std::nullopt;
        return std::make_pair(page, geometry_.margin_top + std::max(0.0, y - page * ph));
    }

    std::vector<LinkArea> estimated_boxes(const MarkSource& item) const {
        std::vector<LinkArea> out;
        if (item.boxes.empty()) return out;
        const Drift d = drift_near(item.boxes.front().y);
        for (const FlowBox& b : item.boxes) {
            const auto place = on_page(b.y + d.dy, b.h);
            if (!place || b.w <= 0 || b.h <= 0) continue;
            const double sheet_h = text_.page_heights[static_cast<std::size_t>(place->first)];
            LinkArea a;
            a.page = place->first;
            a.x0 = b.x + d.dx;
            a.x1 = a.x0 + b.w;
            a.y1 = sheet_h - place->second;
            a.y0 = a.y1 - b.h;
            out.push_back(std::move(a));
        }
        return out;
    }

    std::optional<Destination> target(int index) {
        auto& slot = targets_[static_cast<std::size_t>(index)];
        if (slot.first) return slot.second;
        slot.first = true;
        const TargetSource& t = sources_.targets[static_cast<std::size_t>(index)];
        if (t.top) {
            if (!text_.page_heights.empty())
                slot.second = Destination{0, 0, text_.page_heights.front()};
            return slot.second;
        }
        const Drift d = drift_near(t.box.y);
        const std::u32string needle = normalize_text(t.text);
        if (!needle.empty()) {
            if (auto span = pick(needle, t.box, d, nullptr))
                slot.second = locator_.destination(*span);
        } else if (auto place = on_page(t.box.y + d.dy, 0)) {
            // Nothing printed to find (an empty anchor at the very end):
            // the measured place, where it is on a page.
            const double sheet_h = text_.page_heights[static_cast<std::size_t>(place->first)];
            slot.second =
                Destination{place->first, std::max(0.0, t.box.x + d.dx), sheet_h - place->second};
        }
        return slot.second;
    }

    struct Fix {
        double y;
        Drift drift;
    };

    const PageText& text_;
    const PageGeometry& geometry_;
    const MarkSources& sources_;
    TextLocator locator_;
    std::vector<char> used_by_links_;
    std::vector<char> used_by_headings_;
    Drift drift_;
    std::vector<Fix> fixes_;
    std::vector<std::pair<bool, std::optional<Destination>>> targets_;
    PlacedMarks placed_;
};

}  // namespace

PlacedMarks place_marks(const PageText& text, const PageGeometry& geometry,
                        const MarkSources& sources) {
    return Placer(text, geometry, sources).run();
}

PlacedMarks place_marks(const std::string& path, const PageGeometry& geometry,
                        const MarkSources& sources, std::string* error) {
    const PageText text = read_page_text(path, error);
    if (text.page_heights.empty()) return {};
    return place_marks(text, geometry, sources);
}

}  // namespace enconvert::render_child::pdf
