#include "render_child/file_printer.h"

#include <gtk/gtk.h>
#include <gtk/gtkunixprint.h>

#include <cstring>

namespace enconvert::render_child {
namespace {

gboolean consider(GtkPrinter* printer, gpointer data) {
    auto* found = static_cast<std::optional<std::string>*>(data);
    GtkPrintBackend* backend = gtk_printer_get_backend(printer);
    const bool file_backend =
        backend && std::strcmp(G_OBJECT_TYPE_NAME(backend), "GtkPrintBackendFile") == 0;
    if (file_backend && gtk_printer_is_virtual(printer) && gtk_printer_accepts_pdf(printer)) {
        *found = gtk_printer_get_name(printer);
        return TRUE;  // stop enumerating
    }
    return FALSE;
}

}  // namespace

std::optional<std::string> find_file_printer() {
    g_object_set(gtk_settings_get_default(), "gtk-print-backends", "file", nullptr);
    std::optional<std::string> found;
    gtk_enumerate_printers(&consider, &found, nullptr, TRUE);
    return found;
}

}  // namespace enconvert::render_child
