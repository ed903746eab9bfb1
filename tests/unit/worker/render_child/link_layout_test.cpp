// What the prepare script measured, as the renderer reads it: the bounds
// on links' boxes hold on this side too, and single_page's height is read
// without parsing the facts.
#include "render_child/link_layout.h"

#include <gtest/gtest.h>

#include <string>

namespace enconvert::render_child {
namespace {

using nlohmann::json;

json link_with_boxes(const std::string& href, std::size_t boxes) {
    json item = {{"kind", "link"}, {"href", href}, {"text", ""}, {"boxes", json::array()}};
    for (std::size_t i = 0; i < boxes; ++i)
        item["boxes"].push_back(
            {{"x", 10}, {"y", 20 + static_cast<double>(i)}, {"w", 3}, {"h", 1}});
    return item;
}

TEST(MarkSources, ALinkKeepsItsFirstBoxesOnly) {
    const json facts = {{"items", {link_with_boxes("https://a.example/", 5000)}}};
    const pdf::MarkSources sources = mark_sources(facts, PdfOptions{});
    ASSERT_EQ(sources.items.size(), 1u);
    EXPECT_EQ(sources.items[0].boxes.size(), pdf::kMaxAreasPerLink);
}

TEST(MarkSources, LinksAreTakenWhileTheirBoxesFitTheDocumentsBound) {
    json facts = {{"items", json::array()}};
    const std::size_t fit = pdf::kMaxLinkAreas / pdf::kMaxAreasPerLink;
    for (std::size_t k = 0; k < fit + 3; ++k)
        facts["items"].push_back(
            link_with_boxes("https://a.example/" + std::to_string(k), pdf::kMaxAreasPerLink));
    // A heading's box does not count against the links' bound.
    facts["items"].push_back({{"kind", "heading"},
                              {"level", 1},
                              {"text", "Title"},
                              {"boxes", {{{"x", 1}, {"y", 1}, {"w", 1}, {"h", 1}}}}});
    const pdf::MarkSources sources = mark_sources(facts, PdfOptions{});
    ASSERT_EQ(sources.items.size(), fit + 1);
    EXPECT_EQ(sources.items[fit - 1].uri, "https://a.example/" + std::to_string(fit - 1));
    EXPECT_EQ(sources.items[fit].kind, pdf::MarkSource::Kind::Heading);
}

TEST(FactsHeight, IsReadFromTheStartOfTheFacts) {
    EXPECT_EQ(facts_height(R"({"height":1234.5,"items":[]})"), 1234.5);
    EXPECT_EQ(facts_height(R"({"height":800,"items":[)"), 800);  // the rest is not read
    std::string big = R"({"height":77,"items":[)";
    for (int i = 0; i < 1000; ++i) big += R"({"kind":"link","href":"x"},)";
    big += "{}]}";
    EXPECT_EQ(facts_height(big), 77);
}

TEST(FactsHeight, IsNothingWhenItIsNotTheFirstNumber) {
    EXPECT_FALSE(facts_height(R"({"items":[],"height":10})"));
    EXPECT_FALSE(facts_height(R"({"height":"10"})"));
    EXPECT_FALSE(facts_height(R"([10])"));
    EXPECT_FALSE(facts_height(""));
    EXPECT_FALSE(facts_height("not json"));
}

}  // namespace
}  // namespace enconvert::render_child
