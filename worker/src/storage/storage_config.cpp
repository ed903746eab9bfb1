#include "storage/storage_config.h"

#include <cstdlib>
#include <stdexcept>

#include "config/worker_config.h"
#include "storage/s3_endpoint.h"

namespace enconvert::storage {

namespace po = boost::program_options;

namespace {

template <typename T>
T get(const po::variables_map& vm, const char* key, T fallback) {
    const auto it = vm.find(key);
    return it == vm.end() || it->second.empty() ? fallback : it->second.as<T>();
}

std::string from_env(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        const char* v = std::getenv(name);
        if (v != nullptr && *v != '\0') return v;
    }
    return {};
}

void check_range(int value, int lo, int hi, const char* key) {
    if (value < lo || value > hi) {
        throw config::ConfigError(std::string("setting '") + key + "' must be between " +
                                  std::to_string(lo) + " and " + std::to_string(hi));
    }
}

void require(const std::string& value, const char* key, const char* hint = "") {
    if (value.empty()) {
        throw config::ConfigError(std::string("storage_backend = s3 needs '") + key + "'" + hint);
    }
}

bool valid_region(const std::string& r) {
    return r.size() <= 64 &&
           r.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

void validate_s3(const S3Options& s3) {
    require(s3.endpoint, "s3_endpoint");
    require(s3.region, "s3_region");
    require(s3.bucket, "s3_bucket");
    require(s3.access_key_id, "s3_access_key_id",
            " (or ENCONVERT_S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID in the environment)");
    require(s3.secret_access_key, "s3_secret_access_key",
            " (or ENCONVERT_S3_SECRET_ACCESS_KEY / AWS_SECRET_ACCESS_KEY in the environment)");
    if (!valid_region(s3.region))
        throw config::ConfigError(
            "setting 's3_region' must be lower-case letters, digits and '-' (e.g. us-east-1)");
    try {
        S3Endpoint(s3.endpoint, s3.bucket, s3.path_style);
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError(std::string("setting 's3_endpoint' / 's3_bucket': ") + e.what());
    }
    // A single PUT may carry at most 5 GiB; a part at most 5 GiB too (AWS
    // wants parts of at least 5 MiB, other stores accept less).
    check_range(s3.multipart_threshold_mb, 1, 5120, "s3_multipart_threshold_mb");
    check_range(s3.part_size_mb, 1, 5120, "s3_part_size_mb");
    check_range(s3.upload_attempts, 1, 10, "s3_upload_attempts");
}

}  // namespace

void add_storage_options(po::options_description& d) {
    d.add_options()                                                                         //
        ("storage_backend", po::value<std::string>(), "where results go: local or s3")      //
        ("s3_endpoint", po::value<std::string>(), "S3 endpoint, scheme://host[:port]")      //
        ("s3_region", po::value<std::string>(), "S3 region (signing scope)")                //
        ("s3_bucket", po::value<std::string>(), "S3 bucket")                                //
        ("s3_path_style", po::value<bool>(), "endpoint/bucket/key (else bucket.endpoint)")  //
        ("s3_access_key_id", po::value<std::string>(), "S3 access key id")                  //
        ("s3_secret_access_key", po::value<std::string>(), "S3 secret access key")          //
        ("s3_multipart_threshold_mb", po::value<int>(), "multipart upload from this size")  //
        ("s3_part_size_mb", po::value<int>(), "multipart part size")                        //
        ("s3_upload_attempts", po::value<int>(), "tries of each S3 request");
}

StorageOptions read_storage_options(const po::variables_map& vm, bool check) {
    StorageOptions o;
    S3Options& s3 = o.s3;
    o.backend = get(vm, "storage_backend", o.backend);
    s3.endpoint = get(vm, "s3_endpoint", s3.endpoint);
    s3.region = get(vm, "s3_region", s3.region);
    s3.bucket = get(vm, "s3_bucket", s3.bucket);
    s3.path_style = get(vm, "s3_path_style", s3.path_style);
    s3.access_key_id = get(vm, "s3_access_key_id", s3.access_key_id);
    s3.secret_access_key = get(vm, "s3_secret_access_key", s3.secret_access_key);
    s3.multipart_threshold_mb = get(vm, "s3_multipart_threshold_mb", s3.multipart_threshold_mb);
    s3.part_size_mb = get(vm, "s3_part_size_mb", s3.part_size_mb);
    s3.upload_attempts = get(vm, "s3_upload_attempts", s3.upload_attempts);
    if (s3.access_key_id.empty())
        s3.access_key_id = from_env({"ENCONVERT_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"});
    if (s3.secret_access_key.empty())
        s3.secret_access_key =
            from_env({"ENCONVERT_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"});
    if (!check) return o;
    if (o.backend != "local" && o.backend != "s3")
        throw config::ConfigError("setting 'storage_backend' must be local or s3");
    if (o.s3_backend()) validate_s3(s3);
    return o;
}

}  // namespace enconvert::storage
