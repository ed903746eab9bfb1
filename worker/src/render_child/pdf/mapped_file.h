// A printed PDF read through one memory mapping, for qpdf and poppler.
// Their own file readers seek and read a buffer at a time: qpdf an lseek
// and a read per object, poppler a 256-byte pread per refill, some 4,000
// system calls for a 60-page PDF (a tenth of the post-processing's CPU).
// The files are the renderer's own and complete once printed: nothing
// truncates them while they are mapped.
#pragma once

#include <glib.h>

#include <memory>
#include <qpdf/QPDF.hh>
#include <string>

namespace enconvert::render_child::pdf {

class MappedFile {
  public:
    // Throws std::runtime_error when `path` cannot be opened or mapped.
    explicit MappedFile(const std::string& path);

    const char* data() const;
    std::size_t size() const;
    // A new reference to the contents, which keeps the mapping alive (for
    // poppler_document_new_from_bytes).
    GBytes* bytes() const;

  private:
    struct Unref {
        void operator()(GMappedFile* file) const { g_mapped_file_unref(file); }
    };
    std::unique_ptr<GMappedFile, Unref> file_;
};

// Has `doc` read `file`, which must outlive it (qpdf reads streams from
// it lazily, up to the last write). Throws what QPDF::processMemoryFile
// throws for a file that is not a PDF.
void process_mapped(QPDF& doc, const MappedFile& file, const std::string& description);

}  // namespace enconvert::render_child::pdf
