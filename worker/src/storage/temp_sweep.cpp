#include "storage/temp_sweep.h"

namespace enconvert::storage {

namespace fs = std::filesystem;

int remove_stale_temp_entries(const fs::path& dir, std::chrono::seconds older_than) {
    int removed = 0;
    std::error_code ec;
    const auto cutoff = fs::file_time_type::clock::now() - older_than;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code entry_ec;
        const auto modified = fs::last_write_time(it->path(), entry_ec);
        if (entry_ec || modified > cutoff) continue;
        if (fs::remove_all(it->path(), entry_ec) > 0 && !entry_ec) ++removed;
    }
    return removed;
}

}  // namespace enconvert::storage
