// Visiting every content stream of a document with the fonts it can
// select: each page's, and each form XObject's the pages draw, nested ones
// included.
#pragma once

#include <functional>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/BufferInputSource.hh>
#include <qpdf/Pl_Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFTokenizer.hh>
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

// Hands every token of a page's or form's content to `visit`, white space
// and comments left out. qpdf's tokenizer in pull mode, as its own token
// filters use it, without their pipeline: a filter is also handed every
// white-space token and a fresh context string per token, which made a
// scan take twice as long (PostgreSQL manual pages: 585 KB of content a
// PDF, 28 ms through a TokenFilter, 11.5 ms reading tokens directly).
template <typename Visit>
void for_each_token(QPDFPageObjectHelper& contents, Visit&& visit) {
    Pl_Buffer collected("content stream");
    contents.pipeContents(&collected);
    std::shared_ptr<Buffer> bytes = collected.getBufferSharedPointer();
    if (!bytes) return;
    auto input = std::make_shared<BufferInputSource>("content stream", bytes.get());
    QPDFTokenizer tokenizer;
    tokenizer.allowEOF();
    const std::string context = "content stream";
    for (;;) {
        const QPDFTokenizer::Token token = tokenizer.readToken(input, context, true);
        if (token.getType() == QPDFTokenizer::tt_eof) return;
        visit(token);
        if (token.isWord("ID")) {
            // An inline image's data follows the one white-space byte
            // after ID, up to EI: read as one token, as qpdf's filters do.
            char space = ' ';
            input->read(&space, 1);
            tokenizer.expectInlineImage(input);
        }
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
