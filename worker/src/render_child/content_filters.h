// WebKit content rule lists the jobs can switch on (block_media, load_media
// false; block_ads's once its list is shipped), compiled once per renderer:
// compiling a list costs far more than a render, adding a compiled one to a
// view costs nothing.
#pragma once

#include <webkit2/webkit2.h>

#include <functional>
#include <string>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

struct Job;

class ContentFilters {
  public:
    // `on_ready` runs once, when every list is compiled (or failed to:
    // a job then renders without it, and the log says why).
    explicit ContentFilters(std::function<void()> on_ready);
    ~ContentFilters();
    ContentFilters(const ContentFilters&) = delete;
    ContentFilters& operator=(const ContentFilters&) = delete;

    bool ready() const { return pending_ == 0; }
    // Replaces the filters of `manager` with those `job` asks for.
    void apply(WebKitUserContentManager* manager, const Job& job) const;

  private:
    struct Compiled;
    void compile(const char* identifier, GBytes* source, WebKitUserContentFilter** slot);
    static void on_compiled(GObject* source, GAsyncResult* result, gpointer data);

    std::string store_dir_;
    GObjectPtr<WebKitUserContentFilterStore> store_;
    WebKitUserContentFilter* media_ = nullptr;
    int pending_ = 0;
    std::function<void()> on_ready_;
};

}  // namespace enconvert::render_child
