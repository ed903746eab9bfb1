#include "render_child/row_encoder.h"

#include <jpeglib.h>
#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>

namespace enconvert::render_child {
namespace {

// Both libraries report errors by longjmp()ing back to a setjmp() of the
// caller. The functions holding a setjmp() below own no C++ object, so the
// jump skips no destructor; the handles are released by the encoders'
// destructors.

struct FileClose {
    void operator()(FILE* f) const {
        if (f) std::fclose(f);
    }
};
using FilePtr = std::unique_ptr<FILE, FileClose>;

// zlib level 3: a tall screenshot is hundreds of MB of pixels; the default
// (6) takes about twice as long for files a few percent smaller.
constexpr int kPngCompression = 3;

class PngEncoder final : public RowEncoder {
  public:
    ~PngEncoder() override {
        if (png_) png_destroy_write_struct(&png_, &info_);
    }

    bool open(const std::string& path, int width, int height) {
        file_.reset(std::fopen(path.c_str(), "wb"));
        if (!file_) {
            error_ = write_error_from_errno("cannot create the output file", errno);
            return false;
        }
        png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, this, &PngEncoder::on_error,
                                       &PngEncoder::on_warning);
        if (!png_) return fail("PNG encoder unavailable");
        info_ = png_create_info_struct(png_);
        if (!info_) return fail("PNG encoder unavailable");
        return start(width, height);
    }

    bool write_row(const std::uint8_t* rgb) override {
        if (error_.failed()) return false;
        errno = 0;
        if (setjmp(png_jmpbuf(png_))) return false;
        png_write_row(png_, rgb);
        return true;
    }

    WriteError finish() override {
        if (error_.failed()) return error_;
        errno = 0;
        if (!end()) return error_;
        return close_written_file(file_.release());
    }

  private:
    bool fail(const char* why) {
        error_ = {why};
        return false;
    }

    bool start(int width, int height) {
        if (setjmp(png_jmpbuf(png_))) return false;
        png_init_io(png_, file_.get());
        png_set_IHDR(png_, info_, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
                     8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                     PNG_FILTER_TYPE_DEFAULT);
        png_set_compression_level(png_, kPngCompression);
        png_write_info(png_, info_);
        return true;
    }

    bool end() {
        if (setjmp(png_jmpbuf(png_))) return false;
        png_write_end(png_, info_);
        return true;
    }

    // libpng's writer calls this at once on a short write: errno is still
    // the write's.
    static void on_error(png_structp png, png_const_charp message) {
        const int err = errno;
        auto* self = static_cast<PngEncoder*>(png_get_error_ptr(png));
        self->error_ = {std::string("PNG encoding failed: ") + message, util::is_no_space(err)};
        png_longjmp(png, 1);
    }
    static void on_warning(png_structp, png_const_charp) {}

    FilePtr file_;
    png_structp png_ = nullptr;
    png_infop info_ = nullptr;
};

class JpegEncoder final : public RowEncoder {
  public:
    JpegEncoder() {
        cinfo_.err = jpeg_std_error(&errors_.mgr);
        errors_.mgr.error_exit = &JpegEncoder::on_error;
    }
    ~JpegEncoder() override {
        if (created_) jpeg_destroy_compress(&cinfo_);
    }

    bool open(const std::string& path, int width, int height, int quality) {
        file_.reset(std::fopen(path.c_str(), "wb"));
        if (!file_) {
            error_ = write_error_from_errno("cannot create the output file", errno);
            return false;
        }
        if (!start(width, height, quality)) return failed();
        return true;
    }

    bool write_row(const std::uint8_t* rgb) override {
        if (error_.failed()) return false;
        errno = 0;
        return put(const_cast<std::uint8_t*>(rgb)) || failed();
    }

    WriteError finish() override {
        if (error_.failed()) return error_;
        errno = 0;
        if (!end()) {
            failed();
            return error_;
        }
        return close_written_file(file_.release());
    }

  private:
    struct Errors {
        jpeg_error_mgr mgr;  // first: libjpeg hands on_error a pointer to it
        std::jmp_buf jump;
        int err = 0;  // errno when on_error was called
    };

    bool failed() {
        char message[JMSG_LENGTH_MAX] = {};
        (*cinfo_.err->format_message)(reinterpret_cast<j_common_ptr>(&cinfo_), message);
        error_ = {std::string("JPEG encoding failed: ") + message, util::is_no_space(errors_.err)};
        return false;
    }

    bool start(int width, int height, int quality) {
        if (setjmp(errors_.jump)) return false;
        jpeg_create_compress(&cinfo_);
        created_ = true;
        jpeg_stdio_dest(&cinfo_, file_.get());
        cinfo_.image_width = static_cast<JDIMENSION>(width);
        cinfo_.image_height = static_cast<JDIMENSION>(height);
        cinfo_.input_components = 3;
        cinfo_.in_color_space = JCS_RGB;
        jpeg_set_defaults(&cinfo_);
        jpeg_set_quality(&cinfo_, quality, TRUE);
        jpeg_start_compress(&cinfo_, TRUE);
        return true;
    }

    bool put(std::uint8_t* rgb) {
        if (setjmp(errors_.jump)) return false;
        JSAMPROW rows[1] = {rgb};
        jpeg_write_scanlines(&cinfo_, rows, 1);
        return true;
    }

    bool end() {
        if (setjmp(errors_.jump)) return false;
        jpeg_finish_compress(&cinfo_);
        return true;
    }

    // libjpeg's writer calls this at once on a short write: errno is still
    // the write's.
    static void on_error(j_common_ptr cinfo) {
        const int err = errno;
        auto* errors = reinterpret_cast<Errors*>(cinfo->err);
        errors->err = err;
        std::longjmp(errors->jump, 1);
    }

    FilePtr file_;
    jpeg_compress_struct cinfo_{};
    Errors errors_{};
    bool created_ = false;
};

}  // namespace

std::unique_ptr<RowEncoder> open_row_encoder(const std::string& format, const std::string& path,
                                             int width, int height, int quality,
                                             WriteError& error) {
    if (width < 1 || height < 1) {
        error = {"the image is empty"};
        return nullptr;
    }
    if (format == "png") {
        auto png = std::make_unique<PngEncoder>();
        if (png->open(path, width, height)) return png;
        error = png->error();
        return nullptr;
    }
    if (format == "jpeg") {
        if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
            error = {"a JPEG image is at most " + std::to_string(JPEG_MAX_DIMENSION) +
                     " px a side"};
            return nullptr;
        }
        auto jpeg = std::make_unique<JpegEncoder>();
        if (jpeg->open(path, width, height, quality)) return jpeg;
        error = jpeg->error();
        return nullptr;
    }
    error = {"no row encoder for " + format};
    return nullptr;
}

}  // namespace enconvert::render_child
