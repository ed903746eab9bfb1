#include "crawl/crawler.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "crawl/documents.h"
#include "crawl/robots.h"
#include "crawl/url.h"
#include "crawl/url_filter.h"
#include "util/ascii.h"

namespace enconvert::crawl {

namespace {

using Clock = std::chrono::steady_clock;

bool is_html(const FetchResult& f) {
    const std::string& t = f.content_type;
    if (!t.empty()) return t.rfind("text/html", 0) == 0 || t.rfind("application/xhtml+xml", 0) == 0;
    // No Content-Type at all: look at the start of the body as browsers do.
    const std::string head = util::ascii_lower(std::string_view(f.body).substr(0, 512));
    return head.find("<html") != std::string::npos ||
           head.find("<!doctype html") != std::string::npos;
}

std::string describe_failure(const FetchResult& f) {
    if (!f.error.empty()) return f.error;
    return f.final_url + " answered HTTP " + std::to_string(f.status);
}

class Discovery {
  public:
    Discovery(const CrawlOptions& o, Fetcher& fetcher, const std::atomic<bool>& stop)
        : o_(o), fetcher_(fetcher), stop_(stop), deadline_(Clock::now() + o.total_budget) {}

    CrawlResult run();

  private:
    enum class Halt { none, time, stop };

    // Why the crawl may not fetch any more; checked before every fetch.
    Halt halted() {
        if (stop_.load())
            halt_ = Halt::stop;
        else if (Clock::now() >= deadline_)
            halt_ = Halt::time;
        return halt_;
    }

    FetchResult fetch(const std::string& url, const RedirectFilter& follow) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        // A sliver of time left is no time: requests that cannot finish only
        // add load on the site (curl may also end a few ms before the deadline,
        // which would otherwise let the queue drain through instant timeouts).
        if (left < kMinFetchTime) {
            halt_ = Halt::time;
            FetchResult none;
            none.final_url = url;
            none.error_code = "timeout";
            none.error = "the discovery time budget is used up";
            return none;
        }
        const bool total_bound = left < o_.page_budget;
        FetchResult f = fetcher_.get(url, total_bound ? left : o_.page_budget, follow);
        if (total_bound && f.error_code == "timeout") halt_ = Halt::time;
        if (f.error_code == "cancelled") halt_ = Halt::stop;
        return f;
    }

    static constexpr std::chrono::milliseconds kMinFetchTime{100};

    // Redirects inside the site are followed when the target is a page we
    // would take; anything else (another site, an excluded page) is not.
    RedirectFilter within_site() {
        return [this](const std::string& next) {
            auto p = parse_url(next);
            // A target already read is a page we have: no second request.
            return p && on_site(*p) && wanted(*p) && fetched_.count(p->url) == 0;
        };
    }

    bool wanted(const ParsedUrl& p) const {
        return filter_->accepts(p.path_query) && robots_.allowed(p.path_query);
    }

    // On the site and short enough to become a task.
    bool on_site(const ParsedUrl& p) const {
        return p.origin == origin_ && p.url.size() <= kMaxUrlBytes;
    }

    // Counts `copies` copies of `url` against max_kept_url_bytes before they
    // are kept; false once the budget would be passed (the answer is then
    // truncated).
    bool afford(const std::string& url, std::size_t copies) {
        const std::size_t cost = copies * (url.size() + 64);
        if (kept_bytes_ + cost > o_.max_kept_url_bytes) {
            memory_cut_ = true;
            return false;
        }
        kept_bytes_ += cost;
        return true;
    }

    void load_robots();
    // True (and start_problem_ set) when robots.txt forbids the start page.
    bool start_disallowed(const std::string& path_query);
    void fetch_start_page();
    bool sitemap_crawl(CrawlResult& r);  // false: no sitemap found
    void full_crawl(CrawlResult& r);
    void finish(CrawlResult& r);

    const CrawlOptions& o_;
    Fetcher& fetcher_;
    const std::atomic<bool>& stop_;
    const Clock::time_point deadline_;
    Halt halt_ = Halt::none;

    std::optional<UrlFilter> filter_;
    ParsedUrl start_;
    std::string origin_;
    RobotsRules robots_;
    std::string robots_note_;  // why robots.txt forbids everything, when it does
    std::optional<FetchResult> start_page_;
    std::string start_problem_;      // why the start page gives no links
    std::set<std::string> fetched_;  // full crawl: URLs requested as pages (and where they led)
    std::size_t kept_bytes_ = 0;     // afford()
    bool memory_cut_ = false;
};

void Discovery::load_robots() {
    robots_ = RobotsRules::allow_all();
    robots_note_.clear();
    const std::string host = start_.host;
    auto same_host = [host](const std::string& next) {
        auto p = parse_url(next);
        return p && p->host == host;  // http → https of the same host is common
    };
    if (halted() != Halt::none) return;
    const FetchResult f = fetch(origin_ + "/robots.txt", same_host);
    if (f.ok()) {
        robots_ = RobotsRules::parse(f.body);
    } else if (f.error_code == "cancelled") {
        halt_ = Halt::stop;
    } else if ((f.error_code.empty() && f.status >= 500) || f.error_code == "timeout" ||
               f.error_code == "fetch_failed" || f.error_code == "dns_failed" ||
               f.error_code == "blocked_address") {
        // RFC 9309 2.3.1.4: unreachable robots.txt means assume full disallow.
        robots_ = RobotsRules::disallow_all();
        robots_note_ = "robots.txt of " + origin_ + " could not be read (" + describe_failure(f) +
                       "), which RFC 9309 says to treat as disallowing everything";
    }
    // 4xx, a refused redirect, an answer that is not 2xx: no rules (RFC 9309 2.3.1.3).
}

bool Discovery::start_disallowed(const std::string& path_query) {
    if (robots_.allowed(path_query)) return false;
    start_problem_ = robots_note_.empty() ? "robots.txt of " + origin_ + " disallows the start page"
                                          : robots_note_;
    return true;
}

void Discovery::fetch_start_page() {
    if (start_disallowed(start_.path_query)) return;
    if (halted() != Halt::none) return;
    // The start URL's own redirects may change the site (http → https,
    // example.com → www.example.com): what the user typed is where they want
    // to go, and every hop still goes through the address policy. Not with
    // credentials (CrawlOptions::carries_credentials).
    // A hop robots.txt forbids on the start's own site is not requested.
    FetchResult f = fetch(start_.url, [this](const std::string& next) {
        const auto hop = parse_url(next);
        return !hop || hop->origin != origin_ || robots_.allowed(hop->path_query);
    });
    if (f.error_code == "cancelled") halt_ = Halt::stop;
    if (!f.ok()) {
        start_problem_ = "the start page could not be fetched: " + describe_failure(f);
        return;
    }
    auto final_url = parse_url(f.final_url);
    if (!final_url) return;
    if (final_url->url.size() > kMaxUrlBytes) {
        start_problem_ = "the start page redirects to a URL longer than " +
                         std::to_string(kMaxUrlBytes) + " bytes, which cannot be a page";
        return;
    }
    if (final_url->origin != origin_) {
        if (o_.carries_credentials) {
            // Its pages would be rendered with credentials meant for origin_.
            start_problem_ = "the start page redirects to " + final_url->origin +
                             ", another site, and a capture with auth, headers or cookies "
                             "stays on the site it was given (they are sent there only): "
                             "submit a URL of " +
                             final_url->origin + " to capture that site";
            return;
        }
        origin_ = final_url->origin;
        start_ = *final_url;
        load_robots();
    }
    // Also where the start page redirects on its own site: the page read
    // and listed is the redirect's target.
    if (start_disallowed(final_url->path_query)) return;
    if (!is_html(f)) {
        start_problem_ =
            "the start page is not HTML (" +
            (f.content_type.empty() ? std::string("no content type") : f.content_type) + ")";
        return;
    }
    start_page_ = std::move(f);
}

bool Discovery::sitemap_crawl(CrawlResult& r) {
    r.method = "sitemap";
    std::deque<std::pair<std::string, int>> files;  // sitemap URL, index depth
    std::set<std::string> queued;
    bool more_files = false;  // offered past the number of files read
    auto offer = [&](const std::string& base, const std::string& loc, int depth) {
        auto p = resolve_url(base, loc);
        // Sitemaps of other sites are not ours to read (and list other sites' pages).
        if (!p || !on_site(*p) || queued.count(p->url) != 0) return;
        // No more than can be read are kept (an index lists up to 50,000).
        if (queued.size() >= kMaxSitemapFiles) {
            more_files = true;
            return;
        }
        queued.insert(p->url);
        files.emplace_back(p->url, depth);
    };
    for (const auto& s : robots_.sitemaps()) offer(origin_ + "/", s, 0);
    offer(origin_ + "/", "/sitemap.xml", 0);

    bool found = false;
    bool file_cut = false;  // a sitemap read only in part: it lists more than we saw
    std::set<std::string> listed;
    std::size_t read = 0;
    auto same_site = [this](const std::string& next) {
        auto p = parse_url(next);
        return p && p->origin == origin_;
    };
    while (!files.empty() && read < kMaxSitemapFiles) {
        if (halted() != Halt::none) break;
        auto [url, depth] = files.front();
        files.pop_front();
        ++read;
        const FetchResult f = fetch(url, same_site);
        if (!f.ok()) continue;
        bool inflated_in_part = false;
        const auto xml = maybe_gunzip(f.body, kMaxSitemapBytes, &inflated_in_part);
        if (!xml) continue;
        const SitemapDocument doc = parse_sitemap(*xml);
        if (!doc.valid) continue;
        found = true;
        // Over the fetch's size cap or the inflate limit (parsed in part) or
        // the protocol's entry limit: pages may be missing from the answer.
        if (f.body_truncated || inflated_in_part || doc.entries_cut) file_cut = true;
        for (const auto& loc : doc.locations) {
            // Every location costs the patterns' searches (bounded each,
            // url_pattern.h), and a sitemap lists up to 50,000 of them.
            if (halted() != Halt::none) break;
            if (doc.is_index) {
                if (depth < kMaxSitemapIndexDepth) offer(f.final_url, loc, depth + 1);
                continue;
            }
            auto p = resolve_url(f.final_url, loc);
            if (!p || !on_site(*p) || !wanted(*p)) continue;
            if (listed.size() >= kMaxSitemapUrls || listed.count(p->url) != 0) continue;
            const bool answered = r.urls.size() < o_.max_pages;
            if (!afford(p->url, answered ? 2 : 1)) break;
            listed.insert(p->url);
            if (answered) r.urls.push_back(p->url);
        }
        if (memory_cut_) break;
    }
    r.total_discovered = listed.size();
    r.truncated = listed.size() > r.urls.size() || halt_ != Halt::none || file_cut || memory_cut_ ||
                  more_files || (!files.empty() && read >= kMaxSitemapFiles);
    return found;
}

void Discovery::full_crawl(CrawlResult& r) {
    r.method = "full_crawl";
    r.urls.clear();
    r.truncated = false;
    kept_bytes_ = 0;  // what a sitemap read before kept is gone
    memory_cut_ = false;
    struct Item {
        std::string url;
        int depth;
    };
    std::deque<Item> queue;
    std::set<std::string> seen;               // queued, fetched or judged: never looked at twice
    std::set<std::string> listed;             // pages in the answer
    std::map<std::string, int> self_similar;  // numeric pattern → URLs it led to

    auto take_links = [&](const FetchResult& page, const ParsedUrl& page_url, int depth) {
        if (depth >= o_.max_depth) return;
        const std::string page_pattern = numeric_pattern(page_url.path_query);
        // A page with more links than this is a generated index or a trap;
        // its first links are plenty, and the sets below stay bounded.
        const auto links = extract_links(page.body, page_url.url, kMaxLinksPerPage);
        for (std::size_t i = 0; i < links.size(); ++i) {
            if (halted() != Halt::none) return;  // the patterns' cost, as for sitemaps
            const std::string& link = links[i];
            auto p = parse_url(link);
            if (!p || !on_site(*p) || seen.count(p->url) != 0) continue;
            // Kept in `seen`, and maybe queued, listed and answered.
            if (!afford(p->url, 4)) return;
            seen.insert(p->url);
            if (!wanted(*p)) continue;
            // A trap is a page that links to endless variations of itself
            // (/calendar?page=N → N+1): only such self-similar links count, so a
            // listing page linking /post-1 … /post-90 is not cut.
            const std::string pattern = numeric_pattern(p->path_query);
            if (!pattern.empty() && pattern == page_pattern && ++self_similar[pattern] > kTrapCap) {
                continue;
            }
            queue.push_back(Item{p->url, depth + 1});
        }
    };

    if (start_page_) {
        seen.insert(start_.url);
        fetched_.insert(start_.url);
        auto final_url = parse_url(start_page_->final_url);
        if (final_url) {
            seen.insert(final_url->url);
            fetched_.insert(final_url->url);
            // The start page is always read for links; it is listed only when
            // it passes the patterns like any other page.
            if (filter_->accepts(final_url->path_query) && listed.insert(final_url->url).second) {
                r.urls.push_back(final_url->url);
            }
            take_links(*start_page_, *final_url, 0);
        }
    }

    bool cut = false;
    while (!queue.empty()) {
        if (r.urls.size() >= o_.max_pages || halted() != Halt::none) {
            cut = true;
            break;
        }
        Item item = std::move(queue.front());
        queue.pop_front();
        if (listed.count(item.url) != 0) continue;  // reached before through a redirect
        const FetchResult f = fetch(item.url, within_site());
        fetched_.insert(item.url);
        if (halt_ != Halt::none) {
            queue.push_front(std::move(item));  // not read: still counts as discovered
            cut = true;
            break;
        }
        if (!f.ok() || !is_html(f)) continue;  // non-HTML answers are neither listed nor read
        auto final_url = parse_url(f.final_url);
        if (!final_url || !on_site(*final_url)) continue;
        seen.insert(final_url->url);
        fetched_.insert(final_url->url);
        if (!listed.insert(final_url->url).second) continue;
        r.urls.push_back(final_url->url);
        take_links(f, *final_url, item.depth);
    }
    r.total_discovered = r.urls.size() + queue.size();
    r.truncated = (cut && !queue.empty()) || memory_cut_;
    if (halt_ != Halt::none) r.truncated = true;
}

void Discovery::finish(CrawlResult& r) {
    if (halt_ == Halt::stop) {
        r.truncated = true;
        r.error_code = "cancelled";
        r.error = "Discovery was stopped before it finished.";
        return;
    }
    if (!r.urls.empty() || !r.error_code.empty()) return;
    std::string why;
    if (halt_ == Halt::time) {
        why = "the time budget of " + std::to_string(o_.total_budget.count()) +
              " s ended discovery first";
    } else if (r.method == "full_crawl" && !start_problem_.empty()) {
        why = start_problem_;
    } else if (!robots_note_.empty()) {
        why = robots_note_;
    } else if (r.method == "sitemap") {
        why = "the sitemap lists no page of " + origin_ +
              " that passes the include/exclude patterns and robots.txt";
    } else {
        why = "no page of " + origin_ +
              " reachable from the start page passes the include/exclude patterns and "
              "robots.txt";
    }
    r.error_code = "no_pages";
    r.error = "No pages found to capture: " + why + ".";
}

CrawlResult Discovery::run() {
    CrawlResult r;
    if (o_.max_pages == 0 || o_.max_depth < 0 || o_.page_budget.count() <= 0 ||
        o_.total_budget.count() <= 0) {
        r.error_code = "invalid_options";
        r.error = "max_pages and the time budgets must be positive, max_depth not negative.";
        return r;
    }
    auto start = parse_url(o_.start_url);
    if (!start) {
        r.error_code = "invalid_url";
        r.error = "The start URL must be an absolute http or https URL.";
        return r;
    }
    try {
        filter_.emplace(o_.include_patterns, o_.exclude_patterns, o_.exclude_given);
    } catch (const std::invalid_argument& e) {
        r.error_code = "invalid_pattern";
        r.error = std::string("Invalid include/exclude pattern: ") + e.what() + ".";
        return r;
    }
    start_ = *start;
    origin_ = start_.origin;
    load_robots();
    fetch_start_page();

    if (o_.mode != CrawlMode::full) {
        const bool found = sitemap_crawl(r);
        if (o_.mode == CrawlMode::sitemap) {
            if (!found && halt_ == Halt::none) {
                r.error_code = "no_sitemap";
                r.error = "No sitemap found: neither " + origin_ +
                          "/sitemap.xml nor a Sitemap: line of its robots.txt gave one.";
            }
            finish(r);
            return r;
        }
        if ((found && !r.urls.empty()) || halt_ == Halt::stop) {
            finish(r);
            return r;
        }
        r = CrawlResult{};  // automatic: no usable sitemap, crawl instead
    }
    full_crawl(r);
    finish(r);
    return r;
}

}  // namespace

std::string numeric_pattern(const std::string& path_query) {
    std::string out;
    bool any = false;
    for (std::size_t i = 0; i < path_query.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(path_query[i])) != 0) {
            if (i == 0 || std::isdigit(static_cast<unsigned char>(path_query[i - 1])) == 0) {
                out += '#';
            }
            any = true;
        } else {
            out += path_query[i];
        }
    }
    return any ? out : std::string();
}

CrawlResult discover(const CrawlOptions& options, Fetcher& fetcher, const std::atomic<bool>& stop) {
    try {
        return Discovery(options, fetcher, stop).run();
    } catch (const std::exception& e) {
        CrawlResult r;
        r.error_code = "internal_error";
        r.error = std::string("Discovery failed: ") + e.what() + ".";
        return r;
    }
}

}  // namespace enconvert::crawl
