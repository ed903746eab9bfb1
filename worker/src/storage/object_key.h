// Object keys and file names of stored results (docs/internals.md):
// live/files/<account public_id>/<endpoint>/<name>_<yyyymmddThhmmssZ>_<task id>.<ext>
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace enconvert::storage {

// Keeps [A-Za-z0-9._-]; every other byte (slashes, control chars, each byte
// of a UTF-8 sequence) becomes '_'; runs of '_' and '.' collapse (so ".."
// cannot survive); leading/trailing '.', '_', '-' are trimmed; at most 100
// chars. May return "".
std::string sanitize_name(std::string_view raw);

// The URL's host, lowercased, port dropped, dots as dashes ("example-com");
// "file" if nothing usable remains.
std::string host_name_for_key(std::string_view url);

// "pdf" for url-to-pdf and website-to-pdf, else options.image_format ("png",
// "jpeg", "webp"), default "png".
std::string format_for(std::string_view endpoint, const nlohmann::json& options);
std::string extension_for(std::string_view format);     // jpeg → "jpg"
std::string content_type_for(std::string_view format);  // application/pdf, image/…

// <name>: sanitised options.output_filename (a trailing ".<ext>" the user
// typed is dropped so it is not doubled), else the URL's host.
std::string output_name(const nlohmann::json& options, std::string_view url, std::string_view ext);

// live/files/<account>/<endpoint>/<name>_<stamp>_<task id>.<ext>, and
// <task id>-<claim> from the task's second claim on: a claim whose lease
// ran out may still store its file while the claim that took over stores
// its own, and the loser removes what it stored, which must not be the
// winner's file.
std::string build_object_key(std::string_view account_public_id, std::string_view endpoint,
                             std::string_view name, std::string_view stamp, std::int64_t task_id,
                             std::string_view ext, int claim = 1);

// The key a task's `claim` stores its file under: <name> and <ext> from the
// job's endpoint and options and the task's URL, <stamp> the job's creation
// time (the same on every claim). Retention computes the keys of earlier
// claims with it: one whose worker died between storing and recording left
// a file no row names.
std::string result_object_key(std::string_view account_public_id, std::string_view endpoint,
                              const nlohmann::json& options, std::string_view url,
                              std::string_view job_stamp, std::int64_t task_id, int claim);

// A batch's ZIP (docs/api.md "Batch ZIP"):
// live/files/<account public_id>/<endpoint>/<name>_<stamp>_<job id>.zip,
// <name> as output_name() gives it with the fallback "batch". The job id
// keeps two batches' keys apart as the task id does for single results.
std::string build_archive_key(std::string_view account_public_id, std::string_view endpoint,
                              const nlohmann::json& options, std::string_view stamp,
                              std::string_view job_id);

// Charset [A-Za-z0-9._/-], no "..", no leading '/', not empty, and its
// last segment a file name with an extension ("name.ext").
bool is_valid_object_key(std::string_view key);

}  // namespace enconvert::storage
