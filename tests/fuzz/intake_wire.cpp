// Fuzzes the worker's decoder of the module's msgpack requests
// (worker/src/intake/wire.cpp, schema/messages.md): any frame must end in a
// Request or a DecodeError, never a crash, and a decoded request must hold
// what the decoder promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "intake/wire.h"

using namespace enconvert::intake;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const DecodeResult result =
        decode_request(std::string_view(reinterpret_cast<const char*>(data), size));
    const auto* request = std::get_if<Request>(&result);
    if (!request) return 0;
    if (const auto* convert = std::get_if<ConvertRequest>(&request->body)) {
        if (convert->urls.empty() || convert->urls.size() > kMaxUrls) std::abort();
        for (const auto& url : convert->urls) {
            if (url.size() > kMaxUrlBytes) std::abort();
            if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) std::abort();
        }
        if (!convert->options.is_object()) std::abort();
        // What the worker does next with the options: store them as jsonb.
        (void)convert->options.dump();
    }
    return 0;
}
