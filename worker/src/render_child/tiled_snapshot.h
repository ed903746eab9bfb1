// Full-page screenshots of tall pages. WebKit's full-document snapshot is
// one cairo surface, and cairo refuses surfaces of 32768 px or more ("There
// was an error creating the snapshot"); it is also the whole page in memory
// twice (web and UI process). A page taller than kMaxImageSide is instead
// scrolled a viewport at a time, each viewport snapshotted and its rows
// streamed into the PNG or JPEG encoder (row_encoder.h), up to
// kMaxTiledHeight (image_writer.h). The view keeps the job's viewport size:
// X refuses windows that tall, and layout (vh units, media queries) stays
// what the page was loaded with. docs/rendering.md, "Tall screenshots".
#pragma once

#include <webkit2/webkit2.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "render_child/glib_ptr.h"
#include "render_child/row_encoder.h"

namespace enconvert::render_child {

class TiledSnapshot : public std::enable_shared_from_this<TiledSnapshot> {
  public:
    struct Result {
        // The page fits one full-document snapshot: nothing was written,
        // the caller takes that snapshot as usual.
        bool single = false;
        WriteError error;  // nothing failed(): the image is written at `path`
        // The view failed to scroll or snapshot (its web process may be
        // dying), not the encoding or the file.
        bool view_failed = false;
    };
    using Done = std::function<void(const Result&)>;
    // Runs `work` off the main loop, then `then` on it with what `work`
    // threw ("" if nothing), or never if the job was answered meanwhile
    // (ViewSlot::off_loop): each tile's rows are converted and encoded
    // there, so the child's other views go on (a 7680 x 16384 tile is
    // seconds of zlib).
    using Offload = std::function<void(std::function<void()> work,
                                       std::function<void(const std::string& error)> then)>;
    // What one of the capture's callbacks (or `done`, called from them)
    // threw: they run from GLib's C frames, where an exception would end
    // the child. Called instead of `done`, unless cancelled.
    using Fault = std::function<void(const char* what)>;

    // Measures the page in `view` and, when it is taller than one snapshot
    // may be, writes it to `path` as `format` ("png", "jpeg", "webp").
    // `done` is called once, unless `cancellable` is cancelled first (then
    // never: the job was answered already). The capture keeps itself (and a
    // reference to the view) alive until its last callback.
    static void start(WebKitWebView* view, GCancellable* cancellable, std::string format,
                      int quality, std::string path, Offload offload, Done done, Fault fault);

    TiledSnapshot(WebKitWebView* view, GCancellable* cancellable, std::string format, int quality,
                  std::string path, Offload offload, Done done, Fault fault);

  private:
    // Where the callbacks' exceptions go (callback_guard.h): to fault_.
    struct Site;

    void measure();
    void scroll_to(int y);
    void snapshot();
    // Appends the rows of `tile` (taken at scroll offset scroll_y_) that
    // the image still needs; why it failed, or empty. Off the main loop.
    WriteError take_rows(cairo_surface_t* tile);
    // Back on the main loop after a tile's rows: the next tile, or the end.
    void after_rows(const WriteError& why);
    void finish(Result result);
    bool cancelled() const;

    static void on_measured(GObject*, GAsyncResult*, gpointer);
    static void on_scrolled(GObject*, GAsyncResult*, gpointer);
    static void on_snapshot(GObject*, GAsyncResult*, gpointer);
    // User data of an async call: a strong reference to the capture.
    gpointer hold();

    GObjectPtr<WebKitWebView> view_;
    GObjectPtr<GCancellable> cancellable_;
    const std::string format_;
    const int quality_;
    const std::string path_;
    Offload offload_;
    Done done_;
    Fault fault_;

    int page_height_ = 0;   // CSS px as measured (device scale is 1 here)
    int image_height_ = 0;  // rows written in all: page_height_ up to the cap
    int next_row_ = 0;      // the next row of the image to write
    int scroll_y_ = 0;      // scroll offset the page reported for this tile
    int stalled_ = 0;       // tiles in a row that added nothing
    bool fixed_hidden_ = false;
    std::unique_ptr<RowEncoder> encoder_;
    std::vector<std::uint8_t> row_;
};

}  // namespace enconvert::render_child
