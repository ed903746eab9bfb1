#include "render_child/pdf/poppler_document.h"

#include <exception>

#include "render_child/pdf/mapped_file.h"

namespace enconvert::render_child::pdf {

GObjectPtr<PopplerDocument> open_poppler_document(const std::string& path, std::string* error) {
    GBytesPtr bytes;
    try {
        bytes.reset(MappedFile(path).bytes());
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return nullptr;
    }
    GError* raw = nullptr;
    GObjectPtr<PopplerDocument> doc(poppler_document_new_from_bytes(bytes.get(), nullptr, &raw));
    if (!doc) {
        GErrorPtr e(raw);
        if (error) *error = e ? e->message : "cannot open the PDF";
    }
    return doc;
}

}  // namespace enconvert::render_child::pdf
