#include "result_files.h"

#include <gtest/gtest.h>

using namespace enconvert::cli;

namespace {

TaskResult success(const std::string& object_key) {
    TaskResult task;
    task.status = "success";
    task.object_key = object_key;
    return task;
}

TaskResult with_status(const std::string& status) {
    TaskResult task;
    task.status = status;
    return task;
}

}  // namespace

TEST(ResultFiles, NameIsTheStoredNameWithoutStampAndTaskId) {
    EXPECT_EQ(file_name_for("live/files/3f9c/url-to-pdf/example-com_20261202T082155Z_41.pdf"),
              "example-com.pdf");
    EXPECT_EQ(file_name_for("live/files/3f9c/url-to-screenshot/my_page_20261202T082155Z_7.png"),
              "my_page.png");
    EXPECT_EQ(file_name_for("live/files/a/url-to-screenshot/shot_20260101T000000Z_12345.jpg"),
              "shot.jpg");
    // A file of a task's second attempt (after a crash or a lost lease).
    EXPECT_EQ(file_name_for("live/files/3f9c/url-to-pdf/example-com_20261202T082155Z_41-2.pdf"),
              "example-com.pdf");
}

TEST(ResultFiles, OtherShapesKeepTheLastSegment) {
    EXPECT_EQ(file_name_for("live/files/a/url-to-pdf/report.pdf"), "report.pdf");
    EXPECT_EQ(file_name_for("report_2026_1.pdf"), "report_2026_1.pdf");
}

TEST(ResultFiles, NeverAPathOrAHiddenFile) {
    EXPECT_EQ(file_name_for("../../etc/passwd"), "passwd");
    EXPECT_EQ(file_name_for("a/.."), "file");
    EXPECT_EQ(file_name_for(".hidden.pdf"), "hidden.pdf");
    EXPECT_EQ(file_name_for(""), "file");
    EXPECT_EQ(file_name_for("a/b c\\d.pdf"), "b_c_d.pdf");
}

TEST(ResultFiles, SharedNamesGetThePlaceOfTheirUrl) {
    const std::vector<TaskResult> tasks = {
        success("k/host-a_20260101T000000Z_1.pdf"), with_status("failed"),
        success("k/host-a_20260101T000000Z_3.pdf"), success("k/host-b_20260101T000000Z_4.pdf")};
    EXPECT_EQ(file_names_for(tasks),
              (std::vector<std::string>{"host-a-1.pdf", "", "host-a-3.pdf", "host-b.pdf"}));
}

TEST(ResultFiles, OnlyFinishedTasksHaveNames) {
    EXPECT_EQ(file_names_for({with_status("pending"), with_status("processing")}),
              (std::vector<std::string>{"", ""}));
}

TEST(ResultFiles, SuffixedNamesStayUnique) {
    // "a.pdf" twice becomes a-1/a-2, and "a-2.pdf" is also some URL's own name.
    const std::vector<TaskResult> tasks = {success("k/a_20260101T000000Z_1.pdf"),
                                           success("k/a-2_20260101T000000Z_2.pdf"),
                                           success("k/a_20260101T000000Z_3.pdf")};
    const auto names = file_names_for(tasks);
    EXPECT_EQ(names[0], "a-1.pdf");
    EXPECT_EQ(names[1], "a-2.pdf");
    EXPECT_EQ(names[2], "a-3.pdf");
    const std::vector<TaskResult> clash = {success("k/a_20260101T000000Z_1.pdf"),
                                           success("k/a_20260101T000000Z_2.pdf"),
                                           success("k/a-2_20260101T000000Z_3.pdf")};
    const auto clash_names = file_names_for(clash);
    EXPECT_EQ(clash_names[0], "a-1.pdf");
    EXPECT_EQ(clash_names[1], "a-2.pdf");
    EXPECT_EQ(clash_names[2], "a-2-3.pdf");
}
