#include "api_error.h"

#include <nlohmann/json.hpp>

#include "json_fields.h"

namespace enconvert::cli {

ExitCode exit_code_for_status(long http_status) {
    if (http_status == 401 || http_status == 403) return ExitCode::authentication;
    if (http_status == 404) return ExitCode::not_found;
    if (http_status >= 400 && http_status < 500) return ExitCode::request_refused;
    return ExitCode::server_error;
}

std::string one_line(std::string_view text, std::size_t max_length) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        out += (byte < 0x20 || byte == 0x7f) ? ' ' : c;
    }
    if (out.size() > max_length) {
        // Step back over UTF-8 continuation bytes so no character is cut in half.
        std::size_t cut = max_length;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
        out += "…";
    }
    return out;
}

std::string describe_answer(const HttpAnswer& answer) {
    const std::string http = "HTTP " + std::to_string(answer.status);
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    const std::string code = string_member(body, "error");
    if (code.empty()) {
        // A proxy's page or an empty body: the status is all there is to go on.
        return one_line("the server answered " + http +
                        " without an enconvert error (is ENCONVERT_URL the API's base URL?)");
    }
    std::string detail = string_member(body, "detail");
    const std::string field = string_member(body, "field");
    if (!field.empty() && detail.find(field) == std::string::npos) {
        detail = detail.empty() ? field : field + ": " + detail;
    }
    if (detail.empty()) detail = code;
    return one_line(detail + " (" + code + ", " + http + ")");
}

CliError api_error(std::string_view context, const HttpAnswer& answer) {
    return CliError(exit_code_for_status(answer.status),
                    one_line(std::string(context)) + ": " + describe_answer(answer));
}

}  // namespace enconvert::cli
