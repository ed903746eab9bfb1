#include "render_child/print_setup.h"

namespace enconvert::render_child {

PrintSetup make_print_setup(const PdfOptions& pdf, double page_height_mm,
                            const std::string& printer_name, const std::string& output_uri) {
    const double height = page_height_mm > 0 ? page_height_mm : pdf.page_height_mm;
    PrintSetup setup{GObjectPtr<GtkPrintSettings>(gtk_print_settings_new()),
                     GObjectPtr<GtkPageSetup>(gtk_page_setup_new())};
    GtkPrintSettings* s = setup.settings.get();
    gtk_print_settings_set_printer(s, printer_name.c_str());
    gtk_print_settings_set(s, GTK_PRINT_SETTINGS_OUTPUT_FILE_FORMAT, "pdf");
    gtk_print_settings_set(s, GTK_PRINT_SETTINGS_OUTPUT_URI, output_uri.c_str());
    // Sheets 1 to kMaxPrintedPages + 2 (GTK counts from 0, both ends
    // included): one more tells a longer document, and one more again
    // keeps that so when the last is a near-empty sheet that is dropped.
    GtkPageRange range{0, kMaxPrintedPages + 1};
    gtk_print_settings_set_print_pages(s, GTK_PRINT_PAGES_RANGES);
    gtk_print_settings_set_page_ranges(s, &range, 1);

    GtkPaperSize* paper =
        gtk_paper_size_new_custom("enconvert", "enconvert", pdf.page_width_mm, height, GTK_UNIT_MM);
    gtk_page_setup_set_paper_size(setup.page.get(), paper);
    gtk_print_settings_set_paper_size(s, paper);
    gtk_paper_size_free(paper);
    gtk_page_setup_set_orientation(setup.page.get(), GTK_PAGE_ORIENTATION_PORTRAIT);
    gtk_print_settings_set_orientation(s, GTK_PAGE_ORIENTATION_PORTRAIT);
    gtk_page_setup_set_top_margin(setup.page.get(), pdf.margin_top_mm, GTK_UNIT_MM);
    gtk_page_setup_set_bottom_margin(setup.page.get(), pdf.margin_bottom_mm, GTK_UNIT_MM);
    gtk_page_setup_set_left_margin(setup.page.get(), pdf.margin_left_mm, GTK_UNIT_MM);
    gtk_page_setup_set_right_margin(setup.page.get(), pdf.margin_right_mm, GTK_UNIT_MM);
    return setup;
}

namespace {
constexpr double kCssPxPerMm = 96.0 / 25.4;
}

double print_zoom(const PdfOptions& pdf) {
    return pdf.scale * 0.75 / 0.8;
}

double printable_width_css_px(const PdfOptions& pdf) {
    return (pdf.page_width_mm - pdf.margin_left_mm - pdf.margin_right_mm) * kCssPxPerMm / pdf.scale;
}

double printable_height_css_px(const PdfOptions& pdf) {
    return (pdf.page_height_mm - pdf.margin_top_mm - pdf.margin_bottom_mm) * kCssPxPerMm /
           pdf.scale;
}

}  // namespace enconvert::render_child
