// Owning handles for the GLib objects the renderer uses, so every reference
// taken is released exactly once, on every path. No GTK here: the outbound
// gate uses them without a display.
#pragma once

#include <glib-object.h>

#include <memory>

namespace enconvert::render_child {

struct GObjectUnref {
    void operator()(gpointer object) const {
        if (object) g_object_unref(object);
    }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GErrorFree {
    void operator()(GError* error) const {
        if (error) g_error_free(error);
    }
};
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

struct GFree {
    void operator()(gpointer p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

struct GBytesUnref {
    void operator()(GBytes* bytes) const {
        if (bytes) g_bytes_unref(bytes);
    }
};
using GBytesPtr = std::unique_ptr<GBytes, GBytesUnref>;

struct GMappedFileUnref {
    void operator()(GMappedFile* file) const {
        if (file) g_mapped_file_unref(file);
    }
};
using GMappedFilePtr = std::unique_ptr<GMappedFile, GMappedFileUnref>;

struct GUriUnref {
    void operator()(GUri* uri) const {
        if (uri) g_uri_unref(uri);
    }
};
using GUriPtr = std::unique_ptr<GUri, GUriUnref>;

struct GMainContextUnref {
    void operator()(GMainContext* context) const {
        if (context) g_main_context_unref(context);
    }
};
using GMainContextPtr = std::unique_ptr<GMainContext, GMainContextUnref>;

// A source this code made: removed from its context and released.
struct GSourceDestroy {
    void operator()(GSource* source) const {
        if (!source) return;
        g_source_destroy(source);
        g_source_unref(source);
    }
};
using GSourcePtr = std::unique_ptr<GSource, GSourceDestroy>;

// A GLib main-loop source (timeout, fd watch) removed when this goes away.
class SourceId {
  public:
    SourceId() = default;
    explicit SourceId(guint id) : id_(id) {}
    SourceId(SourceId&& other) noexcept : id_(other.release()) {}
    SourceId& operator=(SourceId&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    ~SourceId() { reset(); }

    void reset(guint id = 0) {
        if (id_) g_source_remove(id_);
        id_ = id;
    }
    // For a callback about to return G_SOURCE_REMOVE: GLib removes the
    // source itself, so forget it without removing it twice.
    guint release() {
        guint id = id_;
        id_ = 0;
        return id;
    }
    explicit operator bool() const { return id_ != 0; }

  private:
    guint id_ = 0;
};

}  // namespace enconvert::render_child
