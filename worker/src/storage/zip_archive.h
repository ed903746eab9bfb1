// Writes a ZIP archive with libzip: a batch's results bundled as one file
// (docs/api.md "Batch ZIP"); website capture reuses it for its
// pages and manifest. Entries are added by name and written when close()
// is called; nothing is left at `path` unless close() succeeded.
#pragma once

#include <filesystem>
#include <list>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

struct zip;

namespace enconvert::storage {

// The archive could not be written. `full`: the file system is out of space
// (or quota). what() never names a path.
class ZipError : public std::runtime_error {
  public:
    ZipError(const std::string& what, bool full) : std::runtime_error(what), full_(full) {}
    bool full() const { return full_; }

  private:
    bool full_;
};

class ZipWriter {
  public:
    // Starts a new archive to be written at `path` (an existing file there
    // is replaced on close). Throws ZipError.
    explicit ZipWriter(const std::filesystem::path& path);
    // Without a successful close() the archive is discarded.
    ~ZipWriter();
    ZipWriter(const ZipWriter&) = delete;
    ZipWriter& operator=(const ZipWriter&) = delete;

    // Adds `file` as entry `name` (deflated). The file is read by close(),
    // so it must still exist then. Throws ZipError for a name that is empty,
    // taken, absolute or contains "..", or a file that cannot be read.
    void add_file(const std::string& name, const std::filesystem::path& file);
    // Adds `data` as entry `name` (same rules).
    void add_bytes(const std::string& name, std::string data);
    bool contains(const std::string& name) const { return names_.count(name) != 0; }
    std::size_t size() const { return names_.size(); }

    // Writes the archive (to a temporary file beside `path`, renamed into
    // place). At least one entry is needed. Throws ZipError; the writer is
    // finished either way.
    void close();

  private:
    struct Discard {
        void operator()(zip* archive) const noexcept;
    };
    void check_name(const std::string& name) const;
    void add_source(const std::string& name, void* source);

    std::unique_ptr<zip, Discard> archive_;
    std::set<std::string> names_;
    // add_bytes' data: libzip reads it only when the archive is written.
    std::list<std::string> buffers_;
};

// `name` if not in `used`, else "<stem>-2<ext>", "<stem>-3<ext>", ...: the
// result is added to `used`. Names are compared without ASCII case (`used`
// holds them in lower case): a ZIP is often unzipped where case does not
// tell files apart. A file never takes a folder's name nor a folder a
// file's ("<folder>-2/"); `used` holds the folders as "<path>/".
std::string unique_entry_name(std::set<std::string>& used, std::string_view name);

}  // namespace enconvert::storage
