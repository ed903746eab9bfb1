#include "render/frame.h"

#include "util/msgpack_depth.h"

namespace enconvert::render {

std::string encode_frame(const nlohmann::json& message) {
    std::vector<std::uint8_t> body = nlohmann::json::to_msgpack(message);
    if (body.size() > kMaxFrameBytes) throw FrameError("frame too large");
    const auto n = static_cast<std::uint32_t>(body.size());
    std::string frame;
    frame.reserve(4 + body.size());
    frame.push_back(static_cast<char>((n >> 24) & 0xff));
    frame.push_back(static_cast<char>((n >> 16) & 0xff));
    frame.push_back(static_cast<char>((n >> 8) & 0xff));
    frame.push_back(static_cast<char>(n & 0xff));
    frame.append(reinterpret_cast<const char*>(body.data()), body.size());
    return frame;
}

void FrameDecoder::feed(std::string_view bytes) {
    // Compact only when the consumed prefix dominates, so a burst of small
    // frames does not cost a memmove each.
    if (offset_ > 0 && offset_ >= buffer_.size() / 2) {
        buffer_.erase(0, offset_);
        offset_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<nlohmann::json> FrameDecoder::next() {
    if (buffered() < 4) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                          (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    if (n > kMaxFrameBytes) throw FrameError("frame length " + std::to_string(n) + " too large");
    if (buffered() < 4 + n) return std::nullopt;
    const auto* body = p + 4;
    offset_ += 4 + n;
    // from_msgpack recurses per level: refuse deep nesting before it.
    const util::MsgpackShape shape = util::msgpack_shape(body, body + n, kMaxFrameDepth);
    nlohmann::json message = shape == util::MsgpackShape::ok
                                 ? nlohmann::json::from_msgpack(body, body + n, true, false)
                                 : nlohmann::json(nlohmann::json::value_t::discarded);
    if (offset_ == buffer_.size()) {
        buffer_.clear();
        offset_ = 0;
    }
    if (message.is_discarded() || !message.is_object())
        throw MalformedFrame("frame is not a msgpack map");
    return message;
}

}  // namespace enconvert::render
