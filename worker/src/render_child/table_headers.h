// Table headers on every printed page. WebKit prints a table's <thead>
// once, at its top (WebKit bug 17205); Chromium repeats it on every page
// the table spans, and readers of long tables expect that.
#pragma once

namespace enconvert::render_child {

// JavaScript defining repeatTableHeaders(pageHeight): run in the page laid
// out at the printable width with its print styles, it splits every table
// with a <thead> that would cross a page boundary into one table a page,
// each piece starting a new page (break-before: page) with a copy of the
// header and the columns fixed at the widths of the whole table; a table
// whose header and first row do not fit the rest of its first page starts
// on the next one. pageHeight is the printable height in CSS px (0: one
// endless sheet, nothing is split). Returns the number of pieces added.
// Breaks are computed from the screen layout with a small reserve for
// what print pushes down (lines moved over earlier page breaks); a row
// taller than a page leaves its table as it is from there on.
extern const char* const kRepeatTableHeadersFunction;

}  // namespace enconvert::render_child
