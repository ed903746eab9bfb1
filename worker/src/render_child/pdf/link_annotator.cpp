#include "render_child/pdf/link_annotator.h"

#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

#include "render_child/pdf/outline_writer.h"

namespace enconvert::render_child::pdf {

int add_links(QPDF& pdf, const std::vector<LinkArea>& links) {
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(pdf).getAllPages();
    int added = 0;
    // One URI action per link, shared by its areas' annotations: a URL of
    // 64 Ki characters is then held (and written) once, not per line.
    const std::string* last_uri = nullptr;
    QPDFObjectHandle last_action;
    for (const LinkArea& link : links) {
        if (link.page < 0 || static_cast<std::size_t>(link.page) >= pages.size()) continue;
        QPDFObjectHandle page = pages[static_cast<std::size_t>(link.page)].getObjectHandle();
        QPDFObjectHandle annot = QPDFObjectHandle::newDictionary();
        if (link.dest) {
            QPDFObjectHandle dest = destination_array(pages, *link.dest);
            if (dest.isNull()) continue;
            annot.replaceKey("/Dest", dest);
        } else {
            if (!link.uri) continue;
            if (link.uri.get() != last_uri) {
                QPDFObjectHandle action = QPDFObjectHandle::newDictionary();
                action.replaceKey("/S", QPDFObjectHandle::newName("/URI"));
                action.replaceKey("/URI", QPDFObjectHandle::newString(*link.uri));
                last_action = pdf.makeIndirectObject(action);
                last_uri = link.uri.get();
            }
            annot.replaceKey("/A", last_action);
        }
        // Boxes are relative to the page's origin; honour a MediaBox that
        // does not start at 0,0.
        QPDFObjectHandle::Rectangle media = page.getKey("/MediaBox").getArrayAsRectangle();
        annot.replaceKey("/Type", QPDFObjectHandle::newName("/Annot"));
        annot.replaceKey("/Subtype", QPDFObjectHandle::newName("/Link"));
        annot.replaceKey("/Rect", QPDFObjectHandle::newFromRectangle(QPDFObjectHandle::Rectangle(
                                      media.llx + link.x0, media.lly + link.y0, media.llx + link.x1,
                                      media.lly + link.y1)));
        annot.replaceKey("/Border", QPDFObjectHandle::parse("[0 0 0]"));
        QPDFObjectHandle annots = page.getKey("/Annots");
        if (!annots.isArray()) {
            annots = QPDFObjectHandle::newArray();
            page.replaceKey("/Annots", annots);
        }
        annots.appendItem(pdf.makeIndirectObject(annot));
        ++added;
    }
    return added;
}

}  // namespace enconvert::render_child::pdf
