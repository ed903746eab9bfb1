// Document information: title, author, subject and keywords (from the
// page, or the request's pdf_options.metadata, which wins), and who
// produced the file.
#pragma once

#include <qpdf/QPDF.hh>

#include "render_child/pdf/marks.h"

namespace enconvert::render_child::pdf {

void set_metadata(QPDF& pdf, const DocumentInfo& info);

}  // namespace enconvert::render_child::pdf
