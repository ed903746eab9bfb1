#include "render_child/pdf/grayscale.h"

#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <string>

namespace enconvert::render_child::pdf {

void make_grayscale(QPDF& pdf) {
    QPDFObjectHandle state =
        pdf.makeIndirectObject(QPDFObjectHandle::parse("<< /Type /ExtGState /BM /Saturation >>"));
    for (QPDFPageObjectHelper& page : QPDFPageDocumentHelper(pdf).getAllPages()) {
        QPDFObjectHandle::Rectangle box = page.getMediaBox(false).getArrayAsRectangle();
        const std::string rect = std::to_string(box.llx) + " " + std::to_string(box.lly) + " " +
                                 std::to_string(box.urx - box.llx) + " " +
                                 std::to_string(box.ury - box.lly) + " re f";
        // Paper first: where nothing was painted (margins, below the
        // content) the blend would otherwise have no backdrop and poppler,
        // among others, shows the grey fill itself. Then wrap the existing
        // content so its graphics state cannot leak into the final fill.
        page.addPageContents(QPDFObjectHandle::newStream(&pdf, "q 1 g " + rect + " Q\nq\n"), true);
        QPDFObjectHandle resources = page.getAttribute("/Resources", true);
        if (!resources.getKey("/ExtGState").isDictionary())
            resources.replaceKey("/ExtGState", QPDFObjectHandle::newDictionary());
        resources.getKey("/ExtGState").replaceKey("/EnconvertGray", state);
        const std::string fill = "Q\nq /EnconvertGray gs 0.5 g " + rect + " Q\n";
        page.addPageContents(QPDFObjectHandle::newStream(&pdf, fill), false);
    }
}

}  // namespace enconvert::render_child::pdf
