// GTK print settings and page setup for one PDF: paper, orientation,
// margins and scale from pdf_options, output to a file URI.
#pragma once

#include <gtk/gtk.h>

#include <string>

#include "render_child/gobject_ptr.h"
#include "render_child/job.h"

namespace enconvert::render_child {

struct PrintSetup {
    GObjectPtr<GtkPrintSettings> settings;
    GObjectPtr<GtkPageSetup> page;
};

// `page_height_mm` replaces the paper height (single_page); 0 keeps it.
// At most kMaxPrintedPages + 2 sheets are printed.
// The paper is always given as a custom portrait-shaped size already turned
// (PdfOptions holds the final width and height), so GTK is told "portrait":
// that way the PDF's MediaBox is exactly the requested sheet, unrotated.
PrintSetup make_print_setup(const PdfOptions& pdf, double page_height_mm,
                            const std::string& printer_name, const std::string& output_uri);

// WebKit prints one CSS px as 0.8 pt (it lays pages out 1.25 times wider
// than the paper and shrinks them); Chromium as 0.75 pt (96 px per inch).
// A print zoom of scale * 0.75 / 0.8 on the root gives Chromium's layout
// width, line breaks and type size, and implements pdf_options.scale as
// Chromium does (layout at printable width / scale), which GTK's own print
// scale does not: it shrinks the whole sheet, margins included.
double print_zoom(const PdfOptions& pdf);

// The printable area in CSS px (96 per inch), divided by the print scale:
// the width the page is laid out at when printed.
double printable_width_css_px(const PdfOptions& pdf);
double printable_height_css_px(const PdfOptions& pdf);

}  // namespace enconvert::render_child
