// Framing of the worker <-> enconvert-render pipe (schema/messages.md §2):
// a 4-byte big-endian length followed by one msgpack map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace enconvert::render {

// Requests and results are small; anything bigger means a corrupt stream.
inline constexpr std::size_t kMaxFrameBytes = 16 * 1024 * 1024;
// Nesting of a frame's map (requests carry the job's options): deeper is a
// MalformedFrame, not a stack overflow.
inline constexpr std::size_t kMaxFrameDepth = 32;

// The stream is corrupt (e.g. an absurd length): stop reading it.
struct FrameError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// One frame was not a msgpack map; it has been consumed, the next may be fine.
struct MalformedFrame : FrameError {
    using FrameError::FrameError;
};

// Returns length prefix + msgpack bytes. Throws FrameError if too large.
std::string encode_frame(const nlohmann::json& message);

// Accumulates bytes from a stream and cuts them into messages.
class FrameDecoder {
  public:
    void feed(std::string_view bytes);

    // The next complete message, or nullopt until more bytes arrive.
    // Throws FrameError for an oversized length (the stream cannot be
    // resynchronised), MalformedFrame for a frame that is not a msgpack map
    // or nests deeper than kMaxFrameDepth.
    std::optional<nlohmann::json> next();

    std::size_t buffered() const { return buffer_.size() - offset_; }

  private:
    std::string buffer_;
    std::size_t offset_ = 0;  // consumed prefix, compacted lazily
};

}  // namespace enconvert::render
