#include "scheduler/site_page_names.h"

#include <algorithm>
#include <array>
#include <vector>

#include "crawl/url.h"
#include "storage/object_key.h"
#include "util/ascii.h"

namespace enconvert::scheduler {

namespace {

constexpr std::size_t kMaxDirectories = 16;

// The extensions of a page's own address, not of the file we make from it.
bool is_page_extension(std::string_view ext) {
    constexpr std::array<std::string_view, 6> kPage{".html", ".htm",  ".php",
                                                    ".asp",  ".aspx", ".shtml"};
    const std::string lower = util::ascii_lower(ext);
    return std::find(kPage.begin(), kPage.end(), lower) != kPage.end();
}

std::vector<std::string> path_segments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        std::string name = storage::sanitize_name(path.substr(start, end - start));
        // sanitize_name trims dots, so "." and ".." come out empty.
        if (!name.empty()) out.push_back(std::move(name));
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string site_page_entry_name(const std::string& url, std::string_view ext) {
    const auto parsed = crawl::parse_url(url);
    std::string path_query = parsed ? parsed->path_query : std::string("/");
    const std::size_t q = path_query.find('?');
    const std::string path = path_query.substr(0, q);
    const std::string query = q == std::string::npos ? "" : path_query.substr(q + 1);

    std::vector<std::string> segments = path_segments(path);
    if (path.empty() || path.back() == '/' || segments.empty()) {
        segments.push_back("index");
    } else {
        std::string& last = segments.back();
        const std::size_t dot = last.rfind('.');
        if (dot != std::string::npos && dot > 0 && is_page_extension(last.substr(dot))) {
            last.resize(dot);
        }
    }
    if (!query.empty()) {
        const std::string suffix = storage::sanitize_name(query);
        if (!suffix.empty()) segments.back() += "_" + suffix;
    }
    if (segments.size() > kMaxDirectories + 1) {
        segments.erase(segments.begin() + kMaxDirectories, segments.end() - 1);
    }
    std::string name;
    for (std::size_t i = 0; i < segments.size(); ++i) name += (i ? "/" : "") + segments[i];
    return name + "." + std::string(ext);
}

}  // namespace enconvert::scheduler
