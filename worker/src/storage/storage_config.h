// The storage backend's configuration keys (storage_backend, s3_*). Like the
// notifier's, they live in the worker's config file: config::WorkerConfig
// adds them with add_storage_options() and reads them back with
// read_storage_options(). Documented in docs/internals.md and
// docs/operations.md.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace enconvert::storage {

struct S3Options {
    std::string endpoint;  // scheme://host[:port]
    std::string region;
    std::string bucket;
    bool path_style = true;  // endpoint/bucket/key; false: bucket.endpoint/key
    // From the config file, else ENCONVERT_S3_ACCESS_KEY_ID /
    // ENCONVERT_S3_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID /
    // AWS_SECRET_ACCESS_KEY. Never logged.
    std::string access_key_id;
    std::string secret_access_key;
    int multipart_threshold_mb = 16;  // files this large or larger: multipart upload
    int part_size_mb = 16;
    int upload_attempts = 3;  // tries of each request on transient failures
};

struct StorageOptions {
    std::string backend = "local";  // local | s3
    S3Options s3;

    bool s3_backend() const { return backend == "s3"; }
};

void add_storage_options(boost::program_options::options_description& d);

// Reads the values (after po::notify), credentials from the environment
// where the file has none. With `check` (the daemon starts), validates them:
// throws config::ConfigError naming the key.
StorageOptions read_storage_options(const boost::program_options::variables_map& vm, bool check);

}  // namespace enconvert::storage
