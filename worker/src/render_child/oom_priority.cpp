#include "render_child/oom_priority.h"

#include <fstream>

namespace enconvert::render_child {

bool raise_oom_score_adj(int value) {
    int current = 0;
    {
        std::ifstream in("/proc/self/oom_score_adj");
        if (!(in >> current)) return false;
    }
    if (current >= value) return true;
    std::ofstream out("/proc/self/oom_score_adj");
    out << value << '\n';
    out.flush();
    return static_cast<bool>(out);
}

}  // namespace enconvert::render_child
