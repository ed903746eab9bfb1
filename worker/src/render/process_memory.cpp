#include "render/process_memory.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace enconvert::render {
namespace {

// The value of `key` (a "Name:   123 kB" line) in a /proc file, or -1.
long long kib_field(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, key.size(), key) != 0) continue;
        std::istringstream value(line.substr(key.size()));
        long long kib = -1;
        value >> kib;
        return kib;
    }
    return -1;
}

std::uint64_t own_memory_kib(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid);
    long long kib = kib_field(dir + "/smaps_rollup", "Pss:");
    if (kib < 0) kib = kib_field(dir + "/status", "VmRSS:");
    return kib > 0 ? static_cast<std::uint64_t>(kib) : 0;
}

// Parent of every process, from /proc/<pid>/stat ("pid (comm) state ppid").
std::multimap<pid_t, pid_t> children_by_parent() {
    std::multimap<pid_t, pid_t> children;
    DIR* proc = opendir("/proc");
    if (!proc) return children;
    while (dirent* entry = readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0) continue;
        std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
        std::string stat;
        std::getline(in, stat);
        // comm may hold spaces and parentheses: parse after the last ')'.
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 1));
        char state = 0;
        long ppid = 0;
        if (rest >> state >> ppid) children.emplace(static_cast<pid_t>(ppid), pid);
    }
    closedir(proc);
    return children;
}

}  // namespace

std::uint64_t process_tree_memory_kib(pid_t root) {
    const std::multimap<pid_t, pid_t> children = children_by_parent();
    std::uint64_t total = 0;
    std::vector<pid_t> pending{root};
    while (!pending.empty()) {
        const pid_t pid = pending.back();
        pending.pop_back();
        total += own_memory_kib(pid);
        auto [first, last] = children.equal_range(pid);
        for (auto it = first; it != last; ++it) pending.push_back(it->second);
    }
    return total;
}

}  // namespace enconvert::render
