#include "render/process_memory.h"

#include <dirent.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace enconvert::render {
namespace {

std::string read_whole(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

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
    if (process_is_dying(read_whole(dir + "/stat"), read_whole(dir + "/status"))) return 0;
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

// The children of `pid` from each of its threads'
// /proc/<pid>/task/<tid>/children (a thread lists the children it forked);
// nullopt when the kernel has no such files (CONFIG_PROC_CHILDREN), empty
// when `pid` is gone. Reads only the tree, where children_by_parent() reads
// every process of the host.
std::optional<std::vector<pid_t>> listed_children(pid_t pid) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = opendir(tasks.c_str());
    if (!dir) return std::vector<pid_t>{};
    std::vector<pid_t> out;
    bool listed = false;
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream in(tasks + "/" + entry->d_name + "/children");
        if (!in) continue;  // the thread ended meanwhile, or no such file
        listed = true;
        pid_t child = 0;
        while (in >> child) out.push_back(child);
    }
    closedir(dir);
    if (!listed) return std::nullopt;
    return out;
}

}  // namespace

bool process_is_dying(const std::string& stat, const std::string& status) {
    constexpr unsigned long kPfExiting = 0x4;  // the kernel's PF_EXITING
    const auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 1));
        char state = 0;
        long skip = 0;
        unsigned long flags = 0;
        // state ppid pgrp session tty_nr tpgid flags
        if (fields >> state >> skip >> skip >> skip >> skip >> skip >> flags) {
            if (state == 'Z' || state == 'X' || (flags & kPfExiting)) return true;
        }
    }
    constexpr unsigned long long kSigkill = 1ULL << (SIGKILL - 1);
    std::istringstream lines(status);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("SigPnd:", 0) != 0 && line.rfind("ShdPnd:", 0) != 0) continue;
        if (std::strtoull(line.c_str() + 7, nullptr, 16) & kSigkill) return true;
    }
    return false;
}

std::uint64_t process_tree_memory_kib(pid_t root) {
    std::optional<std::multimap<pid_t, pid_t>> every;  // read once, if needed
    std::uint64_t total = 0;
    std::vector<pid_t> pending{root};
    while (!pending.empty()) {
        const pid_t pid = pending.back();
        pending.pop_back();
        total += own_memory_kib(pid);
        if (!every) {
            if (auto children = listed_children(pid)) {
                pending.insert(pending.end(), children->begin(), children->end());
                continue;
            }
            every = children_by_parent();
        }
        auto [first, last] = every->equal_range(pid);
        for (auto it = first; it != last; ++it) pending.push_back(it->second);
    }
    return total;
}

}  // namespace enconvert::render
