#include "crawl/documents.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zlib.h>

#include <climits>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

#include "crawl/url.h"

namespace enconvert::crawl {

namespace {

struct XmlDocDeleter {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

struct XmlCharDeleter {
    void operator()(xmlChar* p) const { xmlFree(p); }
};
using XmlText = std::unique_ptr<xmlChar, XmlCharDeleter>;

// One inflate stream; inflateEnd runs whatever way the caller leaves.
class Inflater {
  public:
    Inflater() {
        // 15 + 16: gzip framing only (the magic bytes were checked).
        if (inflateInit2(&z_, 15 + 16) != Z_OK) throw std::bad_alloc();
    }
    ~Inflater() { inflateEnd(&z_); }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
    z_stream* get() { return &z_; }

  private:
    z_stream z_{};
};

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

bool named(const xmlNode* n, const char* name) {
    return n->type == XML_ELEMENT_NODE && n->name != nullptr &&
           xmlStrcasecmp(n->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

// A <loc>'s URL: its own text and CDATA only. xmlNodeGetContent would
// expand entity references (one 100 KiB entity referenced a few thousand
// times is hundreds of MB); a sitemap's URL needs none beyond the
// predefined ones (&amp;), which the parser has already put in the text.
// With anything else inside, or longer than kMaxLocBytes: dropped.
std::string loc_text(const xmlNode* n) {
    std::string out;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
        // An entity of the file's own (or markup) inside: not a URL as
        // written; dropped rather than read as a shorter, other URL.
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) return {};
        if (c->content == nullptr) continue;
        out += reinterpret_cast<const char*>(c->content);
        if (out.size() > kMaxLocBytes) return {};
    }
    return trim(out);
}

std::string attribute(const xmlNode* n, const char* name) {
    XmlText v(xmlGetProp(n, reinterpret_cast<const xmlChar*>(name)));
    return v ? std::string(reinterpret_cast<const char*>(v.get())) : std::string();
}

// Pre-order walk without recursion: hostile HTML may nest deeper than the stack.
template <typename Visit>
void walk(xmlNode* root, Visit&& visit) {
    xmlNode* n = root;
    while (n != nullptr) {
        visit(n);
        if (n->children != nullptr) {
            n = n->children;
            continue;
        }
        while (n != nullptr && n != root && n->next == nullptr) n = n->parent;
        if (n == nullptr || n == root) break;
        n = n->next;
    }
}

// libxml2 wants its global state set up once before threads parse at the
// same time (the storage code may parse in parallel with a crawl).
void init_libxml() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

int size_for_libxml(std::size_t size) {
    return size > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
}

// The length of `text` up to its (max_tags + 1)th '<': what is parsed.
std::size_t markup_prefix(const std::string& text, std::size_t max_tags) {
    const char* p = text.data();
    const char* const end = p + text.size();
    for (std::size_t tags = 0; p < end; ++p) {
        p = static_cast<const char*>(std::memchr(p, '<', static_cast<std::size_t>(end - p)));
        if (p == nullptr) return text.size();
        if (++tags > max_tags) return static_cast<std::size_t>(p - text.data());
    }
    return text.size();
}

}  // namespace

std::optional<std::string> maybe_gunzip(const std::string& data, std::size_t limit, bool* cut) {
    if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f ||
        static_cast<unsigned char>(data[1]) != 0x8b) {
        return data;
    }
    Inflater inflater;
    z_stream* z = inflater.get();
    z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z->avail_in = static_cast<uInt>(std::min<std::size_t>(data.size(), UINT_MAX));
    std::string out;
    char chunk[64 * 1024];
    for (;;) {
        z->next_out = reinterpret_cast<Bytef*>(chunk);
        z->avail_out = sizeof chunk;
        const int rc = inflate(z, Z_NO_FLUSH);
        // Z_BUF_ERROR with nothing left to read: the input ended mid-stream
        const bool starved = rc == Z_BUF_ERROR && z->avail_in == 0;
        if (rc != Z_OK && rc != Z_STREAM_END && !starved) return std::nullopt;
        out.append(chunk, sizeof chunk - z->avail_out);
        const bool too_big = out.size() > limit;
        const bool ended_early =
            starved || (rc != Z_STREAM_END && z->avail_in == 0 && z->avail_out != 0);
        if (too_big || ended_early) {
            if (cut == nullptr) return std::nullopt;
            *cut = true;
            if (too_big) out.resize(limit);
            return out;
        }
        if (rc == Z_STREAM_END) return out;
    }
}

SitemapDocument parse_sitemap(const std::string& xml) {
    SitemapDocument out;
    init_libxml();
    // No XML_PARSE_NOENT (entities stay unexpanded), NONET (never fetch a DTD),
    // RECOVER (a sitemap cut at the size cap still gives its first URLs).
    const std::size_t length = markup_prefix(xml, kMaxSitemapTags);
    XmlDoc doc(xmlReadMemory(xml.data(), size_for_libxml(length), "sitemap.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
                                 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA));
    if (!doc) return out;
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (root == nullptr) return out;
    const char* entry = nullptr;
    if (named(root, "urlset")) {
        entry = "url";
    } else if (named(root, "sitemapindex")) {
        entry = "sitemap";
        out.is_index = true;
    } else {
        return out;
    }
    out.valid = true;
    out.entries_cut = length < xml.size();
    for (const xmlNode* e = root->children; e != nullptr; e = e->next) {
        if (!named(e, entry)) continue;
        if (out.locations.size() >= kMaxSitemapEntries) {
            out.entries_cut = true;
            break;
        }
        for (const xmlNode* c = e->children; c != nullptr; c = c->next) {
            if (!named(c, "loc")) continue;
            std::string loc = loc_text(c);
            if (!loc.empty()) out.locations.push_back(std::move(loc));
            break;
        }
    }
    return out;
}

std::vector<std::string> extract_links(const std::string& html, const std::string& page_url,
                                       std::size_t max_links) {
    std::vector<std::string> links;
    init_libxml();
    XmlDoc doc(htmlReadMemory(html.data(), size_for_libxml(markup_prefix(html, kMaxPageTags)),
                              page_url.c_str(), nullptr,
                              HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                  HTML_PARSE_NONET | HTML_PARSE_COMPACT));
    if (!doc) return links;
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (root == nullptr) return links;

    // The first <base href> decides how every relative link resolves.
    std::string base = page_url;
    bool base_seen = false;
    walk(root, [&](xmlNode* n) {
        if (!base_seen && named(n, "base")) {
            const std::string href = attribute(n, "href");
            if (href.empty()) return;
            base_seen = true;
            if (auto b = resolve_url(page_url, href)) base = b->url;
        }
    });
    std::size_t tried = 0;  // hrefs that cost a resolution, kept or not
    walk(root, [&](xmlNode* n) {
        if (tried >= max_links) return;
        if (!named(n, "a") && !named(n, "area")) return;
        const std::string href = attribute(n, "href");
        if (href.empty() || href.front() == '#') return;  // the page itself
        ++tried;
        if (auto u = resolve_url(base, href)) links.push_back(u->url);
    });
    return links;
}

}  // namespace enconvert::crawl
