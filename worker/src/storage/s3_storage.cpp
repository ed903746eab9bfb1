#include "storage/s3_storage.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "curl/curl_handles.h"
#include "log/log.h"
#include "storage/file_check.h"
#include "storage/object_key.h"
#include "storage/s3_xml.h"
#include "util/backoff.h"
#include "util/free_space.h"
#include "util/no_space.h"

namespace enconvert::storage {

namespace fs = std::filesystem;

namespace {

constexpr log::Logger kLog{"storage"};

// Removes the rendered file however storing ends.
class RemoveOnExit {
  public:
    explicit RemoveOnExit(const fs::path& p) : path_(p) {}
    ~RemoveOnExit() {
        std::error_code ec;
        fs::remove(path_, ec);
    }
    RemoveOnExit(const RemoveOnExit&) = delete;
    RemoveOnExit& operator=(const RemoveOnExit&) = delete;

  private:
    const fs::path& path_;
};

// `length` bytes of `in` from its current position.
std::string read_chunk(std::ifstream& in, std::uint64_t length) {
    std::string buf(static_cast<std::size_t>(length), '\0');
    if (!in.read(buf.data(), static_cast<std::streamsize>(length)))
        throw StorageError("the rendered file cannot be read", false);
    return buf;
}

std::string attempts_text(int n) {
    return n == 1 ? "1 attempt" : std::to_string(n) + " attempts";
}

}  // namespace

S3Storage::S3Storage(std::unique_ptr<S3Client> client, const fs::path& scratch_dir,
                     S3StorageOptions options)
    : client_(std::move(client)), temp_dir_(scratch_dir / ".tmp"), options_(options) {
    // Both before any other thread starts: libcurl's and libxml2's global
    // set-up are not thread-safe.
    curl::ensure_curl_global_init();
    s3xml::init();
    fs::create_directories(temp_dir_);
}

// Runs `request` until it succeeds, a failure cannot change, or the
// attempts are used up; waits between tries with the project's backoff
// (0.5 s, 1 s, 2 s, ...); then StorageUnavailable when the last failure
// could have changed, StorageError otherwise. Blocking: the callers are the
// scheduler's storer, the archiver and the janitor, each on its own thread,
// and a result is not reported before it is stored.
template <typename Request>
auto S3Storage::with_retries(const std::string& key, const char* what, Request request) {
    util::Backoff backoff;
    for (int attempt = 1;; ++attempt) {
        try {
            return request();
        } catch (const S3Error& e) {
            if (!e.retryable() || attempt >= options_.upload_attempts) {
                kLog.error("storage request failed", {{"object_key", key},
                                                      {"request", what},
                                                      {"attempts", attempt},
                                                      {"error", e.what()}});
                std::string message =
                    std::string(e.what()) + "; gave up after " + attempts_text(attempt);
                if (e.retryable()) throw StorageUnavailable(message);
                throw StorageError(message, false);
            }
            backoff.failed(util::Backoff::clock::now());
            kLog.warning("storage request failed; retrying", {{"object_key", key},
                                                              {"request", what},
                                                              {"attempt", attempt},
                                                              {"error", e.what()}});
            std::this_thread::sleep_until(backoff.next_attempt());
        }
    }
}

std::uint64_t S3Storage::store(const fs::path& temp_file, const std::string& key,
                               std::string_view format, std::int64_t expected_size) {
    if (!is_valid_object_key(key)) throw std::runtime_error("invalid object key");
    const RemoveOnExit cleanup(temp_file);
    std::uint64_t size = 0;
    // Verified before it leaves the machine: a truncated render is never
    // uploaded.
    if (const std::string why = check_rendered(temp_file, format, expected_size, size);
        !why.empty())
        throw StorageError(why, !has_room());
    const std::string content_type = content_type_for(format);
    if (size < options_.multipart_threshold_bytes) {
        std::ifstream in(temp_file, std::ios::binary);
        const std::string body = read_chunk(in, size);
        with_retries(key, "PutObject", [&] {
            client_->put_object(key, body, content_type);
            return 0;
        });
    } else {
        upload_multipart(temp_file, key, size, content_type);
    }
    kLog.debug("object stored", {{"object_key", key}, {"bytes", size}});
    return size;
}

void S3Storage::upload_multipart(const fs::path& file, const std::string& key, std::uint64_t size,
                                 const std::string& content_type) {
    const std::string upload_id = with_retries(key, "CreateMultipartUpload", [&] {
        return client_->create_multipart_upload(key, content_type);
    });
    try {
        std::ifstream in(file, std::ios::binary);
        std::vector<std::string> etags;
        for (std::uint64_t offset = 0; offset < size; offset += options_.part_size_bytes) {
            const std::string part =
                read_chunk(in, std::min(options_.part_size_bytes, size - offset));
            const int number = static_cast<int>(etags.size()) + 1;
            etags.push_back(with_retries(key, "UploadPart", [&] {
                return client_->upload_part(key, upload_id, number, part);
            }));
        }
        with_retries(key, "CompleteMultipartUpload", [&] {
            client_->complete_multipart_upload(key, upload_id, etags);
            return 0;
        });
        kLog.info("multipart upload complete",
                  {{"object_key", key}, {"parts", etags.size()}, {"bytes", size}});
    } catch (...) {
        // The parts already stored would otherwise be kept (and billed):
        // retried like any request (a store's 503 on the abort kept them).
        try {
            with_retries(key, "AbortMultipartUpload", [&] {
                client_->abort_multipart_upload(key, upload_id);
                return 0;
            });
        } catch (const std::exception& e) {
            kLog.warning("aborting a multipart upload failed",
                         {{"object_key", key}, {"error", e.what()}});
        }
        throw;
    }
}

void S3Storage::fetch(const std::string& key, const fs::path& dest) {
    if (!is_valid_object_key(key)) throw StorageError("invalid object key", false);
    try {
        // Written straight to `dest`, whole: the object was read into
        // memory and cut at 1 MiB (a ZIP of larger results held their
        // first MiB), and an ofstream's close left no errno to tell a full
        // disk by.
        with_retries(key, "GetObject", [&] {
            client_->get_object_to(key, dest);
            return 0;
        });
    } catch (...) {
        std::error_code ec;
        fs::remove(dest, ec);
        throw;
    }
}

bool S3Storage::has_room_for(std::uint64_t bytes) const {
    return util::has_room_for(temp_dir_, options_.min_free_bytes, bytes);
}

void S3Storage::remove(const std::string& key) noexcept {
    if (!is_valid_object_key(key)) return;
    try {
        client_->delete_object(key);
    } catch (const std::exception& e) {
        kLog.warning("removing an object failed", {{"object_key", key}, {"error", e.what()}});
    }
}

void S3Storage::erase(const std::string& key) {
    if (!is_valid_object_key(key)) return;
    // S3 answers 204 for a missing key too. Retried like every request: one
    // 503 used to keep an expired job until the janitor's next pass.
    with_retries(key, "DeleteObject", [&] {
        client_->delete_object(key);
        return 0;
    });
}

}  // namespace enconvert::storage
