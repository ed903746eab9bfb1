#include "render_child/pdf/mark_placer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

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
// Occurrences looked at for one mark, nearest the estimate first. A page
// can repeat a link's text tens of thousands of times ("link", "edit"):
// looking at all of them for every link made placing quadratic, and it
// runs on the renderer child's main loop, which every view shares.
constexpr std::size_t kMaxCandidates = 2000;

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
            if (boxes[i].size() > kMaxAreasPerLink) boxes[i].resize(kMaxAreasPerLink);
            if (placed_.links.size() + boxes[i].size() > kMaxLinkAreas) {
                ++placed_.links_not_printed;  // as the measurement does: later ones may fit
                continue;
            }
            const auto uri = std::make_shared<const std::string>(item.uri);
            for (LinkArea& a : boxes[i]) {
                a.uri = uri;
                a.dest = dest;
                placed_.links.push_back(std::move(a));
            }
        }
        placed_.search_budget_spent = locator_.budget_spent();
        return std::move(placed_);
    }

  private:
    static FlowBox estimate(const MarkSource& item) {
        return item.boxes.empty() ? FlowBox{} : item.boxes.front();
    }

    // Where one text was printed: every occurrence with its place in the
    // flow, sorted by (y, glyph), found once per distinct text.
    struct Occurrence {
        double y = 0, x = 0;
        Span span;
    };
    const std::vector<Occurrence>& occurrences(const std::u32string& needle) {
        auto [it, added] = occurrences_.try_emplace(needle);
        if (!added) return it->second;
        for (const Span& s : locator_.find_all(needle)) {
            const FlowBox f = locator_.flow_of(s.first);
            it->second.push_back({f.y, f.x, s});
        }
        std::sort(it->second.begin(), it->second.end(), [](const auto& a, const auto& b) {
            return a.y != b.y ? a.y < b.y : a.span.first < b.span.first;
        });
        return it->second;
    }

    // The occurrence of `needle` nearest the corrected estimate, not
    // overlapping one already claimed in `used` (null: any); among equally
    // near ones the first printed. Walks out from the estimate's height
    // and stops where height alone costs more than the best found.
    std::optional<Span> pick(const std::u32string& needle, const FlowBox& at, const Drift& drift,
                             const std::vector<char>* used) {
        const std::vector<Occurrence>& all = occurrences(needle);
        const double ey = at.y + drift.dy, ex = at.x + drift.dx;
        std::optional<Span> best;
        double best_cost = 0;
        std::size_t looked = 0;
        auto consider = [&](const Occurrence& o) {
            ++looked;
            const Span& s = o.span;
            if (used && std::any_of(used->begin() + s.first, used->begin() + s.last + 1,
                                    [](char u) { return u != 0; }))
                return;
            const double cost = std::abs(o.y - ey) + kHorizontalWeight * std::abs(o.x - ex);
            if (!best || cost < best_cost || (cost == best_cost && s.first < best->first)) {
                best = s;
                best_cost = cost;
            }
        };
        auto beyond = [&](const Occurrence& o) {
            return looked >= kMaxCandidates || (best && std::abs(o.y - ey) > best_cost);
        };
        const auto mid = std::lower_bound(all.begin(), all.end(), ey,
                                          [](const Occurrence& o, double y) { return o.y < y; });
        for (auto it = mid; it != all.end() && !beyond(*it); ++it) consider(*it);
        for (auto it = mid; it != all.begin() && !beyond(*std::prev(it)); --it)
            consider(*std::prev(it));
        if (best && needle.size() < kShortText && best_cost > geometry_.printable_height)
            return std::nullopt;
        return best;
    }

    // Marks the span's glyphs as taken and learns the drift from it.
    void claim(const Span& span, std::vector<char>& used, const FlowBox& at) {
        std::fill(used.begin() + span.first, used.begin() + span.last + 1, 1);
        const FlowBox f = locator_.flow_of(span.first);
        drift_ = {f.x - at.x, f.y - at.y};
        fixes_.emplace(at.y, Fix{fixes_.size(), drift_});
    }

    // The drift learnt at the placed mark measured nearest `y`; of two as
    // near, the one learnt first.
    Drift drift_near(double y) const {
        if (fixes_.empty()) return {};
        // The first fix learnt at the nearest height above and below
        // (a multimap keeps equal heights in the order they were added).
        const auto above = fixes_.lower_bound(y);
        const Fixes::const_iterator below =
            above == fixes_.begin() ? fixes_.end() : fixes_.lower_bound(std::prev(above)->first);
        if (above == fixes_.end()) return below->second.drift;
        if (below == fixes_.end()) return above->second.drift;
        const double up = y - below->first, down = above->first - y;
        if (up != down) return up < down ? below->second.drift : above->second.drift;
        return below->second.order < above->second.order ? below->second.drift
                                                         : above->second.drift;
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
        std::size_t order;  // learnt as the order-th
        Drift drift;
    };
    using Fixes = std::multimap<double, Fix>;  // by the measured y

    const PageText& text_;
    const PageGeometry& geometry_;
    const MarkSources& sources_;
    TextLocator locator_;
    std::vector<char> used_by_links_;
    std::vector<char> used_by_headings_;
    Drift drift_;
    Fixes fixes_;
    std::unordered_map<std::u32string, std::vector<Occurrence>> occurrences_;
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
