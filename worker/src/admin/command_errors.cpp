#include "admin/command_errors.h"

#include <exception>
#include <pqxx/pqxx>

#include "config/worker_config.h"

namespace enconvert::admin {

int run_guarded(std::ostream& err, const std::function<int()>& body,
                const std::string& failure_prefix) {
    try {
        return body();
    } catch (const config::ConfigError& e) {
        err << "enconvert-worker: " << e.what() << "\n";
        return 2;
    } catch (const pqxx::broken_connection&) {
        err << "enconvert-worker: cannot connect to the database (check database_url)\n";
        return 1;
    } catch (const std::exception& e) {
        err << "enconvert-worker: " << failure_prefix << e.what() << "\n";
        return 1;
    }
}

}  // namespace enconvert::admin
