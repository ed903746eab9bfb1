#include "render_child/request_credentials.h"

#include <glib.h>

#include <cmath>
#include <string_view>
#include <tuple>

#include "options/option_limits.h"
#include "render_child/glib_ptr.h"

namespace enconvert::render_child {
namespace {

using nlohmann::json;
namespace limits = enconvert::options;

// What an HTTP message must never carry inside a header: a CR, LF or NUL
// would let a value start a header (or a request) of its own.
bool safe_field_value(const std::string& s) {
    for (unsigned char c : s)
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    return true;
}

bool token(const std::string& s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!g_ascii_isalnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) ==
                                       std::string_view::npos)
            return false;
    return true;
}

std::string read_cookie(const json& c, const std::string& field, RequestCookie& out) {
    if (!c.is_object()) return field + " must be an object";
    auto text = [&](const char* key, std::string& into) -> bool {
        auto it = c.find(key);
        if (it == c.end() || it->is_null()) return true;
        if (!it->is_string() || !safe_field_value(it->get<std::string>())) return false;
        into = it->get<std::string>();
        return true;
    };
    if (!text("name", out.name) || !token(out.name))
        return field + ".name must be a cookie name (an HTTP token)";
    if (!text("value", out.value) || out.value.find(';') != std::string::npos)
        return field + ".value must be a string without control characters or \";\"";
    if (!text("domain", out.domain)) return field + ".domain must be a host name";
    if (!text("url", out.url)) return field + ".url must be an http(s) URL";
    if (!text("path", out.path) || (!out.path.empty() && out.path[0] != '/'))
        return field + ".path must start with \"/\"";
    // Lengths within the request limits: the module refuses longer first,
    // but the renderer, shared by other tenants' jobs, does not take its
    // word for it.
    for (auto [key, value, range] : {std::tuple{"name", &out.name, limits::cookies_name},
                                     {"value", &out.value, limits::cookies_value},
                                     {"domain", &out.domain, limits::cookies_domain},
                                     {"url", &out.url, limits::cookies_url},
                                     {"path", &out.path, limits::cookies_path}}) {
        if (value->size() > range.max)
            return field + "." + key + " must be at most " +
                   std::to_string(static_cast<int>(range.max)) + " characters";
    }
    if (out.domain.empty() == out.url.empty()) return field + " needs either a domain or a url";
    if (auto it = c.find("expires"); it != c.end() && !it->is_null()) {
        // Within the limits, or the conversion to the cookie's gint64 is
        // undefined (1e300).
        if (!it->is_number() || !std::isfinite(it->get<double>()) ||
            it->get<double>() < limits::cookies_expires.min ||
            it->get<double>() > limits::cookies_expires.max)
            return field + ".expires must be a number of seconds since the epoch";
        out.expires = it->get<double>();
    }
    for (auto [key, flag] : {std::pair{"httpOnly", &out.http_only}, {"secure", &out.secure}}) {
        auto it = c.find(key);
        if (it == c.end() || it->is_null()) continue;
        if (!it->is_boolean()) return field + "." + key + " must be true or false";
        *flag = it->get<bool>();
    }
    if (!text("sameSite", out.same_site) || !(out.same_site.empty() || out.same_site == "Strict" ||
                                              out.same_site == "Lax" || out.same_site == "None"))
        return field + ".sameSite must be \"Strict\", \"Lax\" or \"None\"";
    return {};
}

}  // namespace

std::string read_credentials(const json& options, RequestCredentials& out) {
    if (auto it = options.find("cookies"); it != options.end() && !it->is_null()) {
        if (!it->is_array() || it->size() > limits::cookies_max_items)
            return "cookies must be an array of at most 50 cookie objects";
        for (std::size_t i = 0; i < it->size(); ++i) {
            RequestCookie cookie;
            const std::string why =
                read_cookie((*it)[i], "cookies[" + std::to_string(i) + "]", cookie);
            if (!why.empty()) return why;
            out.cookies.push_back(std::move(cookie));
        }
    }
    bool has_authorization = false;
    if (auto it = options.find("headers"); it != options.end() && !it->is_null()) {
        if (!it->is_object() || it->size() > limits::headers_max_items)
            return "headers must be an object of at most 20 headers";
        for (const auto& [name, value] : it->items()) {
            if (!token(name)) return "headers must have HTTP token names";
            if (!value.is_string() || !safe_field_value(value.get<std::string>()))
                return "headers." + name + " must be a string without control characters";
            has_authorization =
                has_authorization || g_ascii_strcasecmp(name.c_str(), "authorization") == 0;
            out.headers.emplace_back(name, value.get<std::string>());
        }
    }
    if (auto it = options.find("auth"); it != options.end() && !it->is_null()) {
        const json& a = *it;
        if (!a.is_object() || !a.contains("username") || !a["username"].is_string() ||
            !a.contains("password") || !a["password"].is_string())
            return "auth must be an object with a username and a password";
        const std::string user = a["username"].get<std::string>();
        const std::string password = a["password"].get<std::string>();
        if (user.empty() || user.find(':') != std::string::npos || !safe_field_value(user) ||
            password.empty() || !safe_field_value(password))
            return "auth must hold a username without \":\" and a password, without control "
                   "characters";
        if (user.size() > limits::auth_username.max || password.size() > limits::auth_password.max)
            return "auth's username and password must be at most " +
                   std::to_string(static_cast<int>(limits::auth_password.max)) + " characters each";
        if (has_authorization) return "auth cannot be used together with an Authorization header";
        // HTTP Basic (RFC 7617), sent up front to the target's origin only:
        // nothing is answered to a challenge, so the engine never caches the
        // credentials for a later job (docs/security.md).
        const std::string pair = user + ":" + password;
        GCharPtr encoded(
            g_base64_encode(reinterpret_cast<const guchar*>(pair.data()), pair.size()));
        out.headers.emplace_back("Authorization", std::string("Basic ") + encoded.get());
    }
    return {};
}

}  // namespace enconvert::render_child
