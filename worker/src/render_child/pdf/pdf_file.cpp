#include "render_child/pdf/pdf_file.h"

#include <cstdio>
#include <exception>

namespace enconvert::render_child::pdf {

std::string write_replacing(QPDF& doc, const std::string& path,
                            const std::function<void(QPDFWriter&)>& configure) {
    const std::string temp = path + ".rewrite";
    try {
        QPDFWriter writer(doc, temp.c_str());
        writer.setLinearization(false);
        if (configure) configure(writer);
        writer.write();
    } catch (const std::exception& e) {
        std::remove(temp.c_str());
        return e.what();
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        std::remove(temp.c_str());
        return "cannot replace " + path;
    }
    return {};
}

}  // namespace enconvert::render_child::pdf
