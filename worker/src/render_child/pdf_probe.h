// A PDF the URL served is read in a process of its own. qpdf 11.3 has no
// bound on inflation: a few megabytes whose object streams inflate to
// gigabytes made the renderer child (and every job on its views) allocate
// them when it counted the pages; a qpdf crash on a hostile file would take
// the child down too. The probe is this same binary started with
// kPageCountArgument, under a memory and a CPU limit.
#pragma once

#include <string>

namespace enconvert::render_child {

inline constexpr const char* kPageCountArgument = "--count-pdf-pages";
// The probe's heap and mappings (RLIMIT_DATA): far above what counting the
// pages of any real PDF needs (its object streams, not its page contents).
inline constexpr unsigned long kProbeDataLimitBytes = 512ul << 20;
inline constexpr unsigned kProbeCpuSeconds = 20;
// Wall-clock bound on the probe, after which it is killed.
inline constexpr int kProbeWaitMs = 30 * 1000;

// The probe's side (main.cpp, argv[1] == kPageCountArgument): sets the
// limits, prints the number of pages of `path` (0 when it cannot be read,
// including for want of memory) and returns the exit status.
int run_page_count_probe(const std::string& path);

// The renderer's side: runs `binary` (normally /proc/self/exe) as the probe
// for `path` and returns its count; 0 when the probe failed, was killed by
// its limits or did not answer in time. Blocks: call it off the main loop.
int count_pdf_pages_in_probe(const std::string& binary, const std::string& path);

}  // namespace enconvert::render_child
