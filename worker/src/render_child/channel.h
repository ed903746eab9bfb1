// The child's side of the pipes: frames in (watched by the GLib main loop,
// never blocking it), frames out. The pipes carry frames only; they are not
// stdin and stdout (worker_pipes.h).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "render/frame.h"
#include "render_child/gobject_ptr.h"
#include "render_child/worker_pipes.h"

namespace enconvert::render_child {

class Channel {
  public:
    using OnMessage = std::function<void(const nlohmann::json&)>;
    using OnClosed = std::function<void()>;

    Channel(WorkerPipes pipes, OnMessage on_message, OnClosed on_closed);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Writes the whole frame. Blocking is fine here: results are a few
    // hundred bytes and the worker drains the pipe continuously.
    void send(const nlohmann::json& message);

  private:
    static gboolean on_readable(gint fd, GIOCondition condition, gpointer self);
    bool drain();  // false once the worker's pipe is closed or broken

    WorkerPipes pipes_;
    OnMessage on_message_;
    OnClosed on_closed_;
    render::FrameDecoder decoder_;
    SourceId watch_;
};

}  // namespace enconvert::render_child
