// Replacing a PDF on disk with a rewritten one, all or nothing.
#pragma once

#include <functional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <string>

#include "render_child/write_error.h"

namespace enconvert::render_child::pdf {

// Writes `doc` to a temporary file beside `path` (options set by
// `configure`, if given) and renames it over `path`. Nothing failed() on
// success, else why, and whether for want of room; `path` is then
// unchanged and the temporary file gone. Every write is checked: qpdf's own
// file output ignores a failed final flush, which on a full disk left a
// truncated PDF reported as written.
WriteError write_replacing(QPDF& doc, const std::string& path,
                           const std::function<void(QPDFWriter&)>& configure = {});

}  // namespace enconvert::render_child::pdf
