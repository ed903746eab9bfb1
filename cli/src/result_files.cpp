#include "result_files.h"

#include <map>
#include <regex>
#include <set>

namespace enconvert::cli {

namespace {

// The server only makes keys of these characters; a key that holds others
// (a broken or hostile server) must still not name a path outside the
// output directory.
std::string safe_file_name(std::string name) {
    for (char& c : name) {
        const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!allowed) c = '_';
    }
    name.erase(0, name.find_first_not_of('.'));
    return name.empty() ? "file" : name;
}

std::string with_suffix(const std::string& name, std::size_t position) {
    const std::string suffix = "-" + std::to_string(position);
    const std::size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) return name + suffix;
    return name.substr(0, dot) + suffix + name.substr(dot);
}

}  // namespace

std::string file_name_for(std::string_view object_key) {
    const std::size_t slash = object_key.rfind('/');
    const std::string last(slash == std::string_view::npos ? object_key
                                                           : object_key.substr(slash + 1));
    // _<task id>, or _<task id>-<attempt> from a task's second attempt on.
    static const std::regex stored(
        R"(^(.+)_[0-9]{8}T[0-9]{6}Z_[0-9]+(?:-[0-9]+)?\.([A-Za-z0-9]+)$)");
    std::smatch parts;
    if (std::regex_match(last, parts, stored))
        return safe_file_name(parts[1].str() + "." + parts[2].str());
    return safe_file_name(last);
}

std::vector<std::string> file_names_for(const std::vector<TaskResult>& tasks) {
    std::vector<std::string> names(tasks.size());
    std::map<std::string, int> uses;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (!tasks[i].succeeded()) continue;
        names[i] = file_name_for(tasks[i].object_key);
        ++uses[names[i]];
    }
    std::set<std::string> taken;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (names[i].empty()) continue;
        if (uses[names[i]] > 1) names[i] = with_suffix(names[i], i + 1);
        // A suffixed name can meet another file's own name ("a-2.pdf").
        while (!taken.insert(names[i]).second) names[i] = with_suffix(names[i], i + 1);
    }
    return names;
}

}  // namespace enconvert::cli
