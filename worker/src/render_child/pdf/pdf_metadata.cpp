#include "render_child/pdf/pdf_metadata.h"

#include <qpdf/QPDFObjectHandle.hh>

namespace enconvert::render_child::pdf {

namespace {
void put(QPDFObjectHandle& info, const char* key, const std::string& value) {
    // Whatever the printer wrote under this key is not the page's.
    if (value.empty())
        info.removeKey(key);
    else
        info.replaceKey(key, QPDFObjectHandle::newUnicodeString(value));
}
}  // namespace

void set_metadata(QPDF& pdf, const DocumentInfo& doc) {
    QPDFObjectHandle trailer = pdf.getTrailer();
    QPDFObjectHandle info = trailer.getKey("/Info");
    if (!info.isDictionary()) {
        info = pdf.makeIndirectObject(QPDFObjectHandle::newDictionary());
        trailer.replaceKey("/Info", info);
    }
    put(info, "/Title", doc.title);
    put(info, "/Author", doc.author);
    put(info, "/Subject", doc.subject);
    put(info, "/Keywords", doc.keywords);
    info.replaceKey("/Producer", QPDFObjectHandle::newUnicodeString("enconvert (WebKitGTK)"));
    // Viewers show the title, not the file name, in their window bar.
    QPDFObjectHandle root = pdf.getRoot();
    QPDFObjectHandle prefs = root.getKey("/ViewerPreferences");
    if (!prefs.isDictionary()) {
        prefs = QPDFObjectHandle::newDictionary();
        root.replaceKey("/ViewerPreferences", prefs);
    }
    if (!doc.title.empty()) prefs.replaceKey("/DisplayDocTitle", QPDFObjectHandle::newBool(true));
}

}  // namespace enconvert::render_child::pdf
