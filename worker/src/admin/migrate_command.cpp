#include "admin/migrate_command.h"

#include <pqxx/pqxx>

#include "config/install_paths.h"
#include "config/worker_config.h"
#include "db/migrations.h"

namespace enconvert::admin {

int run_migrate_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
    try {
        const auto cfg = config::parse_worker_config(args, config::ConfigPurpose::admin, "");
        const std::string dir =
            cfg.schema_dir.empty() ? config::installed_schema_dir() : cfg.schema_dir;
        pqxx::connection conn(cfg.database_url);
        const auto applied = db::apply_migrations(conn, dir);
        for (const auto& v : applied) out << "applied " << v << "\n";
        const auto known = db::known_migrations(dir);
        out << "schema is at version " << known.back()
            << (applied.empty() ? " (already up to date)" : "") << "\n";
        return 0;
    } catch (const config::ConfigError& e) {
        err << "enconvert-worker: " << e.what() << "\n";
        return 2;
    } catch (const pqxx::broken_connection&) {
        err << "enconvert-worker: cannot connect to the database (check database_url)\n";
        return 1;
    } catch (const db::MigrationError& e) {
        err << "enconvert-worker: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        err << "enconvert-worker: migration failed: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace enconvert::admin
