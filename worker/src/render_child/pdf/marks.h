// What the page asks to be marked in its PDF (links, headings) as measured
// before printing, and where those marks end up in the printed file.
//
// The printed PDF is the truth: the page's own measurement is taken on its
// screen layout with print styles applied, which can differ from the print
// layout (page breaks push lines down; fixed elements, scripts, fonts).
// The measurement only says what to look for and roughly where; the text
// locator finds it in the printed pages.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace enconvert::render_child::pdf {

// Every box of a link becomes an annotation: a hostile page's link wrapped
// over thousands of tiny lines made tens of thousands of them (1.9 GB in
// the renderer child for one page). A link keeps its first
// kMaxAreasPerLink boxes; a document gets at most kMaxLinkAreas link
// areas in all. kPreparePrintScript measures within the same bounds.
constexpr std::size_t kMaxAreasPerLink = 256;
constexpr std::size_t kMaxLinkAreas = 100000;

// A box measured in the page, in points of the printed flow: x from the
// sheet's left edge, y from the top of the first page's printable area
// with the pages stacked without their margins (page k starts at
// k × printable height).
struct FlowBox {
    double x = 0, y = 0, w = 0, h = 0;
};

// The printed sheets as the page was laid out for them, in points.
struct PageGeometry {
    double page_height = 0;
    double margin_top = 0;
    double printable_height = 0;
};

// A place in the PDF: page (0-based) and a point in PDF user space
// (points, origin bottom-left), for /XYZ destinations.
struct Destination {
    int page = 0;
    double x = 0, y = 0;
};

// A link's box on a page, in PDF user space (points, origin bottom-left).
// With `dest` it jumps within the document (GoTo), else opens `uri`.
struct LinkArea {
    int page = 0;  // 0-based
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    // Shared by the areas of one link (a URL may be 64 Ki characters).
    std::shared_ptr<const std::string> uri;
    std::optional<Destination> dest = std::nullopt;
};

// A bookmark: the heading's text, its level (1 for h1 … 6 for h6) and
// where the heading is printed.
struct OutlineEntry {
    int level = 1;
    std::string title;
    Destination dest;
};

// An element of the page, in document order.
struct MarkSource {
    enum class Kind { Link, Heading };
    Kind kind = Kind::Link;
    // Visible text as the page renders it; empty for image-only links.
    std::string text;
    // Measured boxes, one per line fragment; the first is where it starts.
    std::vector<FlowBox> boxes;
    // Links: the URI of an external link, or `target` (an index into
    // MarkSources::targets) for a link to a fragment of the same document.
    std::string uri;
    int target = -1;
    // Headings: 1..6.
    int level = 0;
};

// The element a #fragment link points at: the first text printed at or
// after it, and its measured position. `top` is the document's top
// (#top and the empty fragment, as browsers scroll).
struct TargetSource {
    std::string text;
    FlowBox box;
    bool top = false;
};

struct MarkSources {
    std::vector<MarkSource> items;
    std::vector<TargetSource> targets;
    bool empty() const { return items.empty(); }
};

// Document information (pdf_metadata). Empty fields are not written.
struct DocumentInfo {
    std::string title;
    std::string author;
    std::string subject;
    std::string keywords;
};

// What the placement found, for the post-processing and the log.
struct PlacedMarks {
    std::vector<LinkArea> links;
    std::vector<OutlineEntry> outline;
    int links_not_printed = 0;     // no text of theirs in the PDF
    int headings_not_printed = 0;  // the same for headings
    int links_estimated = 0;       // image links placed from the measurement
    // The text searches used their budget (TextLocator::kMaxWork): the
    // marks not placed by then are counted as not printed.
    bool search_budget_spent = false;
};

}  // namespace enconvert::render_child::pdf
