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

// A printed PDF's page count (0 when it cannot be read) and whether its
// last page is a sliver: two or more pages and a last page with no text
// and no ink band taller than kSliverMaxMm (false when unreadable: nothing
// is dropped then). One opening of the file serves both (a long
// document's cost several milliseconds each).
struct LastPage {
    int pages = 0;
    bool sliver = false;
};
// `look_for_sliver` false: the count alone.
LastPage read_last_page(const std::string& path, bool look_for_sliver = true);

inline bool last_page_is_sliver(const std::string& path) {
    return read_last_page(path).sliver;
}

// Removes the last page of the PDF at `path` (rewritten through a temporary
// file beside it). Returns an empty string on success, else why it failed;
// the file is then unchanged.
std::string drop_last_page(const std::string& path);

}  // namespace enconvert::render_child::pdf
