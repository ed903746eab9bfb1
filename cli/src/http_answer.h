// What an HTTP exchange produced, before anyone interprets it.
#pragma once

#include <string>

namespace enconvert::cli {

struct HttpAnswer {
    long status = 0;
    std::string body;
};

}  // namespace enconvert::cli
