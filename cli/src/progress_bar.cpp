#include "progress_bar.h"

#include <algorithm>

namespace enconvert::cli {

std::string progress_counts(const Progress& progress) {
    return std::to_string(progress.finished()) + "/" + std::to_string(progress.total) +
           " finished (" + std::to_string(progress.converted) + " converted, " +
           std::to_string(progress.failed) + " failed)";
}

std::string render_bar(const Progress& progress, int width) {
    const int total = std::max(progress.total, 1);
    const int done = std::clamp(progress.finished(), 0, total);
    const int filled = done * width / total;
    return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] " +
           progress_counts(progress);
}

std::string render_line(const Progress& progress) {
    return "progress: " + progress_counts(progress);
}

void ProgressDisplay::show(const Progress& progress) {
    if (shown_ && progress == last_) return;
    shown_ = true;
    last_ = progress;
    if (!terminal_) {
        out_ << render_line(progress) << '\n' << std::flush;
        return;
    }
    const std::string bar = render_bar(progress, kBarWidth);
    // Blanks over whatever a longer previous bar left on the line.
    const std::size_t padding = last_length_ > bar.size() ? last_length_ - bar.size() : 0;
    out_ << '\r' << bar << std::string(padding, ' ') << std::flush;
    last_length_ = bar.size();
    open_line_ = true;
}

void ProgressDisplay::close() {
    if (!open_line_) return;
    out_ << '\n' << std::flush;
    open_line_ = false;
}

}  // namespace enconvert::cli
