#include "render_child/tiled_snapshot.h"

#include <cairo.h>
#include <unistd.h>

#include <algorithm>

#include "render_child/callback_guard.h"
#include "render_child/image_writer.h"
#include "render_child/page_scripts.h"

namespace enconvert::render_child {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

// The document's height and width in CSS px, as the full-document snapshot
// would be and as far as scrolling the window reaches: the scrolling
// element's alone. A body that scrolls inside a clipped root (html
// { overflow: hidden }) was measured too, but the window cannot scroll it:
// every tile after the first stalled and the image was padded with white
// to the body's height. Read through the prototypes' own getters: even in
// this script's world, `document` answers named elements before its
// built-ins, and <img name="scrollingElement"> made the page measure as
// the image (a few px), so a 30,000 px page was snapshot in one piece,
// gigabytes in this process.
constexpr const char* kMeasureScript = R"JS(
const get = (proto, name, of) => Object.getOwnPropertyDescriptor(proto, name).get.call(of);
const root = get(Document.prototype, 'scrollingElement', document) ||
             get(Document.prototype, 'documentElement', document);
return root ? [get(Element.prototype, 'scrollHeight', root),
               get(Element.prototype, 'scrollWidth', root)] : [0, 0];
)JS";

// Element `i` of the measurement as a number, 0 when it is not one.
double measured(JSCValue* value, unsigned i) {
    if (!value || !jsc_value_is_array(value)) return 0;
    GObjectPtr<JSCValue> item(jsc_value_object_get_property_at_index(value, i));
    return item && jsc_value_is_number(item.get()) ? jsc_value_to_double(item.get()) : 0;
}

// Scrolls to `y` (no smooth scrolling, whatever the page's CSS says) and
// resolves to the offset the page really took (less at the bottom).
// `first`: before the first tile, sticky elements are put back in the flow
// (position: static does not move anything else), so they show once where
// the page has them instead of stuck to the top of every tile.
// `hide_fixed`: after the first tile, fixed elements (headers, cookie
// banners) are hidden, so they show once, in the first tile, as in a
// full-document snapshot, instead of in every tile. The view is reset after
// the job, so nothing is restored.
constexpr const char* kScrollScript = R"JS(
if (first || hide_fixed) {
    for (const el of Document.prototype.querySelectorAll.call(document, '*')) {
        const position = getComputedStyle(el).position;
        if (first && (position === 'sticky' || position === '-webkit-sticky'))
            el.style.setProperty('position', 'static', 'important');
        if (hide_fixed && position === 'fixed')
            el.style.setProperty('opacity', '0', 'important');
    }
}
window.scrollTo({left: 0, top: y, behavior: 'instant'});
return Math.round(window.scrollY);
)JS";

// Tiles in a row that may add no rows (the page shrank under the capture)
// before the rest of the image is filled with white.
constexpr int kMaxStalledTiles = 2;

struct Hold {
    std::shared_ptr<TiledSnapshot> capture;
};

std::shared_ptr<TiledSnapshot> release(gpointer data) {
    std::unique_ptr<Hold> hold(static_cast<Hold*>(data));
    return std::move(hold->capture);
}

}  // namespace

struct TiledSnapshot::Site {
    // The capture, kept alive for the report (the callback lets its Hold go).
    static std::shared_ptr<TiledSnapshot> locate(void* hold) {
        return static_cast<Hold*>(hold)->capture;
    }
    static void threw(const std::shared_ptr<TiledSnapshot>& capture, const char* what) {
        if (capture->cancelled() || !capture->fault_) return;
        capture->done_ = nullptr;
        Fault fault = std::move(capture->fault_);
        capture->fault_ = nullptr;
        fault(what);
    }
};

void TiledSnapshot::start(WebKitWebView* view, GCancellable* cancellable, std::string format,
                          int quality, std::string path, Offload offload, Done done, Fault fault) {
    auto capture = std::make_shared<TiledSnapshot>(view, cancellable, std::move(format), quality,
                                                   std::move(path), std::move(offload),
                                                   std::move(done), std::move(fault));
    // Called from inside a callback of the view's: what this throws is
    // the caller's.
    capture->measure();
}

TiledSnapshot::TiledSnapshot(WebKitWebView* view, GCancellable* cancellable, std::string format,
                             int quality, std::string path, Offload offload, Done done, Fault fault)
    : view_(WEBKIT_WEB_VIEW(g_object_ref(view))),
      cancellable_(G_CANCELLABLE(g_object_ref(cancellable))),
      format_(std::move(format)),
      quality_(quality),
      path_(std::move(path)),
      offload_(std::move(offload)),
      done_(std::move(done)),
      fault_(std::move(fault)) {}

gpointer TiledSnapshot::hold() {
    return new Hold{shared_from_this()};
}

bool TiledSnapshot::cancelled() const {
    return g_cancellable_is_cancelled(cancellable_.get());
}

void TiledSnapshot::finish(Result result) {
    if (cancelled()) return;
    Done done = std::move(done_);
    done_ = nullptr;
    if (done) done(result);
}

void TiledSnapshot::measure() {
    webkit_web_view_call_async_javascript_function(
        view_.get(), kMeasureScript, -1, nullptr, kScriptWorld, nullptr, cancellable_.get(),
        &Guarded<&TiledSnapshot::on_measured, Site>::call, hold());
}

void TiledSnapshot::on_measured(GObject* source, GAsyncResult* result, gpointer data) {
    const std::shared_ptr<TiledSnapshot> self = release(data);
    GError* raw = nullptr;
    GObjectPtr<JSCValue> value(webkit_web_view_call_async_javascript_function_finish(
        WEBKIT_WEB_VIEW(source), result, &raw));
    GErrorPtr error(raw);
    if (self->cancelled()) return;
    // A page that cannot be measured is captured as before, in one piece.
    const double height = measured(value.get(), 0);
    const double width = measured(value.get(), 1);
    // Wider than an image keeps, the one piece would hold the whole width
    // in memory only to be cropped to kMaxImageSide (32,000 px wide: 3 GB
    // in this process, 2 GB in the web process): tiles of the viewport's
    // width instead.
    const bool too_wide = width > kMaxImageSide;
    if (height <= kMaxImageSide && !too_wide) {
        self->finish({true, {}});
        return;
    }
    self->page_height_ = static_cast<int>(height);
    if (self->format_ == "webp") {
        // WebP has no row encoder: neither tiles nor the one piece.
        const bool tall = height > kMaxImageSide;
        self->finish({false,
                      {"the page is " + std::to_string(static_cast<int>(tall ? height : width)) +
                       (tall ? " px tall" : " px wide") + " and a WebP image holds at most " +
                       std::to_string(kMaxWebpSide) + " px: ask for PNG or JPEG (up to " +
                       std::to_string(kMaxTiledHeight) + " px tall), or full_page false"}});
        return;
    }
    self->image_height_ = std::min(self->page_height_, kMaxTiledHeight);
    self->scroll_to(0);
}

void TiledSnapshot::scroll_to(int y) {
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "y", "d", static_cast<double>(y));
    // Flags go as numbers: the async function call takes no GVariant booleans.
    g_variant_dict_insert(&args, "first", "d", next_row_ == 0 ? 1.0 : 0.0);
    // From the second tile on (fixed elements show in the first).
    const bool hide_fixed = next_row_ > 0 && !fixed_hidden_;
    fixed_hidden_ = fixed_hidden_ || hide_fixed;
    g_variant_dict_insert(&args, "hide_fixed", "d", hide_fixed ? 1.0 : 0.0);
    webkit_web_view_call_async_javascript_function(
        view_.get(), kScrollScript, -1, g_variant_dict_end(&args), kScriptWorld, nullptr,
        cancellable_.get(), &Guarded<&TiledSnapshot::on_scrolled, Site>::call, hold());
}

void TiledSnapshot::on_scrolled(GObject* source, GAsyncResult* result, gpointer data) {
    const std::shared_ptr<TiledSnapshot> self = release(data);
    GError* raw = nullptr;
    GObjectPtr<JSCValue> value(webkit_web_view_call_async_javascript_function_finish(
        WEBKIT_WEB_VIEW(source), result, &raw));
    GErrorPtr error(raw);
    if (self->cancelled()) return;
    if (!value || !jsc_value_is_number(value.get())) {
        self->finish({false,
                      {std::string("the page could not be scrolled: ") +
                       (error ? error->message : "no offset")},
                      true});
        return;
    }
    self->scroll_y_ = static_cast<int>(jsc_value_to_double(value.get()));
    self->snapshot();
}

void TiledSnapshot::snapshot() {
    // The visible region is painted from the web process's current scroll
    // offset, which the script above has just set.
    webkit_web_view_get_snapshot(view_.get(), WEBKIT_SNAPSHOT_REGION_VISIBLE,
                                 WEBKIT_SNAPSHOT_OPTIONS_NONE, cancellable_.get(),
                                 &Guarded<&TiledSnapshot::on_snapshot, Site>::call, hold());
}

void TiledSnapshot::on_snapshot(GObject* source, GAsyncResult* result, gpointer data) {
    const std::shared_ptr<TiledSnapshot> self = release(data);
    GError* raw = nullptr;
    SurfacePtr tile(webkit_web_view_get_snapshot_finish(WEBKIT_WEB_VIEW(source), result, &raw),
                    &cairo_surface_destroy);
    GErrorPtr error(raw);
    if (self->cancelled()) return;
    if (!tile || cairo_surface_status(tile.get()) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_get_type(tile.get()) != CAIRO_SURFACE_TYPE_IMAGE) {
        self->finish({false,
                      {std::string("a tile could not be captured: ") +
                       (error ? error->message : "the snapshot is not an image")},
                      true});
        return;
    }
    // The work holds a plain pointer: the capture (and the view it
    // references) is let go on the main loop, by `then`. The tile's last
    // reference may go on either thread (cairo counts atomically).
    std::shared_ptr<cairo_surface_t> rows(tile.release(), &cairo_surface_destroy);
    auto why = std::make_shared<WriteError>();
    TiledSnapshot* capture = self.get();
    self->offload_(
        [capture, rows, why] {
            *why = capture->take_rows(rows.get());
            // The last tile: the file is completed off the loop too.
            if (!why->failed() && capture->next_row_ >= capture->image_height_)
                *why = capture->encoder_->finish();
        },
        [self, rows, why](const std::string& error) {
            run_guarded<Site>(self, [&] {
                self->after_rows(error.empty() ? *why
                                               : WriteError{"encoding a tile failed: " + error});
            });
        });
}

void TiledSnapshot::after_rows(const WriteError& why) {
    if (cancelled()) return;
    if (why.failed()) {
        unlink(path_.c_str());
        finish({false, why});
        return;
    }
    if (next_row_ < image_height_) {
        scroll_to(next_row_);
        return;
    }
    finish({false, {}});
}

WriteError TiledSnapshot::take_rows(cairo_surface_t* tile) {
    cairo_surface_flush(tile);
    const int width = cairo_image_surface_get_width(tile);
    const int height = cairo_image_surface_get_height(tile);
    if (!encoder_) {
        WriteError why;
        unlink(path_.c_str());
        encoder_ = open_row_encoder(format_, path_, width, image_height_, quality_, why);
        if (!encoder_) return why;
        row_.assign(static_cast<std::size_t>(width) * 3, 255);
    }
    const std::size_t row_bytes = row_.size();
    const int end = std::min(image_height_, scroll_y_ + height);
    const int before = next_row_;
    for (; next_row_ < end; ++next_row_) {
        const int source = next_row_ - scroll_y_;
        if (source >= 0) {
            argb_row_to_rgb(tile, source, row_);
            row_.resize(row_bytes, 255);  // a narrower tile: white on the right
        } else {
            std::fill(row_.begin(), row_.end(), 255);  // scrolled past it: white
        }
        if (!encoder_->write_row(row_.data())) return encoder_->error();
    }
    stalled_ = next_row_ == before ? stalled_ + 1 : 0;
    if (stalled_ >= kMaxStalledTiles) {
        // The page got shorter than measured: the rest is white.
        std::fill(row_.begin(), row_.end(), 255);
        for (; next_row_ < image_height_; ++next_row_)
            if (!encoder_->write_row(row_.data())) return encoder_->error();
    }
    return {};
}

}  // namespace enconvert::render_child
