#include "render_child/content_filters.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
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

// block_ads's list, one identifier a content: a new list never meets the
// compiled form of an old one, and old ones are removed once it is ready.
constexpr const char* kAdsPrefix = "enconvert-block-ads-";
constexpr const char* kAdsFile = "ad_rules.json";
// Another renderer compiles the list: how often to look for its result.
constexpr guint kAdsRetrySeconds = 1;

double seconds_since(gint64 start_us) {
    return (g_get_monotonic_time() - start_us) / 1e6;
}

// Removes `dir` and the files in it (a store holds no subdirectories).
void remove_store_dir(const std::string& dir) {
    if (GDir* d = g_dir_open(dir.c_str(), 0, nullptr)) {
        while (const char* name = g_dir_read_name(d)) {
            GCharPtr path(g_build_filename(dir.c_str(), name, nullptr));
            g_unlink(path.get());
        }
        g_dir_close(d);
    }
    g_rmdir(dir.c_str());
}

// $CACHE_DIRECTORY (systemd's CacheDirectory=, the packaged unit), else
// the user's cache directory ($XDG_CACHE_HOME or ~/.cache): compiled
// lists outlive the renderer there. Empty when neither can be made.
std::string cache_directory() {
    std::string base;
    if (const char* systemd = getenv("CACHE_DIRECTORY"); systemd && *systemd) {
        base = systemd;
        base = base.substr(0, base.find(':'));  // the first of several
    } else {
        GCharPtr user(g_build_filename(g_get_user_cache_dir(), "enconvert", nullptr));
        base = user.get();
    }
    GCharPtr dir(g_build_filename(base.c_str(), "content-filters", nullptr));
    if (g_mkdir_with_parents(dir.get(), 0700) != 0) {
        kLog.warning("no cache directory for the ad list: compiled again by every renderer",
                     {{"directory", dir.get()}, {"error", g_strerror(errno)}});
        return {};
    }
    return dir.get();
}

}  // namespace

struct ContentFilters::Compiled {
    ContentFilters* self;
    std::string identifier;
    WebKitUserContentFilter** slot;
    gint64 started_us;
};

ContentFilters::ContentFilters(std::function<void()> on_change) : on_change_(std::move(on_change)) {
    // The store writes each compiled list to disk; a directory of our own,
    // removed again when the renderer ends.
    GError* raw = nullptr;
    GCharPtr dir(g_dir_make_tmp("enconvert-filters-XXXXXX", &raw));
    GErrorPtr error(raw);
    if (!dir) {
        kLog.error("no directory for content filters; block_media and block_ads do nothing",
                   {{"error", error ? error->message : ""}});
        return;
    }
    store_dir_ = dir.get();
    store_.reset(webkit_user_content_filter_store_new(store_dir_.c_str()));

    GBytesPtr media(g_bytes_new_static(kMediaRules, strlen(kMediaRules)));
    compile(store_.get(), "enconvert-block-media", media.get(), &media_);
    find_ad_list();
}

ContentFilters::~ContentFilters() {
    if (media_) webkit_user_content_filter_unref(media_);
    if (ads_) webkit_user_content_filter_unref(ads_);
    store_.reset();
    cache_.reset();
    private_store_.reset();
    if (!private_dir_.empty()) remove_store_dir(private_dir_);
    // Compiled lists of the temporary store are a cache of this process only.
    if (!store_dir_.empty()) remove_store_dir(store_dir_);
}

void ContentFilters::compile(WebKitUserContentFilterStore* store, const char* identifier,
                             GBytes* source, WebKitUserContentFilter** slot) {
    ++pending_;
    webkit_user_content_filter_store_save(
        store, identifier, source, nullptr, &ContentFilters::on_compiled,
        new Compiled{this, identifier, slot, g_get_monotonic_time()});
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
        kLog.info("content filter compiled",
                  {{"filter", tag->identifier}, {"seconds", seconds_since(tag->started_us)}});
    } else {
        kLog.error("content filter did not compile; the option does nothing",
                   {{"filter", tag->identifier}, {"error", error ? error->message : ""}});
    }
    if (--self->pending_ == 0 && self->on_change_) self->on_change_();
}

// ad_rules.json beside the binary (installed there, copied there in the
// build tree, like fonts.conf). Without it block_ads does nothing.
void ContentFilters::find_ad_list() {
    GCharPtr exe(g_file_read_link("/proc/self/exe", nullptr));
    if (!exe || !store_) return;
    GCharPtr dir(g_path_get_dirname(exe.get()));
    GCharPtr path(g_build_filename(dir.get(), kAdsFile, nullptr));
    gchar* contents = nullptr;
    gsize length = 0;
    if (!g_file_get_contents(path.get(), &contents, &length, nullptr)) {
        kLog.warning("no ad list beside the renderer; block_ads does nothing",
                     {{"path", path.get()}});
        return;
    }
    GCharPtr owned(contents);
    GCharPtr sum(g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                             reinterpret_cast<const guchar*>(contents), length));
    ads_path_ = path.get();
    ads_identifier_ = std::string(kAdsPrefix) + std::string(sum.get(), 16);
    cache_dir_ = cache_directory();
    if (cache_dir_.empty()) {
        ads_state_ = Ads::Unloaded;
        return;
    }
    cache_.reset(webkit_user_content_filter_store_new(cache_dir_.c_str()));
    load_ads();
}

void ContentFilters::load_ads() {
    ads_state_ = Ads::Loading;
    compile_started_us_ = g_get_monotonic_time();
    webkit_user_content_filter_store_load(cache_.get(), ads_identifier_.c_str(), nullptr,
                                          &ContentFilters::on_ads_loaded, this);
}

void ContentFilters::on_ads_loaded(GObject* source, GAsyncResult* result, gpointer data) {
    auto* self = static_cast<ContentFilters*>(data);
    GError* raw = nullptr;
    WebKitUserContentFilter* filter = webkit_user_content_filter_store_load_finish(
        WEBKIT_USER_CONTENT_FILTER_STORE(source), result, &raw);
    GErrorPtr error(raw);
    if (filter) {
        self->ads_ = filter;
        kLog.info("content filter loaded from the cache",
                  {{"filter", self->ads_identifier_},
                   {"seconds", seconds_since(self->compile_started_us_)}});
        self->lock_.reset();  // held if another renderer compiled it meanwhile
        self->ads_settled(Ads::Ready);
        self->forget_stale_ad_lists();
        return;
    }
    // Not compiled yet: compiled when a job asks for it, or now when one
    // already waits (or this renderer holds the compile lock).
    const bool wanted = self->ads_wanted_ || static_cast<bool>(self->lock_);
    self->ads_state_ = Ads::Unloaded;
    if (wanted) self->compile_ads();
}

bool ContentFilters::ready_for(const Job& job) {
    if (!job.block_ads) return true;
    switch (ads_state_) {
        case Ads::Absent:
        case Ads::Ready:
        case Ads::Failed:
            return true;
        case Ads::Unloaded:
            compile_ads();
            return false;
        case Ads::Loading:
            ads_wanted_ = true;
            return false;
        case Ads::Compiling:
        case Ads::Waiting:
            return false;
    }
    return true;
}

// One renderer of the host compiles (a lock file in the cache), into a
// store of its own inside the cache directory, then moves the result in
// with rename(2): others never see a half-written list, and a list they
// have mapped is never rewritten in place. The others look for the
// result every second.
void ContentFilters::compile_ads() {
    ads_wanted_ = true;
    WebKitUserContentFilterStore* store = store_.get();
    if (!cache_dir_.empty()) {
        if (!lock_) {
            GCharPtr lock(
                g_build_filename(cache_dir_.c_str(), (ads_identifier_ + ".lock").c_str(), nullptr));
            util::OwnedFd fd(open(lock.get(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
            if (fd && flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
                lock_ = std::move(fd);
                // It may have been compiled since this renderer looked.
                load_ads();
                return;
            }
            if (!told_waiting_)
                kLog.info("another renderer compiles the ad list; waiting for it",
                          {{"filter", ads_identifier_}});
            told_waiting_ = true;
            ads_state_ = Ads::Waiting;
            retry_ = SourceId(g_timeout_add_seconds(
                kAdsRetrySeconds,
                [](gpointer data) -> gboolean {
                    auto* self = static_cast<ContentFilters*>(data);
                    self->retry_.release();
                    self->load_ads();
                    return G_SOURCE_REMOVE;
                },
                this));
            return;
        }
        // Named after the list: only the lock's holder uses it, and a
        // compile a crash interrupted is cleared by the next one.
        GCharPtr dir(g_build_filename(cache_dir_.c_str(), ("compiling-" + ads_identifier_).c_str(),
                                      nullptr));
        private_dir_ = dir.get();
        remove_store_dir(private_dir_);
        private_store_.reset(webkit_user_content_filter_store_new(private_dir_.c_str()));
        store = private_store_.get();
    }
    gchar* contents = nullptr;
    gsize length = 0;
    GError* raw = nullptr;
    if (!g_file_get_contents(ads_path_.c_str(), &contents, &length, &raw)) {
        GErrorPtr error(raw);
        ads_compiled(nullptr, error ? error->message : "unreadable");
        return;
    }
    GBytesPtr source(g_bytes_new_take(contents, length));
    ads_state_ = Ads::Compiling;
    compile_started_us_ = g_get_monotonic_time();
    kLog.info("compiling the ad list (once per list and host)", {{"filter", ads_identifier_}});
    webkit_user_content_filter_store_save(
        store, ads_identifier_.c_str(), source.get(), nullptr,
        [](GObject* store, GAsyncResult* result, gpointer data) {
            GError* raw = nullptr;
            WebKitUserContentFilter* filter = webkit_user_content_filter_store_save_finish(
                WEBKIT_USER_CONTENT_FILTER_STORE(store), result, &raw);
            GErrorPtr error(raw);
            static_cast<ContentFilters*>(data)->ads_compiled(
                filter, error ? error->message : "unknown error");
        },
        this);
}

void ContentFilters::ads_compiled(WebKitUserContentFilter* filter, const char* error) {
    if (filter) {
        ads_ = filter;
        kLog.info("content filter compiled",
                  {{"filter", ads_identifier_}, {"seconds", seconds_since(compile_started_us_)}});
    } else {
        kLog.error("content filter did not compile; the option does nothing",
                   {{"filter", ads_identifier_}, {"error", error}});
    }
    if (!private_dir_.empty()) {
        private_store_.reset();
        if (filter) {
            // Same file system: the mapped list stays valid where it moves.
            if (GDir* d = g_dir_open(private_dir_.c_str(), 0, nullptr)) {
                while (const char* name = g_dir_read_name(d)) {
                    GCharPtr from(g_build_filename(private_dir_.c_str(), name, nullptr));
                    GCharPtr to(g_build_filename(cache_dir_.c_str(), name, nullptr));
                    if (g_rename(from.get(), to.get()) != 0)
                        kLog.warning("the compiled ad list could not be cached",
                                     {{"path", to.get()}, {"error", g_strerror(errno)}});
                }
                g_dir_close(d);
            }
        }
        remove_store_dir(private_dir_);
        private_dir_.clear();
    }
    lock_.reset();
    ads_settled(filter ? Ads::Ready : Ads::Failed);
    if (filter) forget_stale_ad_lists();
}

void ContentFilters::ads_settled(Ads state) {
    ads_state_ = state;
    if (on_change_) on_change_();
}

// Lists of earlier ad_rules.json versions take tens of MB each.
void ContentFilters::forget_stale_ad_lists() {
    if (!cache_) return;
    webkit_user_content_filter_store_fetch_identifiers(
        cache_.get(), nullptr,
        [](GObject* store, GAsyncResult* result, gpointer data) {
            auto* self = static_cast<ContentFilters*>(data);
            GStrv ids = webkit_user_content_filter_store_fetch_identifiers_finish(
                WEBKIT_USER_CONTENT_FILTER_STORE(store), result);
            if (!ids) return;
            for (GStrv id = ids; *id; ++id) {
                if (!g_str_has_prefix(*id, kAdsPrefix) || self->ads_identifier_ == *id) continue;
                kLog.info("removing an earlier ad list from the cache", {{"filter", *id}});
                GCharPtr lock(g_build_filename(self->cache_dir_.c_str(),
                                               (std::string(*id) + ".lock").c_str(), nullptr));
                g_unlink(lock.get());
                webkit_user_content_filter_store_remove(
                    WEBKIT_USER_CONTENT_FILTER_STORE(store), *id, nullptr,
                    [](GObject* store, GAsyncResult* result, gpointer) {
                        webkit_user_content_filter_store_remove_finish(
                            WEBKIT_USER_CONTENT_FILTER_STORE(store), result, nullptr);
                    },
                    nullptr);
            }
            g_strfreev(ids);
        },
        this);
}

void ContentFilters::apply(WebKitUserContentManager* manager, const Job& job) const {
    webkit_user_content_manager_remove_all_filters(manager);
    // load_media false keeps video and audio out as well as images.
    if (media_ && (job.block_media || !job.load_media))
        webkit_user_content_manager_add_filter(manager, media_);
    if (ads_ && job.block_ads) webkit_user_content_manager_add_filter(manager, ads_);
}

}  // namespace enconvert::render_child
