// pdf_options.grayscale without losing text: a CSS filter on the page makes
// WebKit print it as one bitmap. Instead each page gets a final full-page
// fill with a neutral colour in the /Saturation blend mode, which keeps the
// luminosity of everything below and drops its saturation: the page shows
// in greys while text, vectors and links stay as they are.
#pragma once

#include <qpdf/QPDF.hh>

namespace enconvert::render_child::pdf {

void make_grayscale(QPDF& pdf);

}  // namespace enconvert::render_child::pdf
