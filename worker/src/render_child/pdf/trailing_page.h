// A last page that holds nothing a reader wants: no text and at most a
// sliver of ink (the bottom border of a block that ended a few pixels past
// the previous page, a margin's background). Chromium's output for the
// same pages usually has no such page; ours is dropped before the header
// and footer are counted.
#pragma once

#include <string>

namespace enconvert::render_child::pdf {

// Ink taller than this on a text-free last page is content, kept.
inline constexpr double kSliverMaxMm = 4;

// True when the PDF at `path` has two or more pages and its last page has
// no text and no ink band taller than kSliverMaxMm. False when it cannot
// be read (nothing is dropped then).
bool last_page_is_sliver(const std::string& path);

// Removes the last page of the PDF at `path` (rewritten through a temporary
// file beside it). Returns an empty string on success, else why it failed;
// the file is then unchanged.
std::string drop_last_page(const std::string& path);

}  // namespace enconvert::render_child::pdf
