// Streams an image into a PNG or JPEG file row by row, so a screenshot
// taller than one snapshot (tiled_snapshot.h) is never held whole in
// memory: a 1920 x 40000 page is 300 MB as one surface, and cairo cannot
// make surfaces of 32768 px or more anyway.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace enconvert::render_child {

class RowEncoder {
  public:
    virtual ~RowEncoder() = default;
    // One row of `width` RGB pixels (3 bytes each), top to bottom. False
    // when the encoder failed; error() says why.
    virtual bool write_row(const std::uint8_t* rgb) = 0;
    // After the last row: completes and flushes the file. Empty on
    // success, otherwise why it failed.
    virtual std::string finish() = 0;
    const std::string& error() const { return error_; }

  protected:
    std::string error_;
};

// `format`: "png" or "jpeg" (quality 1..100 applies to JPEG). Null with
// `error` set when the file cannot be created or the size is not encodable.
std::unique_ptr<RowEncoder> open_row_encoder(const std::string& format, const std::string& path,
                                             int width, int height, int quality,
                                             std::string& error);

}  // namespace enconvert::render_child
