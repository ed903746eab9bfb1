// Fuzzes the worker's decoder of the renderer children's frames
// (worker/src/render/frame.cpp, schema/messages.md §2). The input is a byte
// stream cut into reads of varying sizes: the first byte of each chunk gives
// the next chunk's length. Every frame must decode, be skipped
// (MalformedFrame) or stop the stream (FrameError); never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "render/frame.h"

using enconvert::render::FrameDecoder;
using enconvert::render::FrameError;
using enconvert::render::MalformedFrame;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FrameDecoder decoder;
    std::size_t at = 0;
    while (at < size) {
        const std::size_t chunk = std::size_t{data[at]} + 1;
        ++at;
        const std::size_t n = chunk < size - at ? chunk : size - at;
        decoder.feed(std::string_view(reinterpret_cast<const char*>(data + at), n));
        at += n;
        for (;;) {
            try {
                auto message = decoder.next();
                if (!message) break;
                if (!message->is_object()) std::abort();
                // What the pool does next: look at "kind" and log the rest.
                (void)message->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            } catch (const MalformedFrame&) {
                continue;  // the next frame may be fine
            } catch (const FrameError&) {
                return 0;  // the stream is given up
            }
        }
    }
    return 0;
}
