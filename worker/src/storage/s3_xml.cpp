#include "storage/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <memory>
#include <stdexcept>

namespace enconvert::storage::s3xml {

namespace {

struct DocDeleter {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct XmlCharDeleter {
    void operator()(xmlChar* p) const { xmlFree(p); }
};
using Doc = std::unique_ptr<xmlDoc, DocDeleter>;
using XmlString = std::unique_ptr<xmlChar, XmlCharDeleter>;

// No network, no entity expansion: the answer comes from a server.
Doc parse(std::string_view xml) {
    if (xml.empty() || xml.size() > INT_MAX) return nullptr;
    return Doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "s3.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool named(const xmlNode* n, const char* name) {
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

const xmlNode* root_named(const Doc& doc, const char* name) {
    if (!doc) return nullptr;
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    return root != nullptr && named(root, name) ? root : nullptr;
}

std::optional<std::string> child_text(const xmlNode* parent, const char* name) {
    for (const xmlNode* n = parent->children; n != nullptr; n = n->next) {
        if (!named(n, name)) continue;
        const XmlString text(xmlNodeGetContent(n));
        return text ? std::string(reinterpret_cast<const char*>(text.get())) : std::string();
    }
    return std::nullopt;
}

}  // namespace

void init() {
    xmlInitParser();
}

std::optional<ErrorBody> parse_error(std::string_view xml) {
    const Doc doc = parse(xml);
    const xmlNode* root = root_named(doc, "Error");
    if (root == nullptr) return std::nullopt;
    return ErrorBody{child_text(root, "Code").value_or(""),
                     child_text(root, "Message").value_or("")};
}

std::optional<std::string> parse_upload_id(std::string_view xml) {
    const Doc doc = parse(xml);
    const xmlNode* root = root_named(doc, "InitiateMultipartUploadResult");
    if (root == nullptr) return std::nullopt;
    auto id = child_text(root, "UploadId");
    if (id && id->empty()) return std::nullopt;
    return id;
}

std::string complete_multipart_body(const std::vector<std::string>& etags) {
    Doc doc(xmlNewDoc(BAD_CAST "1.0"));
    if (!doc) throw std::bad_alloc();
    xmlNode* root = xmlNewNode(nullptr, BAD_CAST "CompleteMultipartUpload");
    if (root == nullptr) throw std::bad_alloc();
    xmlDocSetRootElement(doc.get(), root);
    xmlSetNs(root, xmlNewNs(root, BAD_CAST "http://s3.amazonaws.com/doc/2006-03-01/", nullptr));
    for (std::size_t i = 0; i < etags.size(); ++i) {
        xmlNode* part = xmlNewChild(root, nullptr, BAD_CAST "Part", nullptr);
        const std::string number = std::to_string(i + 1);
        // xmlNewTextChild escapes the text (ETags are quoted strings).
        if (part == nullptr ||
            xmlNewTextChild(part, nullptr, BAD_CAST "PartNumber", BAD_CAST number.c_str()) ==
                nullptr ||
            xmlNewTextChild(part, nullptr, BAD_CAST "ETag", BAD_CAST etags[i].c_str()) == nullptr)
            throw std::bad_alloc();
    }
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc.get(), &out, &size, "UTF-8");
    const XmlString owned(out);
    if (!owned) throw std::bad_alloc();
    return std::string(reinterpret_cast<const char*>(owned.get()), static_cast<std::size_t>(size));
}

}  // namespace enconvert::storage::s3xml
