// Document information: the title Chromium also writes (the page's
// <title>), and who produced the file.
#pragma once

#include <qpdf/QPDF.hh>
#include <string>

namespace enconvert::render_child::pdf {

void set_metadata(QPDF& pdf, const std::string& title);

}  // namespace enconvert::render_child::pdf
