// Owning handles for the C objects the renderer uses (GLib's, plus GTK's
// toplevel windows), so every reference is released exactly once.
#pragma once

#include <gtk/gtk.h>

#include <memory>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

// Toplevel windows are owned by GTK's toplevel list, not by a plain ref:
// they are released with gtk_widget_destroy.
struct WidgetDestroy {
    void operator()(GtkWidget* widget) const {
        if (widget) gtk_widget_destroy(widget);
    }
};
using ToplevelPtr = std::unique_ptr<GtkWidget, WidgetDestroy>;

}  // namespace enconvert::render_child
