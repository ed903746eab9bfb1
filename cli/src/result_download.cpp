#include "result_download.h"

#include <system_error>

#include "api_error.h"
#include "cli_error.h"

namespace enconvert::cli {

namespace {

// Removes a partial download unless it was kept.
class PartFile {
  public:
    explicit PartFile(std::filesystem::path path) : path_(std::move(path)) {}
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;
    ~PartFile() {
        if (!kept_) {
            std::error_code ignored;
            std::filesystem::remove(path_, ignored);
        }
    }
    const std::filesystem::path& path() const { return path_; }
    void keep() { kept_ = true; }

  private:
    std::filesystem::path path_;
    bool kept_ = false;
};

}  // namespace

void prepare_output_dir(const std::filesystem::path& dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
        throw CliError(ExitCode::local_file, "cannot create the output directory " + dir.string() +
                                                 ": " + error.message());
    }
    if (!std::filesystem::is_directory(dir, error)) {
        throw CliError(ExitCode::local_file, dir.string() + " is not a directory");
    }
}

std::filesystem::path download_result(HttpClient& http, const TaskResult& task,
                                      const std::filesystem::path& dir, const std::string& name) {
    const std::filesystem::path target = dir / name;
    PartFile part(dir / ("." + name + ".part"));
    const HttpAnswer answer = http.download(task.presigned_url, part.path());
    if (answer.status != 200) throw api_error("download of " + name, answer);

    std::error_code error;
    const auto size = std::filesystem::file_size(part.path(), error);
    if (!error && task.file_size > 0 && size != static_cast<std::uintmax_t>(task.file_size)) {
        throw CliError(ExitCode::network, "download of " + name +
                                              " is incomplete: " + std::to_string(size) + " of " +
                                              std::to_string(task.file_size) + " bytes");
    }
    std::filesystem::rename(part.path(), target, error);
    if (error) {
        throw CliError(ExitCode::local_file,
                       "cannot write " + target.string() + ": " + error.message());
    }
    part.keep();
    return target;
}

}  // namespace enconvert::cli
