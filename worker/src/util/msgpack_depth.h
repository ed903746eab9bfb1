// nlohmann::json::from_msgpack recurses once per level of nesting, so a
// message of a few hundred kilobytes of nested arrays (0x91 0x91 ...)
// overflows the stack and kills the process (found by make fuzz,
// docs/fuzzing.md). The decoders of untrusted msgpack first measure the
// nesting with this parse, which builds nothing and stops at the first
// array or map deeper than the limit.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace enconvert::util {

enum class MsgpackShape { ok, invalid, too_deep };

// One strict msgpack value in [first, last) whose arrays and maps nest at
// most `max_depth` levels (a top-level map is level 1).
template <typename Iterator>
MsgpackShape msgpack_shape(Iterator first, Iterator last, std::size_t max_depth) {
    using json = nlohmann::json;
    struct DepthSax : nlohmann::json_sax<json> {
        std::size_t max = 0;
        std::size_t depth = 0;
        bool too_deep = false;

        bool enter() {
            if (++depth > max) too_deep = true;
            return !too_deep;
        }
        bool leave() {
            --depth;
            return true;
        }
        bool null() override { return true; }
        bool boolean(bool) override { return true; }
        bool number_integer(number_integer_t) override { return true; }
        bool number_unsigned(number_unsigned_t) override { return true; }
        bool number_float(number_float_t, const string_t&) override { return true; }
        bool string(string_t&) override { return true; }
        bool binary(binary_t&) override { return true; }
        bool start_object(std::size_t) override { return enter(); }
        bool key(string_t&) override { return true; }
        bool end_object() override { return leave(); }
        bool start_array(std::size_t) override { return enter(); }
        bool end_array() override { return leave(); }
        bool parse_error(std::size_t, const std::string&,
                         const nlohmann::detail::exception&) override {
            return false;
        }
    } sax;
    sax.max = max_depth;
    const bool ok = json::sax_parse(first, last, &sax, json::input_format_t::msgpack, true);
    if (sax.too_deep) return MsgpackShape::too_deep;
    return ok ? MsgpackShape::ok : MsgpackShape::invalid;
}

}  // namespace enconvert::util
