// Text from outside (a page, a site's headers, a webhook receiver's answer)
// made storable: PostgreSQL's text columns refuse invalid UTF-8 and NUL
// bytes, and a refused UPDATE would lose the outcome it carries.
#pragma once

#include <string>
#include <string_view>

namespace enconvert::util {

// `text` with each invalid UTF-8 sequence and each NUL byte replaced by
// U+FFFD; valid text comes back unchanged.
std::string valid_utf8(std::string_view text);

}  // namespace enconvert::util
