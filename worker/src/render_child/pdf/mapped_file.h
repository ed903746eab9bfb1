// A printed PDF read through one memory mapping, for qpdf and poppler.
// Their own file readers seek and read a buffer at a time: qpdf an lseek
// and a read per object, poppler a 256-byte pread per refill: about 5,000
// system calls per PDF of the manual's bench set (a tenth of the
// post-processing's CPU; docs/benchmarks.md).
// The files are the renderer's own and complete once printed: nothing
// truncates them while they are mapped.
#pragma once

#include <qpdf/QPDF.hh>
#include <string>

#include "render_child/glib_ptr.h"

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
    GMappedFilePtr file_;
};

// A document qpdf reads from a mapping of its file, which lives as long
// as the document: qpdf reads streams lazily, up to the last write (and a
// rewrite renamed over the path does not change what it reads). Warnings
// are not printed. Throws std::runtime_error when the file cannot be
// mapped, and what QPDF::processMemoryFile throws when it is no PDF.
class MappedPdf {
  public:
    explicit MappedPdf(const std::string& path);
    QPDF& doc() { return doc_; }

  private:
    MappedFile file_;  // declared first: destroyed after doc_
    QPDF doc_;
};

}  // namespace enconvert::render_child::pdf
