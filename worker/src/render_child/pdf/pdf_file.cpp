#include "render_child/pdf/pdf_file.h"

#include <cerrno>
#include <cstdio>
#include <exception>
#include <qpdf/Pipeline.hh>

namespace enconvert::render_child::pdf {
namespace {

// qpdf's output into a file, every write and the final flush checked. It
// never throws: qpdf finishes pipelines from destructors too. The errno of
// the first failure is kept and the rest of the output dropped; the caller
// looks at error() once the writer is done.
class CheckedFile final : public Pipeline {
  public:
    explicit CheckedFile(std::FILE* file) : Pipeline("checked file", nullptr), file_(file) {}

    void write(unsigned char const* data, size_t len) override {
        if (err_ == 0 && std::fwrite(data, 1, len, file_) != len) fail(errno);
    }
    void finish() override {
        if (err_ == 0 && std::fflush(file_) != 0) fail(errno);
    }
    int error() const { return err_; }

  private:
    void fail(int err) { err_ = err == 0 ? EIO : err; }

    std::FILE* file_;
    int err_ = 0;
};

}  // namespace

WriteError write_replacing(QPDF& doc, const std::string& path,
                           const std::function<void(QPDFWriter&)>& configure) {
    const std::string temp = path + ".rewrite";
    std::FILE* file = std::fopen(temp.c_str(), "wb");
    if (!file) return write_error_from_errno("cannot create the rewritten PDF", errno);
    CheckedFile output(file);
    WriteError error;
    try {
        QPDFWriter writer(doc);
        writer.setOutputPipeline(&output);
        writer.setLinearization(false);
        if (configure) configure(writer);
        writer.write();
    } catch (const std::exception& e) {
        error = {e.what()};
    }
    if (output.error()) error = write_error_from_errno("cannot write the PDF", output.error());
    const WriteError closed = close_written_file(file);
    if (!error.failed()) error = closed;
    if (!error.failed() && std::rename(temp.c_str(), path.c_str()) != 0)
        error = write_error_from_errno("cannot replace " + path, errno);
    if (error.failed()) std::remove(temp.c_str());
    return error;
}

}  // namespace enconvert::render_child::pdf
