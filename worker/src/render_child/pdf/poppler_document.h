// Opening a printed PDF with poppler, from one mapping of the file
// (mapped_file.h: poppler's own reader refills 256 bytes at a time).
#pragma once

#include <poppler.h>

#include <string>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child::pdf {

// The document at `path`, or nullptr when it cannot be read (*error, if
// given, then says why). The document keeps the mapping alive.
GObjectPtr<PopplerDocument> open_poppler_document(const std::string& path, std::string* error);

}  // namespace enconvert::render_child::pdf
