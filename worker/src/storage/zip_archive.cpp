#include "storage/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>

#include "util/ascii.h"
#include "util/no_space.h"

namespace enconvert::storage {

namespace {

// libzip's sentence for `error`; its system part (errno) says whether the
// disk was full. The file name libzip may add is not part of it.
[[noreturn]] void fail(const char* what, zip_error_t* error) {
    const bool full = zip_error_system_type(error) == ZIP_ET_SYS &&
                      util::is_no_space(zip_error_code_system(error));
    const std::string text = std::string(what) + ": " + zip_error_strerror(error);
    throw ZipError(text, full);
}

// Owns a zip_source_t until an archive takes it.
struct SourceFree {
    void operator()(zip_source_t* source) const noexcept { zip_source_free(source); }
};
using SourcePtr = std::unique_ptr<zip_source_t, SourceFree>;

}  // namespace

void ZipWriter::Discard::operator()(zip* archive) const noexcept {
    zip_discard(archive);
}

ZipWriter::ZipWriter(const std::filesystem::path& path) {
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (archive == nullptr) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        try {
            fail("cannot start the ZIP archive", &error);
        } catch (...) {
            zip_error_fini(&error);
            throw;
        }
    }
    archive_.reset(archive);
}

ZipWriter::~ZipWriter() = default;

void ZipWriter::check_name(const std::string& name) const {
    if (!archive_) throw ZipError("the ZIP archive is already closed", false);
    if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos ||
        name.find('\\') != std::string::npos)
        throw ZipError("invalid ZIP entry name", false);
    if (names_.count(name)) throw ZipError("duplicate ZIP entry name " + name, false);
}

void ZipWriter::add_source(const std::string& name, void* raw) {
    SourcePtr source(static_cast<zip_source_t*>(raw));
    const zip_int64_t index =
        zip_file_add(archive_.get(), name.c_str(), source.get(), ZIP_FL_ENC_UTF_8);
    if (index < 0) fail("cannot add a ZIP entry", zip_get_error(archive_.get()));
    source.release();  // the archive owns it now
    names_.insert(name);
}

void ZipWriter::add_file(const std::string& name, const std::filesystem::path& file) {
    check_name(name);
    // Length 0: the whole file, read when the archive is written.
    zip_source_t* source = zip_source_file(archive_.get(), file.c_str(), 0, 0);
    if (source == nullptr) fail("cannot read a file for the ZIP", zip_get_error(archive_.get()));
    add_source(name, source);
}

void ZipWriter::add_bytes(const std::string& name, std::string data) {
    check_name(name);
    const std::string& kept = buffers_.emplace_back(std::move(data));
    zip_source_t* source = zip_source_buffer(archive_.get(), kept.data(), kept.size(), 0);
    if (source == nullptr) {
        buffers_.pop_back();
        fail("cannot add data to the ZIP", zip_get_error(archive_.get()));
    }
    add_source(name, source);
}

void ZipWriter::close() {
    if (!archive_) throw ZipError("the ZIP archive is already closed", false);
    // libzip writes nothing at all for an archive without entries.
    if (names_.empty()) {
        archive_.reset();
        throw ZipError("a ZIP archive needs at least one entry", false);
    }
    if (zip_close(archive_.get()) != 0) {
        // Still open: copy the error out before the archive is discarded.
        zip_error_t error;
        zip_error_init(&error);
        zip_error_set(&error, zip_error_code_zip(zip_get_error(archive_.get())),
                      zip_error_code_system(zip_get_error(archive_.get())));
        archive_.reset();
        try {
            fail("cannot write the ZIP archive", &error);
        } catch (...) {
            zip_error_fini(&error);
            throw;
        }
    }
    (void)archive_.release();  // zip_close freed it
    buffers_.clear();
}

std::string unique_entry_name(std::set<std::string>& used, std::string_view name) {
    // Compared without ASCII case: unzipped on macOS or Windows, `About.pdf`
    // and `about.pdf` (two pages of one site) are one file, the second
    // overwriting the first. Folders are kept in `used` as "<path>/": a
    // file may not take a folder's name nor a folder a file's (a site's
    // `/x` and `/x.pdf/y` were `x.pdf` and `x.pdf/y.pdf`: no unzip tool
    // can make both).
    const auto taken = [&used](const std::string& path) {
        const std::string key = util::ascii_lower(path);
        return used.count(key) > 0 || used.count(key + "/") > 0;
    };
    std::string out;
    std::size_t start = 0;
    for (std::size_t slash = name.find('/'); slash != std::string_view::npos;
         slash = name.find('/', start)) {
        const std::string folder(name.substr(start, slash - start));
        std::string segment = folder;
        // A folder may share its name with a folder, not with a file.
        for (int n = 2; used.count(util::ascii_lower(out + segment)) > 0; ++n)
            segment = folder + "-" + std::to_string(n);
        out += segment + "/";
        used.insert(util::ascii_lower(out));
        start = slash + 1;
    }
    const std::string_view file = name.substr(start);
    std::string candidate = out + std::string(file);
    if (taken(candidate)) {
        const auto dot = file.rfind('.');
        const bool has_ext = dot != std::string_view::npos && dot > 0;
        const std::string stem(has_ext ? file.substr(0, dot) : file);
        const std::string ext(has_ext ? file.substr(dot) : std::string_view{});
        for (int n = 2;; ++n) {
            candidate = out + stem + "-" + std::to_string(n) + ext;
            if (!taken(candidate)) break;
        }
    }
    used.insert(util::ascii_lower(candidate));
    return candidate;
}

}  // namespace enconvert::storage
