// WebKit content rule lists the jobs can switch on (block_media, load_media
// false, block_ads), compiled once per renderer: compiling a list costs far
// more than a render, adding a compiled one to a view costs nothing.
//
// block_ads's list (ad_rules.json beside the binary, made from EasyList,
// docs/rendering.md) takes WebKit tens of seconds to compile, so it is
// kept compiled in a cache directory, under an identifier made from the
// list's content, and compiled only when a job first asks for it: starting
// a renderer loads it from the cache or leaves it alone.
#pragma once

#include <unistd.h>
#include <webkit2/webkit2.h>

#include <functional>
#include <string>
#include <utility>

#include "render_child/glib_ptr.h"
#include "util/owned_fd.h"

namespace enconvert::render_child {

struct Job;

class ContentFilters {
  public:
    // `on_change` runs when the lists every job needs are compiled (or
    // failed to: a job then renders without them, the log says why) and
    // again whenever the ad list is settled.
    explicit ContentFilters(std::function<void()> on_change);
    ~ContentFilters();
    ContentFilters(const ContentFilters&) = delete;
    ContentFilters& operator=(const ContentFilters&) = delete;

    bool ready() const { return pending_ == 0; }
    // False while `job` must wait for the ad list (being loaded or
    // compiled); starts its compilation the first time it is needed.
    bool ready_for(const Job& job);
    // Replaces the filters of `manager` with those `job` asks for.
    void apply(WebKitUserContentManager* manager, const Job& job) const;

  private:
    enum class Ads { Absent, Loading, Unloaded, Compiling, Waiting, Ready, Failed };
    struct Compiled;
    void compile(WebKitUserContentFilterStore* store, const char* identifier, GBytes* source,
                 WebKitUserContentFilter** slot);
    static void on_compiled(GObject* source, GAsyncResult* result, gpointer data);
    void find_ad_list();
    void load_ads();
    static void on_ads_loaded(GObject* source, GAsyncResult* result, gpointer data);
    void compile_ads();
    void ads_compiled(WebKitUserContentFilter* filter, const char* error);
    void ads_settled(Ads state);
    void forget_stale_ad_lists();

    std::string store_dir_;
    GObjectPtr<WebKitUserContentFilterStore> store_;
    WebKitUserContentFilter* media_ = nullptr;
    int pending_ = 0;
    std::function<void()> on_change_;

    // block_ads
    Ads ads_state_ = Ads::Absent;
    std::string ads_path_;        // the JSON list
    std::string ads_identifier_;  // from its content
    std::string cache_dir_;       // empty: no persistent cache
    GObjectPtr<WebKitUserContentFilterStore> cache_;
    std::string private_dir_;  // the compile's own store, inside cache_dir_
    GObjectPtr<WebKitUserContentFilterStore> private_store_;
    util::OwnedFd lock_;         // held while this renderer compiles the list
    SourceId retry_;             // another renderer compiles: look again later
    bool told_waiting_ = false;  // the log says so once
    bool ads_wanted_ = false;    // a job waits for the list
    gint64 compile_started_us_ = 0;
    WebKitUserContentFilter* ads_ = nullptr;
};

}  // namespace enconvert::render_child
