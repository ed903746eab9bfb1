// Public identifiers: job/batch ids and account public ids.
#pragma once

#include <string>

namespace enconvert::util {

// "job_" or "batch_" followed by 32 lowercase hex chars (128 random bits), so
// ids cannot be guessed or enumerated.
std::string new_job_id(bool batch);

// 16 lowercase hex chars (64 random bits); appears in object keys, so it must
// stay within the object-key charset.
std::string new_account_public_id();

// Random lowercase hex string of 2*bytes characters.
std::string random_hex(std::size_t bytes);

}  // namespace enconvert::util
