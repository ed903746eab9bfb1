#include "render_child/content_filters.h"

#include <glib/gstdio.h>

#include <cstring>
#include <memory>

#include "log/log.h"
#include "render_child/job.h"

namespace enconvert::render_child {
namespace {

constexpr log::Logger kLog{"content_filters"};

// block_media: what a page plays (video/audio elements, and the files an
// MSE player fetches itself) is large and useless in a still capture.
// Content rules cannot see a response's size, so "large media" is what its
// type or file extension says is video or audio.
// WebKit's url-filter has no alternation: one rule an extension.
constexpr const char* kMediaRules = R"JSON([
 {"trigger": {"url-filter": ".*", "resource-type": ["media"]}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.mp4([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.m4v([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.m4a([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.webm([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.ogv([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.oga([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.ogg([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.mp3([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.wav([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.flac([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.aac([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.opus([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.mov([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.mkv([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.m3u8([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}},
 {"trigger": {"url-filter": "\\.mpd([?#].*)?$", "url-filter-is-case-sensitive": false}, "action": {"type": "block"}}
])JSON";

struct BytesUnref {
    void operator()(GBytes* b) const {
        if (b) g_bytes_unref(b);
    }
};
using BytesPtr = std::unique_ptr<GBytes, BytesUnref>;

}  // namespace

struct ContentFilters::Compiled {
    ContentFilters* self;
    std::string identifier;
    WebKitUserContentFilter** slot;
};

ContentFilters::ContentFilters(std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {
    // The store writes each compiled list to disk; a directory of our own,
    // removed again when the renderer ends.
    GError* raw = nullptr;
    GCharPtr dir(g_dir_make_tmp("enconvert-filters-XXXXXX", &raw));
    GErrorPtr error(raw);
    if (!dir) {
        kLog.error("no directory for content filters; block_media does nothing",
                   {{"error", error ? error->message : ""}});
        return;
    }
    store_dir_ = dir.get();
    store_.reset(webkit_user_content_filter_store_new(store_dir_.c_str()));

    BytesPtr media(g_bytes_new_static(kMediaRules, strlen(kMediaRules)));
    compile("enconvert-block-media", media.get(), &media_);
}

ContentFilters::~ContentFilters() {
    if (media_) webkit_user_content_filter_unref(media_);
    store_.reset();
    if (store_dir_.empty()) return;
    // Compiled lists are a cache of this process only.
    if (GDir* dir = g_dir_open(store_dir_.c_str(), 0, nullptr)) {
        while (const char* name = g_dir_read_name(dir)) {
            GCharPtr path(g_build_filename(store_dir_.c_str(), name, nullptr));
            g_unlink(path.get());
        }
        g_dir_close(dir);
    }
    g_rmdir(store_dir_.c_str());
}

void ContentFilters::compile(const char* identifier, GBytes* source,
                             WebKitUserContentFilter** slot) {
    ++pending_;
    webkit_user_content_filter_store_save(store_.get(), identifier, source, nullptr,
                                          &ContentFilters::on_compiled,
                                          new Compiled{this, identifier, slot});
}

void ContentFilters::on_compiled(GObject* source, GAsyncResult* result, gpointer data) {
    std::unique_ptr<Compiled> tag(static_cast<Compiled*>(data));
    GError* raw = nullptr;
    WebKitUserContentFilter* filter = webkit_user_content_filter_store_save_finish(
        WEBKIT_USER_CONTENT_FILTER_STORE(source), result, &raw);
    GErrorPtr error(raw);
    ContentFilters* self = tag->self;
    if (filter) {
        *tag->slot = filter;
        kLog.info("content filter compiled", {{"filter", tag->identifier}});
    } else {
        kLog.error("content filter did not compile; the option does nothing",
                   {{"filter", tag->identifier}, {"error", error ? error->message : ""}});
    }
    if (--self->pending_ == 0 && self->on_ready_) {
        auto ready = std::move(self->on_ready_);
        self->on_ready_ = nullptr;
        ready();
    }
}

void ContentFilters::apply(WebKitUserContentManager* manager, const Job& job) const {
    webkit_user_content_manager_remove_all_filters(manager);
    // load_media false keeps video and audio out as well as images.
    if (media_ && (job.block_media || !job.load_media))
        webkit_user_content_manager_add_filter(manager, media_);
}

}  // namespace enconvert::render_child
