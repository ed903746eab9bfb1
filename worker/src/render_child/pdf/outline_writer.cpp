#include "render_child/pdf/outline_writer.h"

#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

namespace enconvert::render_child::pdf {

QPDFObjectHandle destination_array(const std::vector<QPDFPageObjectHelper>& pages,
                                   const Destination& dest) {
    if (dest.page < 0 || static_cast<std::size_t>(dest.page) >= pages.size())
        return QPDFObjectHandle::newNull();
    QPDFObjectHandle page = pages[static_cast<std::size_t>(dest.page)].getObjectHandle();
    // Points are relative to the page's origin; honour a MediaBox that
    // does not start at 0,0.
    QPDFObjectHandle::Rectangle media = page.getKey("/MediaBox").getArrayAsRectangle();
    return QPDFObjectHandle::newArray(
        {page, QPDFObjectHandle::newName("/XYZ"), QPDFObjectHandle::newReal(media.llx + dest.x, 2),
         QPDFObjectHandle::newReal(media.lly + dest.y, 2), QPDFObjectHandle::newNull()});
}

int write_outline(QPDF& pdf, const std::vector<OutlineEntry>& entries) {
    struct Node {
        QPDFObjectHandle item;
        int level;
        std::vector<std::size_t> kids;
        int descendants = 0;
    };
    // nodes[0] is the outline's root.
    std::vector<Node> nodes;
    nodes.push_back(
        {pdf.makeIndirectObject(QPDFObjectHandle::parse("<< /Type /Outlines >>")), 0, {}, 0});
    std::vector<std::size_t> open{0};  // the chain of ancestors of the next entry
    const std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(pdf).getAllPages();
    for (const OutlineEntry& e : entries) {
        QPDFObjectHandle dest = destination_array(pages, e.dest);
        if (dest.isNull()) continue;
        const int level = std::max(1, e.level);
        while (nodes[open.back()].level >= level) open.pop_back();
        QPDFObjectHandle item = pdf.makeIndirectObject(QPDFObjectHandle::newDictionary());
        item.replaceKey("/Title", QPDFObjectHandle::newUnicodeString(e.title));
        item.replaceKey("/Dest", dest);
        nodes.push_back({item, level, {}, 0});
        const std::size_t index = nodes.size() - 1;
        nodes[open.back()].kids.push_back(index);
        for (std::size_t a : open) ++nodes[a].descendants;
        open.push_back(index);
    }
    if (nodes.size() == 1) return 0;
    for (Node& n : nodes) {
        if (n.kids.empty()) continue;
        n.item.replaceKey("/First", nodes[n.kids.front()].item);
        n.item.replaceKey("/Last", nodes[n.kids.back()].item);
        // Every entry open: /Count is the number of descendants shown.
        n.item.replaceKey("/Count", QPDFObjectHandle::newInteger(n.descendants));
        for (std::size_t k = 0; k < n.kids.size(); ++k) {
            QPDFObjectHandle kid = nodes[n.kids[k]].item;
            kid.replaceKey("/Parent", n.item);
            if (k > 0) kid.replaceKey("/Prev", nodes[n.kids[k - 1]].item);
            if (k + 1 < n.kids.size()) kid.replaceKey("/Next", nodes[n.kids[k + 1]].item);
        }
    }
    QPDFObjectHandle root = pdf.getRoot();
    root.replaceKey("/Outlines", nodes[0].item);
    root.replaceKey("/PageMode", QPDFObjectHandle::newName("/UseOutlines"));
    return static_cast<int>(nodes.size() - 1);
}

}  // namespace enconvert::render_child::pdf
