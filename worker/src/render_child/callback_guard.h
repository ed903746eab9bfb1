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

// Hands `what` to `Site::threw(where, what)`; a report that throws itself
// is swallowed.
template <typename Site, typename Where>
void report_to(const Where& where, const char* what) noexcept {
    try {
        Site::threw(where, what);
    } catch (...) {
        // Nothing is left to tell: the callback's job ends at its deadline.
    }
}

// Runs `fn`; what it throws goes to `Site::threw(where, what)` instead of
// on into the C frames that called. True when `fn` returned.
template <typename Site, typename Where, typename Fn>
bool run_guarded(const Where& where, Fn&& fn) noexcept {
    try {
        std::forward<Fn>(fn)();
        return true;
    } catch (const std::exception& e) {
        report_to<Site>(where, e.what());
    } catch (...) {
        report_to<Site>(where, "an exception of an unknown type");
    }
    return false;
}

// `F`: a plain function whose last parameter is its user data (a gpointer).
// `Site`: `static Where locate(void* data)`, called before F (which may free
// the data), and `static void threw(Where, const char* what)`, called with
// what F threw. A callback that threw returns a zero value (FALSE,
// G_SOURCE_REMOVE): the default handling for signals, no repeat for
// sources. Where WebKit's default handling would let something happen
// that F was there to refuse (a navigation, a download's destination),
// `Fallback`, a function of F's parameters, refuses it and its value is
// returned instead.
template <auto F, typename Site, auto Fallback = nullptr>
struct Guarded;

template <typename R, typename... Args, R (*F)(Args...), typename Site, auto Fallback>
struct Guarded<F, Site, Fallback> {
    static_assert(sizeof...(Args) > 0, "a GLib callback takes its user data last");

    static R call(Args... args) noexcept {
        void* data = std::get<sizeof...(Args) - 1>(std::forward_as_tuple(args...));
        const auto where = Site::locate(data);
        if constexpr (std::is_void_v<R>) {
            if (run_guarded<Site>(where, [&] { F(args...); })) return;
        } else {
            R answer{};
            if (run_guarded<Site>(where, [&] { answer = F(args...); })) return answer;
        }
        if constexpr (!std::is_same_v<decltype(Fallback), std::nullptr_t>)
            return Fallback(args...);
        else if constexpr (!std::is_void_v<R>)
            return R{};
    }
};

}  // namespace enconvert::render_child
