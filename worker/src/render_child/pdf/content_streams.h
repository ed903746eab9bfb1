// Visiting every content stream of a document with the fonts it can
// select: each page's, and each form XObject's the pages draw, nested ones
// included.
#pragma once

#include <functional>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <string>
#include <vector>

namespace enconvert::render_child::pdf {

// `visit(contents, fonts)`: `contents` is the page or form XObject (parse
// or filter it with QPDFPageObjectHelper), `fonts` its /Font resources (not
// a dictionary when it has none). A form without resources of its own uses
// its page's (allowed, if deprecated: ISO 32000-1, 7.8.3).
inline void for_each_content_stream(
    QPDF& pdf, const std::function<void(QPDFPageObjectHelper&, QPDFObjectHandle)>& visit) {
    for (QPDFPageObjectHelper& page : QPDFPageDocumentHelper(pdf).getAllPages()) {
        QPDFObjectHandle page_fonts = page.getAttribute("/Resources", false).getKey("/Font");
        visit(page, page_fonts);
        page.forEachFormXObject(
            true, [&](QPDFObjectHandle& form, QPDFObjectHandle&, const std::string&) {
                QPDFPageObjectHelper helper(form);
                QPDFObjectHandle resources = form.getDict().getKey("/Resources");
                visit(helper, resources.isDictionary() ? resources.getKey("/Font") : page_fonts);
            });
    }
}

// The font a content stream has selected (Tf): part of the graphics state,
// so q saves it and Q restores it.
template <typename Font>
class FontSelection {
  public:
    // Follows q and Q; false for any other operator.
    bool follow(const std::string& op) {
        if (op == "q") {
            saved_.push_back(current);
        } else if (op == "Q") {
            if (!saved_.empty()) {
                current = saved_.back();
                saved_.pop_back();
            }
        } else {
            return false;
        }
        return true;
    }

    Font current{};

  private:
    std::vector<Font> saved_;
};

// A stream's decoded bytes.
inline std::string stream_bytes(QPDFObjectHandle stream) {
    std::shared_ptr<Buffer> data = stream.getStreamData(qpdf_dl_generalized);
    return std::string(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
}

}  // namespace enconvert::render_child::pdf
