// RAII owners for libcurl handles, for the worker and the command-line
// client alike. Each handle has exactly one owner; a multi handle must
// outlive (or first detach) every easy handle added to it.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace enconvert::curl {

struct CurlEasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
    void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlUrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlCharDeleter {
    void operator()(char* p) const { curl_free(p); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlCharDeleter>;

// A curl_slist that appends safely: curl_slist_append returns a new head (or
// NULL on allocation failure, leaving the old list intact).
class CurlSlist {
  public:
    void append(const std::string& item) {
        curl_slist* head = curl_slist_append(list_.get(), item.c_str());
        if (head == nullptr) throw std::bad_alloc();
        (void)list_.release();
        list_.reset(head);
    }
    curl_slist* get() const { return list_.get(); }

  private:
    std::unique_ptr<curl_slist, CurlSlistDeleter> list_;
};

// curl_easy_setopt that throws when libcurl refuses: an option a handle
// cannot take is a mistake in the caller, never a condition to go on from.
// Integers go as long (curl reads its varargs as long): an int is refused
// at compile time.
template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
    static_assert(!std::is_same_v<Value, int>, "pass integer options as long");
    if (curl_easy_setopt(handle, option, value) != CURLE_OK)
        throw std::runtime_error("libcurl refused option " + std::to_string(option));
}

inline CurlEasy make_easy() {
    CurlEasy h(curl_easy_init());
    if (!h) throw std::runtime_error("curl_easy_init failed");
    return h;
}

inline CurlMulti make_multi() {
    CurlMulti h(curl_multi_init());
    if (!h) throw std::runtime_error("curl_multi_init failed");
    return h;
}

// curl_global_init is not thread-safe before 7.84 and must run once before
// any other thread uses libcurl; call this from the thread that starts them.
void ensure_curl_global_init();

}  // namespace enconvert::curl
