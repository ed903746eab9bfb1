#include "util/ids.h"

#include <string_view>
#include <vector>

#include "util/crypto.h"

namespace enconvert::util {

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    random_bytes(buf.data(), buf.size());
    return to_hex(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

std::string new_job_id(bool batch) {
    return (batch ? "batch_" : "job_") + random_hex(16);
}

std::string new_account_public_id() {
    return random_hex(8);
}

}  // namespace enconvert::util
