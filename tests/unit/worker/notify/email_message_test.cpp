#include "notify/email_message.h"

#include <gtest/gtest.h>

#include <regex>

#include "job_fixtures.h"

using namespace enconvert;

namespace {

std::string headers_of(const std::string& msg) {
    return msg.substr(0, msg.find("\r\n\r\n") + 2);
}

// Undoes quoted-printable soft breaks and =XX escapes, enough to search text.
std::string unqp(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < s.size() && std::isxdigit(s[i + 1]) &&
                   std::isxdigit(s[i + 2])) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

TEST(EmailMessageTest, ContentListsEverythingThePagePromises) {
    const storage::Presigner presigner("secret", "", 3600);
    const auto parts = notify::notification_email_parts(test_support::three_task_job(), presigner,
                                                        "enconvert@localhost", "team@example.com");
    EXPECT_EQ(parts.subject, "enconvert job batch_0123456789abcdef0123456789abcdef: success");
    for (const std::string* body : {&parts.text, &parts.html}) {
        EXPECT_NE(body->find("batch_0123456789abcdef0123456789abcdef"), std::string::npos);
        EXPECT_NE(body->find("success"), std::string::npos);
        EXPECT_NE(body->find("https://example.com/page-1"), std::string::npos);
        EXPECT_NE(body->find("https://example.com/page-2"), std::string::npos);
        EXPECT_NE(body->find("https://invalid-url.example"), std::string::npos);
        EXPECT_NE(body->find("Failed to load page: net::ERR_NAME_NOT_RESOLVED"), std::string::npos);
        EXPECT_NE(body->find("184320 bytes"), std::string::npos);
        EXPECT_NE(body->find("210944 bytes"), std::string::npos);
        EXPECT_NE(body->find("3.12 s"), std::string::npos);
        EXPECT_NE(body->find("4.55 s"), std::string::npos);
        EXPECT_NE(
            body->find("https://api.example.com/v1/files/live/files/abc123/url-to-pdf/page-1_"),
            std::string::npos);
    }
    EXPECT_NE(parts.text.find("Final status: success (2 of 3 URLs converted)"), std::string::npos);
}

TEST(EmailMessageTest, FailedJobSaysFailed) {
    db::JobView job = test_support::three_task_job();
    job.status = "failed";
    job.tasks = {job.tasks[2]};
    const auto parts = notify::notification_email_parts(job, storage::Presigner("s", "", 60),
                                                        "a@b.example", "c@d.example");
    EXPECT_EQ(parts.subject, "enconvert job batch_0123456789abcdef0123456789abcdef: failed");
    EXPECT_NE(parts.text.find("Final status: failed (0 of 1 URL converted)"), std::string::npos);
}

TEST(EmailMessageTest, AWebsiteCaptureThatFoundNoPageNamesItsUrlAndWhy) {
    // Discovery failed: the job has no task. Before, the mail said "0 of 0
    // URLs converted" and named neither the submitted URL nor the reason.
    const db::JobView job = test_support::failed_discovery_job(
        "no_sitemap", "No sitemap was found at https://example.com/sitemap.xml.");
    const auto parts = notify::notification_email_parts(job, storage::Presigner("s", "", 60),
                                                        "a@b.example", "c@d.example");
    EXPECT_NE(parts.text.find("Final status: failed (0 of 1 URL converted)"), std::string::npos)
        << parts.text;
    for (const std::string* body : {&parts.text, &parts.html}) {
        EXPECT_NE(body->find("https://example.com/site/"), std::string::npos) << *body;
        EXPECT_NE(body->find("No sitemap was found at https://example.com/sitemap.xml."),
                  std::string::npos)
            << *body;
    }
}

TEST(EmailMessageTest, MimeHeadersAndAlternativeParts) {
    notify::EmailParts p;
    p.from = "enconvert@mail.example";
    p.to = "team@example.com";
    p.subject = "enconvert job job_1: success";
    p.text = "plain body\n";
    p.html = "<p>html body</p>\n";
    const std::string msg = notify::compose_mime(p);
    const std::string h = headers_of(msg);
    EXPECT_NE(h.find("From: enconvert <enconvert@mail.example>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("To: team@example.com\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("Subject: enconvert job job_1: success\r\n"), std::string::npos) << h;
    EXPECT_TRUE(
        std::regex_search(h, std::regex("(^|\r\n)Date: [A-Z][a-z]{2}, \\d{1,2} [A-Z][a-z]{2} "
                                        "\\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\r\n")))
        << h;
    EXPECT_TRUE(std::regex_search(
        h, std::regex("\r\nMessage-Id: <[^@>]+@mail\\.example>\r\n", std::regex::icase)))
        << h;
    EXPECT_NE(h.find("MIME-Version: 1.0"), std::string::npos);
    EXPECT_NE(h.find("multipart/alternative"), std::string::npos);
    const auto plain = msg.find("Content-Type: text/plain");
    const auto html = msg.find("Content-Type: text/html");
    ASSERT_NE(plain, std::string::npos);
    ASSERT_NE(html, std::string::npos);
    EXPECT_LT(plain, html);  // least preferred first
    // Every line ends in CRLF and no line exceeds SMTP's limit.
    for (std::size_t i = 0; i < msg.size(); ++i) {
        if (msg[i] == '\n') {
            ASSERT_TRUE(i > 0 && msg[i - 1] == '\r') << "bare LF at " << i;
        }
    }
}

TEST(EmailMessageTest, NonAsciiIsEncoded) {
    notify::EmailParts p;
    p.from = "enconvert@localhost";
    p.to = "team@example.com";
    p.subject = "Überprüfung fertig ✓";
    p.text = "Straße: https://example.com/straße\n" + std::string(300, 'x') + "\n";
    p.html = "<p>Straße</p>\n";
    const std::string msg = notify::compose_mime(p);
    for (unsigned char c : msg) ASSERT_LT(c, 0x80) << "raw 8-bit byte in the message";
    const std::string h = headers_of(msg);
    EXPECT_TRUE(std::regex_search(h, std::regex("Subject: =\\?(utf-8|UTF-8)\\?[bBqQ]\\?"))) << h;
    EXPECT_NE(msg.find("charset=utf-8"), std::string::npos) << msg;
    EXPECT_NE(unqp(msg).find("Straße: https://example.com/straße"), std::string::npos);
    std::size_t start = 0;
    while (start < msg.size()) {
        const auto end = msg.find("\r\n", start);
        ASSERT_LE((end == std::string::npos ? msg.size() : end) - start, 998u);
        if (end == std::string::npos) break;
        start = end + 2;
    }
}

TEST(EmailMessageTest, AddressesCannotInjectHeaders) {
    EXPECT_TRUE(notify::valid_mailbox("team@yourcompany.com"));
    for (const char* bad :
         {"a@b.c\r\nBcc: evil@x.example", "a@b.c\nBcc: x@y.z", "a@b.c\r", "Team <a@b.c>",
          "a@b.c, c@d.e", "a b@c.d", "", "nobody", "a@@b.c", "a@b.c;d@e.f", "@b.c", "a@"}) {
        EXPECT_FALSE(notify::valid_mailbox(bad)) << bad;
        notify::EmailParts p;
        p.from = "enconvert@localhost";
        p.to = bad;
        p.subject = "s";
        EXPECT_THROW(notify::compose_mime(p), std::invalid_argument) << bad;
    }
}

TEST(EmailMessageTest, LineBreaksInSubjectDoNotStartHeaders) {
    notify::EmailParts p;
    p.from = "enconvert@localhost";
    p.to = "team@example.com";
    p.subject = "hello\r\nBcc: evil@attacker.example";
    p.text = "x\n";
    p.html = "<p>x</p>\n";
    const std::string h = headers_of(notify::compose_mime(p));
    EXPECT_EQ(h.find("\r\nBcc:"), std::string::npos) << h;
}
