#include "api_error.h"

#include <gtest/gtest.h>

using namespace enconvert::cli;

TEST(ApiError, ExitCodeFollowsTheKindOfAnswer) {
    EXPECT_EQ(exit_code_for_status(401), ExitCode::authentication);
    EXPECT_EQ(exit_code_for_status(403), ExitCode::authentication);
    EXPECT_EQ(exit_code_for_status(404), ExitCode::not_found);
    for (long status : {400, 405, 409, 413, 414, 415, 422, 429}) {
        EXPECT_EQ(exit_code_for_status(status), ExitCode::request_refused) << status;
    }
    for (long status : {500, 502, 503, 504, 301, 200, 0}) {
        EXPECT_EQ(exit_code_for_status(status), ExitCode::server_error) << status;
    }
}

TEST(ApiError, ExitCodesAreDistinct) {
    const ExitCode all[] = {ExitCode::ok,
                            ExitCode::conversions_failed,
                            ExitCode::usage,
                            ExitCode::authentication,
                            ExitCode::request_refused,
                            ExitCode::server_error,
                            ExitCode::network,
                            ExitCode::not_found,
                            ExitCode::local_file,
                            ExitCode::internal};
    for (std::size_t i = 0; i < std::size(all); ++i) {
        EXPECT_EQ(as_int(all[i]), static_cast<int>(i));
    }
}

TEST(ApiError, DescribesTheApiErrorShape) {
    const HttpAnswer answer{401, R"({"success":false,"error":"invalid_api_key",)"
                                 R"("detail":"The API key is not valid or has been revoked."})"};
    EXPECT_EQ(describe_answer(answer),
              "The API key is not valid or has been revoked. (invalid_api_key, HTTP 401)");
}

TEST(ApiError, NamesTheFieldWhenTheSentenceDoesNot) {
    EXPECT_EQ(describe_answer({400, R"({"error":"invalid_type","detail":"must be a boolean",)"
                                    R"("field":"async_mode"})"}),
              "async_mode: must be a boolean (invalid_type, HTTP 400)");
    EXPECT_EQ(describe_answer({400, R"({"error":"invalid_url",)"
                                    R"("detail":"url[2]: scheme must be http or https",)"
                                    R"("field":"url[2]"})"}),
              "url[2]: scheme must be http or https (invalid_url, HTTP 400)");
}

TEST(ApiError, AnswersWithoutTheShapeFallBackOnTheStatus) {
    for (const char* body : {"", "<html>Bad Gateway</html>", "[1]", R"({"error":7})"}) {
        EXPECT_EQ(describe_answer({502, body}),
                  "the server answered HTTP 502 without an enconvert error "
                  "(is ENCONVERT_URL the API's base URL?)")
            << body;
    }
}

TEST(ApiError, IsAlwaysOneLine) {
    const std::string line =
        describe_answer({400, R"({"error":"invalid_value","detail":"first\nsecond\r\tthird"})"});
    EXPECT_EQ(line, "first second  third (invalid_value, HTTP 400)");
    EXPECT_EQ(one_line(std::string(1000, 'x'), 10), std::string(10, 'x') + "…");
    // A cut never splits a UTF-8 character.
    EXPECT_EQ(one_line("aé", 2), "a…");
}

TEST(ApiError, CarriesContextAndCode) {
    const CliError error =
        api_error("status of job_1", {404, R"({"error":"job_not_found","detail":"No job."})"});
    EXPECT_EQ(error.code(), ExitCode::not_found);
    EXPECT_STREQ(error.what(), "status of job_1: No job. (job_not_found, HTTP 404)");
}
