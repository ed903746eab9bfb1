#include "admin/migrate_command.h"

#include <pqxx/pqxx>

#include "admin/command_errors.h"
#include "config/install_paths.h"
#include "config/worker_config.h"
#include "db/connection_defaults.h"
#include "db/migrations.h"

namespace enconvert::admin {

int run_migrate_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
    return run_guarded(
        err,
        [&] {
            const auto cfg = config::parse_worker_config(args, config::ConfigPurpose::admin, "");
            const std::string dir =
                cfg.schema_dir.empty() ? config::installed_schema_dir() : cfg.schema_dir;
            pqxx::connection conn(db::with_connection_defaults(cfg.database_url, "migrate"));
            try {
                const auto applied = db::apply_migrations(conn, dir);
                for (const auto& v : applied) out << "applied " << v << "\n";
                out << "schema is at version " << db::known_migrations(dir).back()
                    << (applied.empty() ? " (already up to date)" : "") << "\n";
                return 0;
            } catch (const db::MigrationError& e) {
                // A newer database or a missing schema: its own sentence.
                err << "enconvert-worker: " << e.what() << "\n";
                return 1;
            }
        },
        "migration failed: ");
}

}  // namespace enconvert::admin
