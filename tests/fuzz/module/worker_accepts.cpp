// The worker's decoder as an oracle for the module fuzz targets: what the
// module sends, the worker must accept (ngx_shim.h).
#include <cstddef>
#include <cstdio>
#include <string_view>

#include "intake/wire.h"

extern "C" int enconvert_fuzz_worker_accepts(const unsigned char* data, std::size_t len, char* buf,
                                             std::size_t size) {
    using namespace enconvert::intake;
    const DecodeResult result =
        decode_request(std::string_view(reinterpret_cast<const char*>(data), len));
    if (const auto* error = std::get_if<DecodeError>(&result)) {
        std::snprintf(buf, size, "%s", error->detail.c_str());
        return 0;
    }
    return 1;
}
