// `enconvert-worker curve-keygen --out PATH`: a CURVE keypair for a worker
// host (its curve_secret_key_file) or an nginx host (its
// enconvert_curve_client_key_file). docs/scaling.md says where each goes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace enconvert::admin {

// Writes the secret key to PATH (mode 0600) and the public key to PATH.pub
// (0644: it is handed to the other side), refusing to overwrite either.
// Prints the public key as the last line of `out`. Returns the exit code:
// 0, 1 (a file exists or cannot be written), 2 (usage).
int run_curve_keygen_command(const std::vector<std::string>& args, std::ostream& out,
                             std::ostream& err);

}  // namespace enconvert::admin
