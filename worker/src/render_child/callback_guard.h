// GLib and WebKit call the renderer child's callbacks from C frames: an
// exception leaving one of them crosses those frames into std::terminate,
// which ends the child and with it the jobs of every view it runs.
// Guarded<F, Site>::call runs the callback F and hands what it threw to
// its site instead, so that only the job it was for fails.
#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

namespace enconvert::render_child {

// `F`: a plain function whose last parameter is its user data (a gpointer).
// `Site`: `static Where locate(void* data)`, called before F (which may free
// the data), and `static void threw(Where, const char* what)`, called with
// what F threw. A callback that threw returns a zero value (FALSE,
// G_SOURCE_REMOVE): the default handling for signals, no repeat for
// sources.
template <auto F, typename Site>
struct Guarded;

template <typename R, typename... Args, R (*F)(Args...), typename Site>
struct Guarded<F, Site> {
    static_assert(sizeof...(Args) > 0, "a GLib callback takes its user data last");

    static R call(Args... args) noexcept {
        void* data = std::get<sizeof...(Args) - 1>(std::forward_as_tuple(args...));
        const auto where = Site::locate(data);
        try {
            return F(args...);
        } catch (const std::exception& e) {
            report(where, e.what());
        } catch (...) {
            report(where, "an exception of an unknown type");
        }
        if constexpr (!std::is_void_v<R>) return R{};
    }

  private:
    template <typename Where>
    static void report(const Where& where, const char* what) noexcept {
        try {
            Site::threw(where, what);
        } catch (...) {
            // Nothing is left to tell: the callback's job ends at its
            // deadline.
        }
    }
};

}  // namespace enconvert::render_child
