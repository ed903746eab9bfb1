// Is a rendered file complete? A renderer that ran out of disk, was killed
// mid-write or wrote through a failing device can leave an empty or
// truncated file behind; those must never be stored as results.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace enconvert::storage {

// Checks the format's framing at both ends of the file: PDF header and
// final %%EOF, PNG signature and IEND chunk, JPEG SOI and EOI markers, WebP
// RIFF header whose length is the file's, ZIP local header and
// end-of-central-directory record. Returns "" when complete, else a
// short reason ("empty file", "no end-of-file marker", ...).
std::string check_complete(const std::filesystem::path& file, std::string_view format);

// check_complete, then (when expected_size >= 0) the size the renderer
// reported. Returns "" when the file may be stored, else the sentence a
// StorageError carries ("the rendered file is incomplete (empty file)").
// `size` receives the file's size.
std::string check_rendered(const std::filesystem::path& file, std::string_view format,
                           std::int64_t expected_size, std::uint64_t& size);

}  // namespace enconvert::storage
