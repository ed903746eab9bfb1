#include "crawl/url_pattern.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace enconvert::crawl {
namespace {

using Result = UrlPattern::Result;

// "/aaa…a!": no match, found only after trying every way of splitting the
// a's between the alternatives (2^n with a backtracking engine).
std::string runaway_path(std::size_t as) {
    return "/" + std::string(as, 'a') + "!";
}

TEST(UrlPattern, SearchesUnanchored) {
    UrlPattern p("docs/[a-z]+");
    EXPECT_EQ(p.search("/v2/docs/intro?x=1"), Result::match);
    EXPECT_EQ(p.search("/v2/blog/intro"), Result::no_match);
}

TEST(UrlPattern, IgnoreCase) {
    EXPECT_EQ(UrlPattern("\\.png$", true).search("/LOGO.PNG"), Result::match);
    EXPECT_EQ(UrlPattern("\\.png$").search("/LOGO.PNG"), Result::no_match);
}

TEST(UrlPattern, CatastrophicBacktrackingGivesUp) {
    // std::regex took 1 s on 24 a's and four times as long for every two
    // more; this one would run for longer than the universe has.
    UrlPattern p("^/(a|a)*$");
    EXPECT_EQ(p.search(runaway_path(60)), Result::gave_up);
    EXPECT_EQ(p.search(runaway_path(2000)), Result::gave_up);
    EXPECT_EQ(UrlPattern("(a|aa)+$").search(runaway_path(2000)), Result::gave_up);
    EXPECT_EQ(p.search("/" + std::string(60, 'a')), Result::match);  // the easy answer
}

TEST(UrlPattern, EcmaScriptReadingsOfTheConstructsWherePerlDiffers) {
    // $ is the very end, not before a final newline.
    EXPECT_EQ(UrlPattern("a$").search("/a\n"), Result::no_match);
    // \u is a code unit escape; [^] is any character; [] never matches.
    EXPECT_EQ(UrlPattern("\\u0041").search("/A"), Result::match);
    EXPECT_EQ(UrlPattern("^/[^]$").search("/x"), Result::match);
    EXPECT_EQ(UrlPattern("[]").search("/x"), Result::no_match);
    // A back-reference to a group that did not take part matches nothing.
    EXPECT_EQ(UrlPattern("^/(x)?\\1y").search("/y"), Result::match);
}

TEST(UrlPattern, InvalidPatternsSayWhy) {
    try {
        UrlPattern p("(unclosed");
        FAIL() << "compiled";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("missing closing parenthesis"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("offset 9"), std::string::npos) << e.what();
    }
    EXPECT_THROW(UrlPattern("*starts-with-star"), std::invalid_argument);
    EXPECT_THROW(UrlPattern("[a-"), std::invalid_argument);
}

}  // namespace
}  // namespace enconvert::crawl
