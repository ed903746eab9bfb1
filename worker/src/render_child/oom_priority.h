// Who the kernel's OOM killer takes first. A renderer child and the WebKit
// web processes it starts (they inherit the value) hold what the internet
// sends: a hostile page (a served PDF is read in a probe process under its
// own limits: pdf_probe.h). Under memory pressure that must cost a
// renderer, which the pool restarts and whose task is retried or failed,
// not PostgreSQL, nginx or the worker that holds the queue.
#pragma once

namespace enconvert::render_child {

// Above everything a host runs by default (0), below a process that asked
// to go first (1000).
inline constexpr int kRendererOomScoreAdj = 800;

// Raises this process's /proc/self/oom_score_adj to `value`; never lowers
// it (an operator's higher setting stays). False when /proc refuses.
bool raise_oom_score_adj(int value);

}  // namespace enconvert::render_child
