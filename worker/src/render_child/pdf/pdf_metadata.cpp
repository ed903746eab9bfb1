#include "render_child/pdf/pdf_metadata.h"

#include <qpdf/QPDFObjectHandle.hh>

namespace enconvert::render_child::pdf {

void set_metadata(QPDF& pdf, const std::string& title) {
    QPDFObjectHandle trailer = pdf.getTrailer();
    QPDFObjectHandle info = trailer.getKey("/Info");
    if (!info.isDictionary()) {
        info = pdf.makeIndirectObject(QPDFObjectHandle::newDictionary());
        trailer.replaceKey("/Info", info);
    }
    if (!title.empty()) info.replaceKey("/Title", QPDFObjectHandle::newUnicodeString(title));
    info.replaceKey("/Producer", QPDFObjectHandle::newUnicodeString("enconvert (WebKitGTK)"));
    // Viewers show the title, not the file name, in their window bar.
    QPDFObjectHandle root = pdf.getRoot();
    QPDFObjectHandle prefs = root.getKey("/ViewerPreferences");
    if (!prefs.isDictionary()) {
        prefs = QPDFObjectHandle::newDictionary();
        root.replaceKey("/ViewerPreferences", prefs);
    }
    if (!title.empty()) prefs.replaceKey("/DisplayDocTitle", QPDFObjectHandle::newBool(true));
}

}  // namespace enconvert::render_child::pdf
