// The completion email: what it says (notification_email_parts) and its MIME
// form (compose_mime, built with GMime so headers are folded and non-ASCII
// text is RFC 2047 / transfer-encoded correctly).
#pragma once

#include <chrono>
#include <string>

#include "db/job_types.h"
#include "storage/presign.h"

namespace enconvert::notify {

struct EmailParts {
    std::string from;  // plain address, checked with valid_mailbox
    std::string to;    // plain address, checked with valid_mailbox
    std::string subject;
    std::string text;  // UTF-8 plain-text body
    std::string html;  // UTF-8 HTML body, same content
    std::chrono::system_clock::time_point date = std::chrono::system_clock::now();
};

// A bare address "local@domain" as the API accepts it: no display name, no
// CR/LF or other control characters, no spaces or <>,;" and RFC 5321 lengths.
// Anything else could smuggle headers or extra recipients.
bool valid_mailbox(const std::string& address);

// Job id, final status, every submitted URL, a presigned link per successful
// file, the error per failed URL, conversion time and file size per result.
EmailParts notification_email_parts(const db::JobView& job, const storage::Presigner& presigner,
                                    const std::string& from, const std::string& to);

// RFC 5322 message with Date, Message-ID, From, To, Subject, MIME-Version and
// a multipart/alternative body (text/plain, text/html), CRLF line ends.
// Throws std::invalid_argument if from or to is not a valid_mailbox.
std::string compose_mime(const EmailParts& parts);

}  // namespace enconvert::notify
