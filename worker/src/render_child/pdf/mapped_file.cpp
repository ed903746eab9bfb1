#include "render_child/pdf/mapped_file.h"

#include <stdexcept>

namespace enconvert::render_child::pdf {

MappedFile::MappedFile(const std::string& path) {
    GError* error = nullptr;
    file_.reset(g_mapped_file_new(path.c_str(), FALSE, &error));
    if (!file_) {
        const std::string why = error ? error->message : "cannot map " + path;
        g_clear_error(&error);
        throw std::runtime_error(why);
    }
}

const char* MappedFile::data() const {
    // An empty file maps to no address: qpdf is handed an empty buffer.
    static const char kEmpty[1] = {};
    const char* contents = g_mapped_file_get_contents(file_.get());
    return contents ? contents : kEmpty;
}

std::size_t MappedFile::size() const {
    return g_mapped_file_get_length(file_.get());
}

GBytes* MappedFile::bytes() const {
    return g_mapped_file_get_bytes(file_.get());
}

MappedPdf::MappedPdf(const std::string& path) : file_(path) {
    doc_.setSuppressWarnings(true);
    doc_.processMemoryFile(path.c_str(), file_.data(), file_.size());
}

}  // namespace enconvert::render_child::pdf
