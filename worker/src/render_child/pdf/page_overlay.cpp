#include "render_child/pdf/page_overlay.h"

#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <string>
#include <vector>

namespace enconvert::render_child::pdf {

int overlay_pages(QPDF& body, QPDF& overlay) {
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(body).getAllPages();
    std::vector<QPDFPageObjectHelper> stamps = QPDFPageDocumentHelper(overlay).getAllPages();
    int stamped = 0;
    for (std::size_t i = 0; i < pages.size() && i < stamps.size(); ++i) {
        QPDFObjectHandle form = body.copyForeignObject(stamps[i].getFormXObjectForPage());
        QPDFPageObjectHelper& page = pages[i];
        QPDFObjectHandle resources = page.getAttribute("/Resources", true);
        if (!resources.getKey("/XObject").isDictionary())
            resources.replaceKey("/XObject", QPDFObjectHandle::newDictionary());
        const std::string name = "/EnconvertBand" + std::to_string(i);
        resources.getKey("/XObject").replaceKey(name, form);
        const QPDFObjectHandle::Rectangle box = page.getMediaBox(false).getArrayAsRectangle();
        // Wrap the body so a graphics state it leaves behind (cairo's
        // flipped CTM, a clip) cannot move or hide the stamp.
        page.addPageContents(QPDFObjectHandle::newStream(&body, "q\n"), true);
        const std::string draw =
            "Q\nq\n" + page.placeFormXObject(form, name, box, true, true, true) + "Q\n";
        page.addPageContents(QPDFObjectHandle::newStream(&body, draw), false);
        ++stamped;
    }
    return stamped;
}

}  // namespace enconvert::render_child::pdf
