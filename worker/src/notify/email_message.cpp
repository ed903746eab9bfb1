#include "notify/email_message.h"

#include <gmime/gmime.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "api/website_answers.h"

namespace enconvert::notify {

namespace {

// One owner per GMime/GLib object.
struct GObjectUnref {
    void operator()(gpointer p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;
struct GFree {
    void operator()(gpointer p) const { g_free(p); }
};
struct FormatOptionsFree {
    void operator()(GMimeFormatOptions* p) const { g_mime_format_options_free(p); }
};
struct DateTimeUnref {
    void operator()(GDateTime* p) const { g_date_time_unref(p); }
};

void ensure_gmime() {
    // g_mime_init sets up global charset tables: once per process.
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

std::string final_status(const db::JobView& job) {
    return job.status == "completed" ? "success" : "failed";
}

std::string human_size(std::int64_t bytes) {
    char buf[64];
    if (bytes >= 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%lld bytes (%.1f MB)", static_cast<long long>(bytes),
                      static_cast<double>(bytes) / (1024.0 * 1024.0));
    } else if (bytes >= 1024) {
        std::snprintf(buf, sizeof buf, "%lld bytes (%.1f KB)", static_cast<long long>(bytes),
                      static_cast<double>(bytes) / 1024.0);
    } else {
        std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
    }
    return buf;
}

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", s);
    return buf;
}

std::string html_escape(const std::string& s) {
    // GLib escapes exactly the five characters HTML text and attributes need.
    const std::unique_ptr<gchar, decltype(&g_free)> escaped(
        g_markup_escape_text(s.data(), static_cast<gssize>(s.size())), &g_free);
    return escaped.get();
}

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

GPtr<GMimeTextPart> text_part(const char* subtype, const std::string& content) {
    GPtr<GMimeTextPart> part(g_mime_text_part_new_with_subtype(subtype));
    // Always UTF-8 (g_mime_text_part_set_text would pick e.g. iso-8859-1 when
    // it fits, which is correct but needlessly varies between messages).
    bool ascii = true;
    for (unsigned char c : content) ascii = ascii && c < 0x80;
    g_mime_text_part_set_charset(part.get(), ascii ? "us-ascii" : "utf-8");
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(content.data(), content.size()));
    GPtr<GMimeDataWrapper> data(
        g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(GMIME_PART(part.get()), data.get());  // takes its own ref
    // Quoted-printable (or 7bit when plain ASCII with short lines) keeps long
    // presigned URLs within SMTP's 998-octet line limit.
    g_mime_object_encode(GMIME_OBJECT(part.get()), GMIME_ENCODING_CONSTRAINT_7BIT);
    return part;
}

}  // namespace

bool valid_mailbox(const std::string& a) {
    if (a.empty() || a.size() > 254) return false;
    const auto at = a.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 >= a.size() || at > 64) return false;
    for (unsigned char c : a) {
        if (c <= 0x20 || c == 0x7f) return false;  // controls, CR, LF, space
        if (c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')' ||
            c == '\\' || c == '[' || c == ']' || c == ':') {
            return false;
        }
    }
    return a.find('@') == at;  // exactly one @
}

EmailParts notification_email_parts(const db::JobView& job, const storage::Presigner& presigner,
                                    const std::string& from, const std::string& to) {
    // A website capture that found no page reports its start URL, failed.
    std::vector<db::TaskView> tasks = job.tasks;
    if (auto failed = api::discovery_failure_task(job)) tasks.push_back(std::move(*failed));
    int succeeded = 0;
    for (const auto& t : tasks) succeeded += t.status == "success" ? 1 : 0;
    const std::string status = final_status(job);
    const std::string summary = std::to_string(succeeded) + " of " + std::to_string(tasks.size()) +
                                " URL" + (tasks.size() == 1 ? "" : "s") + " converted";

    EmailParts p;
    p.from = from;
    p.to = to;
    p.subject = "enconvert job " + job.id + ": " + status;

    std::string text = "Your enconvert job has finished.\n\n";
    text += "Job ID: " + job.id + "\n";
    text += "Final status: " + status + " (" + summary + ")\n\n";
    std::string html = "<!DOCTYPE html>\n<html><body>\n<p>Your enconvert job has finished.</p>\n";
    html += "<p>Job ID: <code>" + html_escape(job.id) + "</code><br>\n";
    html += "Final status: <strong>" + status + "</strong> (" + summary + ")</p>\n<ol>\n";

    int n = 0;
    for (const auto& t : tasks) {
        ++n;
        text += std::to_string(n) + ". " + t.url + "\n";
        html += "<li><p>URL: " + html_escape(t.url) + "<br>\n";
        if (t.status == "success") {
            const std::string link = presigner.url(job.base_url, t.object_key.value_or(""));
            const std::string size = human_size(t.file_size.value_or(0));
            const std::string time = seconds(t.conversion_time.value_or(0.0));
            text += "   Status: success\n";
            text += "   Download: " + link + "\n";
            text += "   File size: " + size + "\n";
            text += "   Conversion time: " + time + "\n\n";
            html += "Status: success<br>\n";
            html += "Download: <a href=\"" + html_escape(link) + "\">" +
                    html_escape(t.object_key.value_or("file")) + "</a><br>\n";
            html += "File size: " + size + "<br>\n";
            html += "Conversion time: " + time + "</p></li>\n";
        } else {
            const std::string error = t.error.value_or("The conversion failed.");
            text += "   Status: failed\n";
            text += "   Error: " + error + "\n\n";
            html += "Status: failed<br>\n";
            html += "Error: " + html_escape(error) + "</p></li>\n";
        }
    }
    const char* expiry =
        "Download links are temporary and will expire: download the files promptly. "
        "Fresh links are available from GET /v1/convert/status/";
    text += std::string(expiry) + job.id + "\n";
    html += "</ol>\n<p>" + html_escape(expiry + job.id) + "</p>\n</body></html>\n";
    p.text = std::move(text);
    p.html = std::move(html);
    return p;
}

std::string compose_mime(const EmailParts& parts) {
    if (!valid_mailbox(parts.from)) throw std::invalid_argument("invalid sender address");
    if (!valid_mailbox(parts.to)) throw std::invalid_argument("invalid recipient address");
    ensure_gmime();

    GPtr<GMimeMessage> msg(g_mime_message_new(TRUE));
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, "enconvert", parts.from.c_str());
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, nullptr, parts.to.c_str());
    // GMime encodes non-ASCII subjects as RFC 2047 encoded-words and folds
    // long lines; a CR or LF in the text cannot start a new header.
    g_mime_message_set_subject(msg.get(), parts.subject.c_str(), "utf-8");

    const auto unix_s =
        std::chrono::duration_cast<std::chrono::seconds>(parts.date.time_since_epoch()).count();
    std::unique_ptr<GDateTime, DateTimeUnref> date(g_date_time_new_from_unix_utc(unix_s));
    g_mime_message_set_date(msg.get(), date.get());
    std::unique_ptr<char, GFree> msgid(
        g_mime_utils_generate_message_id(domain_of(parts.from).c_str()));
    g_mime_message_set_message_id(msg.get(), msgid.get());

    GPtr<GMimeMultipart> alt(g_mime_multipart_new_with_subtype("alternative"));
    // Least preferred first (RFC 2046): plain text, then HTML.
    GPtr<GMimeTextPart> plain = text_part("plain", parts.text);
    GPtr<GMimeTextPart> html = text_part("html", parts.html);
    g_mime_multipart_add(alt.get(), GMIME_OBJECT(plain.get()));  // takes its own ref
    g_mime_multipart_add(alt.get(), GMIME_OBJECT(html.get()));
    g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(alt.get()));

    std::unique_ptr<GMimeFormatOptions, FormatOptionsFree> fmt(g_mime_format_options_new());
    // Bodies are composed with LF; SMTP wants CRLF and .eml files use the
    // same bytes.
    g_mime_format_options_set_newline_format(fmt.get(), GMIME_NEWLINE_FORMAT_DOS);
    std::unique_ptr<char, GFree> out(g_mime_object_to_string(GMIME_OBJECT(msg.get()), fmt.get()));
    if (!out) throw std::runtime_error("GMime could not serialise the message");
    return std::string(out.get());
}

}  // namespace enconvert::notify
