// RAII owners for the libcurl handles the client uses: one owner each.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace enconvert::cli {

struct CurlEasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlUrlDeleter {
    void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
    void operator()(char* text) const { curl_free(text); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// A header list: curl_slist_append returns the new head, or NULL (leaving
// the old list intact) when it runs out of memory.
class CurlHeaders {
  public:
    void append(const std::string& line) {
        curl_slist* head = curl_slist_append(list_.get(), line.c_str());
        if (head == nullptr) throw std::bad_alloc();
        (void)list_.release();
        list_.reset(head);
    }
    curl_slist* get() const { return list_.get(); }

  private:
    std::unique_ptr<curl_slist, CurlSlistDeleter> list_;
};

// curl_global_init before any handle exists, curl_global_cleanup after the
// last one is gone: main() holds one for the life of the command.
class CurlGlobal {
  public:
    CurlGlobal() {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("libcurl could not be initialised");
        }
    }
    ~CurlGlobal() { curl_global_cleanup(); }
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

}  // namespace enconvert::cli
