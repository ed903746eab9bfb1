// Streams an image into a PNG or JPEG file row by row, so a screenshot
// taller than one snapshot (tiled_snapshot.h) is never held whole in
// memory: a 1920 x 40000 page is 300 MB as one surface, and cairo cannot
// make surfaces of 32768 px or more anyway.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "render_child/write_error.h"

namespace enconvert::render_child {

class RowEncoder {
  public:
    virtual ~RowEncoder() = default;
    // One row of `width` RGB pixels (3 bytes each), top to bottom. False
    // when the encoder failed; error() says why.
    virtual bool write_row(const std::uint8_t* rgb) = 0;
    // After the last row: completes, flushes and closes the file. Nothing
    // failed() on success, otherwise why.
    virtual WriteError finish() = 0;
    const WriteError& error() const { return error_; }

  protected:
    WriteError error_;
};

// `format`: "png" or "jpeg" (quality 1..100 applies to JPEG). Null with
// `error` set when the file cannot be created or the size is not encodable.
std::unique_ptr<RowEncoder> open_row_encoder(const std::string& format, const std::string& path,
                                             int width, int height, int quality, WriteError& error);

}  // namespace enconvert::render_child
