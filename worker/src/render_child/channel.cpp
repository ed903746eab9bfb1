#include "render_child/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include "log/log.h"

namespace enconvert::render_child {

namespace {
constexpr log::Logger kLog{"channel"};
}  // namespace

Channel::Channel(WorkerPipes pipes, OnMessage on_message, OnClosed on_closed)
    : pipes_(pipes), on_message_(std::move(on_message)), on_closed_(std::move(on_closed)) {
    int flags = fcntl(pipes_.in, F_GETFL);
    fcntl(pipes_.in, F_SETFL, flags | O_NONBLOCK);
    watch_.reset(g_unix_fd_add(pipes_.in, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                               &Channel::on_readable, this));
}

void Channel::send(const nlohmann::json& message) {
    const std::string frame = render::encode_frame(message);
    std::size_t done = 0;
    while (done < frame.size()) {
        ssize_t n = write(pipes_.out, frame.data() + done, frame.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // The worker is gone; nobody is left to answer to.
            kLog.error("writing to the worker failed; exiting");
            _exit(1);
        }
        done += static_cast<std::size_t>(n);
    }
}

gboolean Channel::on_readable(gint, GIOCondition, gpointer data) {
    auto* self = static_cast<Channel*>(data);
    if (self->drain()) return G_SOURCE_CONTINUE;
    self->watch_.release();
    self->on_closed_();
    return G_SOURCE_REMOVE;
}

bool Channel::drain() {
    char buffer[16384];
    for (;;) {
        ssize_t n = read(pipes_.in, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) return false;
        decoder_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
    for (;;) {
        try {
            auto message = decoder_.next();
            if (!message) return true;
            on_message_(*message);
        } catch (const render::MalformedFrame& e) {
            kLog.warning("skipping a bad frame from the worker", {{"error", e.what()}});
        } catch (const render::FrameError& e) {
            // A corrupt stream cannot be resynchronised: treat it as closed.
            kLog.error("bad stream from the worker", {{"error", e.what()}});
            return false;
        }
    }
}

}  // namespace enconvert::render_child
