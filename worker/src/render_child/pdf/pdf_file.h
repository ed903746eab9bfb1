// Replacing a PDF on disk with a rewritten one, all or nothing.
#pragma once

#include <functional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <string>

namespace enconvert::render_child::pdf {

// Writes `doc` to a temporary file beside `path` (options set by
// `configure`, if given) and renames it over `path`. Returns an empty
// string on success, else why it failed; `path` is then unchanged and the
// temporary file gone.
std::string write_replacing(QPDF& doc, const std::string& path,
                            const std::function<void(QPDFWriter&)>& configure = {});

}  // namespace enconvert::render_child::pdf
