#include "render_child/pdf/text_locator.h"

#include <gtest/gtest.h>

#include <random>

using namespace enconvert::render_child::pdf;

namespace {

// `n` glyphs of 'a' and 'b' in a fixed random order, on one page.
PageText ab_text(std::size_t n) {
    PageText text;
    std::mt19937 random(7);
    for (std::size_t i = 0; i < n; ++i)
        text.glyphs.push_back({random() % 2 ? U'a' : U'b', 0, 0, 0, 1, 1});
    text.page_heights = {842};
    return text;
}

std::u32string slice(const PageText& text, std::size_t from, std::size_t n) {
    std::u32string s;
    for (std::size_t i = from; i < from + n; ++i) s += text.glyphs[i].c;
    return s;
}

}  // namespace

// Distinct link texts over a tiny alphabet (a page of 20,000 links in 'a'
// and 'b'): from the rarest character, every search compared the needle at
// half the glyphs, 97 s for the page on the child's work thread. Looked up
// by their rarest run of kGram characters, a few hundredths of that.
TEST(TextLocator, ASearchOverATinyAlphabetLooksAtFewPlaces) {
    const PageText text = ab_text(200'000);
    const PageGeometry geometry{842, 0, 842};
    const TextLocator locator(text, geometry);
    const std::u32string needle = slice(text, 123'456, TextLocator::kWholeNeedle);
    const std::vector<Span> found = locator.find_all(needle);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().first, 123'456);
    EXPECT_EQ(found.front().last, 123'456 + static_cast<int>(TextLocator::kWholeNeedle) - 1);
    EXPECT_LT(locator.candidates_checked(), text.glyphs.size() / 64);
}

// The same places as comparing everywhere, for long and short needles
// (each letter printed more than kFewPlaces times: long ones go by runs).
TEST(TextLocator, FindsEveryOccurrenceAsAFullScanWould) {
    const PageText text = ab_text(20'000);
    const PageGeometry geometry{842, 0, 842};
    const TextLocator locator(text, geometry);
    for (std::size_t length : {3, 7, 8, 12, 48}) {
        const std::u32string needle = slice(text, 1'000, length);
        std::vector<int> expected;
        for (std::size_t s = 0; s + length <= text.glyphs.size(); ++s)
            if (slice(text, s, length) == needle) expected.push_back(static_cast<int>(s));
        std::vector<int> got;
        for (const Span& span : locator.find_all(needle)) got.push_back(span.first);
        EXPECT_EQ(got, expected) << length;
    }
    EXPECT_TRUE(locator.find_all(U"abc").empty());                    // a character never printed
    EXPECT_TRUE(locator.find_all(std::u32string(40, U'a')).empty());  // a run never printed
}

// 20,000 distinct link texts sharing a head and a tail of 48 'a's, over two
// million printed 'a's: each search compared the head at every place and
// returned two million occurrences (hours on the child's work thread). The
// searches of a document share a budget (here a tenth of the real one, to
// keep the test short); past it they find nothing.
TEST(TextLocator, SearchesStopAtTheDocumentsBudget) {
    PageText text;
    text.glyphs.assign(2'000'000, Glyph{U'a', 0, 0, 0, 1, 1});
    text.page_heights = {842};
    const PageGeometry geometry{842, 0, 842};
    constexpr std::uint64_t kBudget = TextLocator::kMaxWork / 10;
    const TextLocator locator(text, geometry, kBudget);
    const std::u32string run(TextLocator::kWholeNeedle, U'a');
    std::size_t found = 0;
    for (int i = 0; i < 20'000; ++i) {
        std::u32string needle = run;
        for (char c : std::to_string(i)) needle += static_cast<char32_t>(c);
        needle += run;
        found += locator.find_all(needle).size();
    }
    EXPECT_TRUE(locator.budget_spent());
    EXPECT_LE(locator.candidates_checked(), kBudget);
    EXPECT_LE(found, kBudget);
    // A short text is not searched either once the budget is spent.
    EXPECT_TRUE(locator.find_all(U"aaa").empty());
}

// An ordinary document stays far inside the budget.
TEST(TextLocator, AnOrdinarySearchLeavesTheBudgetAlone) {
    const PageText text = ab_text(200'000);
    const PageGeometry geometry{842, 0, 842};
    const TextLocator locator(text, geometry);
    for (std::size_t from = 0; from < 100'000; from += 1'000)
        EXPECT_FALSE(locator.find_all(slice(text, from, 60)).empty());
    EXPECT_FALSE(locator.budget_spent());
}
