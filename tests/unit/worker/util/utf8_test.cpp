#include "util/utf8.h"

#include <gtest/gtest.h>

using enconvert::util::valid_utf8;

TEST(ValidUtf8, KeepsValidText) {
    EXPECT_EQ(valid_utf8("text/html; charset=utf-8"), "text/html; charset=utf-8");
    EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
    EXPECT_EQ(valid_utf8(""), "");
}

TEST(ValidUtf8, ReplacesInvalidSequencesAndNulBytes) {
    EXPECT_EQ(valid_utf8("image/\xFF"), "image/\xEF\xBF\xBD");
    EXPECT_EQ(valid_utf8("a\xC3"), "a\xEF\xBF\xBD");  // cut in the middle
    EXPECT_EQ(valid_utf8(std::string("a\0b", 3)),
              "a\xEF\xBF\xBD"
              "b");
}
