#include "storage/file_check.h"

#include <algorithm>
#include <cstdint>
#include <fstream>

namespace enconvert::storage {

namespace {

// PDF writers may put a line end or a little padding after %%EOF.
constexpr std::size_t kPdfTrailerWindow = 1024;
constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
// Length 0, "IEND", CRC: the last 12 bytes of every PNG.
constexpr std::string_view kPngEnd("\0\0\0\0IEND\xae\x42\x60\x82", 12);

struct Ends {
    std::string head;
    std::string tail;
    std::uintmax_t size = 0;
};

bool read_ends(const std::filesystem::path& file, std::size_t n, Ends& out) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    in.seekg(0, std::ios::end);
    out.size = static_cast<std::uintmax_t>(in.tellg());
    const std::size_t take = static_cast<std::size_t>(std::min<std::uintmax_t>(n, out.size));
    out.head.resize(take);
    out.tail.resize(take);
    in.seekg(0);
    in.read(out.head.data(), static_cast<std::streamsize>(take));
    in.seekg(static_cast<std::streamoff>(out.size - take));
    in.read(out.tail.data(), static_cast<std::streamsize>(take));
    return static_cast<bool>(in);
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::uint32_t le32(std::string_view s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return v;
}

}  // namespace

std::string check_complete(const std::filesystem::path& file, std::string_view format) {
    Ends ends;
    if (!read_ends(file, kPdfTrailerWindow, ends)) return "cannot be read";
    if (ends.size == 0) return "empty file";
    if (format == "pdf") {
        if (!starts_with(ends.head, "%PDF-")) return "not a PDF";
        if (ends.tail.find("%%EOF") == std::string::npos) return "no end-of-file marker";
    } else if (format == "png") {
        if (!starts_with(ends.head, kPngSignature)) return "not a PNG";
        if (!ends_with(ends.tail, kPngEnd)) return "no end chunk";
    } else if (format == "jpeg") {
        if (!starts_with(ends.head, "\xff\xd8\xff")) return "not a JPEG";
        if (!ends_with(ends.tail, "\xff\xd9")) return "no end marker";
    } else if (format == "webp") {
        if (ends.size < 12 || !starts_with(ends.head, "RIFF") || ends.head.substr(8, 4) != "WEBP")
            return "not a WebP";
        if (std::uintmax_t{le32(ends.head, 4)} + 8 != ends.size) return "length does not match";
    } else if (format == "zip") {
        // A local file header first; the end-of-central-directory record
        // (22 bytes plus a comment) last: a cut-off archive has none.
        if (!starts_with(ends.head, "PK\x03\x04")) return "not a ZIP";
        if (ends.tail.rfind("PK\x05\x06") == std::string::npos) return "no central directory";
    } else {
        return "unknown format";
    }
    return {};
}

std::string check_rendered(const std::filesystem::path& file, std::string_view format,
                           std::int64_t expected_size, std::uint64_t& size) {
    if (const std::string why = check_complete(file, format); !why.empty())
        return "the rendered file is incomplete (" + why + ")";
    std::error_code ec;
    size = std::filesystem::file_size(file, ec);
    if (ec) return "the rendered file cannot be read";
    if (expected_size >= 0 && size != static_cast<std::uint64_t>(expected_size))
        return "the rendered file has " + std::to_string(size) + " bytes, the renderer wrote " +
               std::to_string(expected_size);
    return {};
}

}  // namespace enconvert::storage
