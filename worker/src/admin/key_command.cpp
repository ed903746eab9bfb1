#include "admin/key_command.h"

#include <exception>

#include "admin/command_errors.h"
#include "auth/api_keys.h"
#include "config/worker_config.h"
#include "db/connection_defaults.h"
#include "db/key_repository.h"

namespace enconvert::admin {

namespace {

constexpr const char* kUsage =
    "usage: enconvert-worker key create --account NAME  (--config FILE | --database_url URL)\n"
    "       enconvert-worker key list                   (--config FILE | --database_url URL)\n"
    "       enconvert-worker key revoke --id N          (--config FILE | --database_url URL)\n";

// Takes "--name value" out of args; empty if absent.
std::string take_option(std::vector<std::string>& args, const std::string& name) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == name) {
            std::string v = args[i + 1];
            args.erase(args.begin() + static_cast<long>(i),
                       args.begin() + static_cast<long>(i) + 2);
            return v;
        }
    }
    return {};
}

}  // namespace

std::string create_key(pqxx::connection& conn, const std::string& account, std::ostream& out) {
    const std::string secret = auth::generate_api_key();
    const db::CreatedKey k =
        db::create_key(conn, account, auth::key_hash_hex(secret), auth::key_listing_prefix(secret));
    out << "created key " << k.key_id << " for account '" << account << "' (public id "
        << k.account_public_id << "); the secret is shown only once:\n"
        << secret << "\n";
    return secret;
}

void list_keys(pqxx::connection& conn, std::ostream& out) {
    out << "id\taccount\tprefix\tcreated\trevoked\n";
    for (const auto& k : db::list_keys(conn)) {
        out << k.id << '\t' << k.account << '\t' << k.prefix << '\t' << k.created_at << '\t'
            << k.revoked_at.value_or("-") << '\n';
    }
}

bool revoke_key(pqxx::connection& conn, long long id, std::ostream& out) {
    if (!db::revoke_key(conn, id)) return false;
    out << "revoked key " << id << "\n";
    return true;
}

int run_key_command(const std::vector<std::string>& args_in, std::ostream& out, std::ostream& err) {
    if (args_in.empty()) {
        err << kUsage;
        return 2;
    }
    const std::string sub = args_in.front();
    std::vector<std::string> args(args_in.begin() + 1, args_in.end());
    const std::string account = take_option(args, "--account");
    const std::string id_text = take_option(args, "--id");
    return run_guarded(err, [&] {
        const auto cfg = config::parse_worker_config(args, config::ConfigPurpose::admin, "");
        pqxx::connection conn(db::with_connection_defaults(cfg.database_url, "key"));
        if (sub == "create") {
            if (account.empty() || account.size() > 200) {
                err << "key create needs --account NAME (1..200 characters)\n";
                return 2;
            }
            create_key(conn, account, out);
            return 0;
        }
        if (sub == "list") {
            list_keys(conn, out);
            return 0;
        }
        if (sub == "revoke") {
            long long id = 0;
            try {
                std::size_t used = 0;
                id = std::stoll(id_text, &used);
                if (used != id_text.size()) throw std::invalid_argument("trailing");
            } catch (const std::exception&) {
                err << "key revoke needs --id N (a number)\n";
                return 2;
            }
            if (!revoke_key(conn, id, out)) {
                err << "no active key with id " << id << "\n";
                return 1;
            }
            return 0;
        }
        err << kUsage;
        return 2;
    });
}

}  // namespace enconvert::admin
