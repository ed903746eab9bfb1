// How far a job has got, shown on stderr while `convert --wait` polls: a
// bar redrawn in place on a terminal, one line per change otherwise (logs
// and pipes get readable lines instead of carriage returns).
#pragma once

#include <ostream>
#include <string>

namespace enconvert::cli {

struct Progress {
    int total = 0;
    int converted = 0;
    int failed = 0;

    int finished() const { return converted + failed; }
    bool operator==(const Progress&) const = default;
};

// "1/3 finished (1 converted, 0 failed)"
std::string progress_counts(const Progress& progress);

// "[##########--------------------] 1/3 finished (1 converted, 0 failed)"
// with `width` cells between the brackets.
std::string render_bar(const Progress& progress, int width);

// "progress: 1/3 finished (1 converted, 0 failed)"
std::string render_line(const Progress& progress);

class ProgressDisplay {
  public:
    ProgressDisplay(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
    ProgressDisplay(const ProgressDisplay&) = delete;
    ProgressDisplay& operator=(const ProgressDisplay&) = delete;
    // Ends the bar's line, so what is printed next starts on its own.
    ~ProgressDisplay() { close(); }

    void show(const Progress& progress);
    void close();

    static constexpr int kBarWidth = 30;

  private:
    std::ostream& out_;
    bool terminal_;
    bool shown_ = false;
    bool open_line_ = false;
    Progress last_;
    std::size_t last_length_ = 0;
};

}  // namespace enconvert::cli
