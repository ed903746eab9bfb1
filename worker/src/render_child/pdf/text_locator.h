// Finds a piece of the page's text in the printed PDF's text: every place
// it occurs, where each lies in the printed flow (to compare with the
// page's own measurement), and the boxes it covers line by line.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "render_child/pdf/marks.h"
#include "render_child/pdf/page_text.h"

namespace enconvert::render_child::pdf {

// Glyphs first..last (inclusive) of PageText::glyphs.
struct Span {
    int first = 0;
    int last = 0;
};

class TextLocator {
  public:
    // Both must outlive the locator. `max_work`: see kMaxWork.
    TextLocator(const PageText& text, const PageGeometry& geometry,
                std::uint64_t max_work = kMaxWork);

    // Every occurrence of `needle` (already normalised). Long needles are
    // matched by their head and tail (printing may change something in
    // between: generated content, a line-end character), as the span from
    // a head to the nearest tail that follows it within the needle's
    // length and some slack; a head without its tail is a span of its own.
    std::vector<Span> find_all(const std::u32string& needle) const;

    // The top-left corner of a glyph in flow coordinates (marks.h).
    FlowBox flow_of(int glyph) const;

    // One rectangle per printed line (and page) of the span, in PDF user
    // space; `uri`/`dest` left empty.
    std::vector<LinkArea> line_boxes(Span span) const;

    // Where a jump to the span lands: its first glyph's page, left edge and
    // top (PDF user space), a little above the text so it is not cut.
    Destination destination(Span span) const;

    const PageText& text() const { return text_; }
    const PageGeometry& geometry() const { return geometry_; }

    // Needles are matched whole up to this many characters.
    static constexpr std::size_t kWholeNeedle = 48;

    // A needle is looked up where its rarest character was printed; where
    // that is more than kFewPlaces places and the needle has kGram
    // characters or more, where its rarest run of kGram characters was.
    static constexpr std::size_t kGram = 8;
    static constexpr std::size_t kFewPlaces = 4096;

    // Places the searches so far have compared a needle against: the cost
    // of placing a document's marks (a test's measure).
    std::uint64_t candidates_checked() const { return candidates_checked_; }

    // The work all searches of one document may do: places compared plus
    // occurrences returned, about 9 s at most here. Past it, searches find
    // nothing (the marks are left out). 20,000 distinct link texts that
    // share a head and tail of 48 'a's, over two million printed 'a's, each
    // compared the head at every place and returned two million
    // occurrences: hours on the renderer child's one work thread, which the
    // finishing of every other view's job waits for. Short texts are
    // compared wherever their rarest character was printed: 2,000
    // page-number links over digits printed 100,000 times each reach it.
    static constexpr std::uint64_t kMaxWork = 200'000'000;
    bool budget_spent() const { return work_ > max_work_; }

  private:
    std::vector<Span> find_spans(const std::u32string& needle) const;
    std::vector<int> matches(const std::u32string& needle) const;
    // Where `needle` may start, ascending: each place its rarest indexed
    // part occurs, less that part's offset in the needle.
    std::vector<int> candidates(const std::u32string& needle) const;
    // Fills grams_, the first time a needle needs it (most documents never
    // do: sorting every run costs milliseconds a page).
    void index_grams() const;

    const PageText& text_;
    const PageGeometry& geometry_;
    // Positions of each character, to start the search at the needle's
    // rarest one instead of scanning every glyph.
    std::unordered_map<char32_t, std::vector<int>> positions_;
    // (hash of glyphs i .. i + kGram - 1, i), sorted. Starting from the
    // rarest character alone, many distinct link texts over a tiny
    // alphabet (a page of 20,000 links written in 'a' and 'b') made every
    // search walk half the glyphs: 97 s on the child's work thread.
    mutable std::vector<std::pair<std::uint64_t, int>> grams_;
    mutable bool grams_indexed_ = false;
    mutable std::uint64_t candidates_checked_ = 0;
    const std::uint64_t max_work_;
    mutable std::uint64_t work_ = 0;  // see kMaxWork
};

}  // namespace enconvert::render_child::pdf
