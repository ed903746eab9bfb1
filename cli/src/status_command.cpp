#include "status_command.h"

#include "exit_codes.h"
#include "status_report.h"

namespace enconvert::cli {

int run_status(const StatusOptions& options, ApiClient& api, std::ostream& out) {
    const nlohmann::ordered_json answer = api.status_answer(options.job_id);
    if (options.json) {
        out << answer.dump(2) << '\n';
    } else {
        out << status_report(parse_job_status(answer));
    }
    return as_int(ExitCode::ok);
}

}  // namespace enconvert::cli
