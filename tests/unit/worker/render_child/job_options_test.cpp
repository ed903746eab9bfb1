// The renderer's own check of a job's options against schema/options.json,
// the file the nginx module's tables are generated from
// (tests/module/test_schema_limits.py sends the same values to nginx): a
// value at either end of a field's limits is taken, one just outside is
// refused. A limit the renderer and the module disagree on fails here or
// there.
#include "render_child/job_options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace enconvert::render_child {
namespace {

using nlohmann::json;

// Fields the renderer never reads: only the module (and the worker, for
// the URL list) checks them.
const std::vector<std::string> kNotRendererFields = {"output_filename"};

json schema_tables() {
    std::ifstream in(ENCONVERT_OPTIONS_SCHEMA);
    return json::parse(in).at("tables");
}

// One field to probe: where it sits in the options and what must be there
// with it for the options to be valid at all.
struct Probe {
    std::string name;
    std::string format;  // "pdf" or "png"
    std::vector<std::string> path;
    json field;
};

std::vector<Probe> probes() {
    const json tables = schema_tables();
    std::vector<Probe> out;
    auto add = [&](const std::string& table, std::vector<std::string> prefix) {
        for (const json& f : tables.at(table)) {
            if (!f.contains("min") || !f.contains("max")) continue;
            const std::string name = f.at("name");
            if (std::find(kNotRendererFields.begin(), kNotRendererFields.end(), name) !=
                kNotRendererFields.end())
                continue;
            std::vector<std::string> path = prefix;
            path.push_back(name);
            std::string label;
            for (const auto& p : path) label += (label.empty() ? "" : ".") + p;
            const std::string endpoints = f.value("endpoints", "all");
            // A crawl's limits are the intake's to check
            // (request_handler_test.cpp probes them the same way).
            if (endpoints == "website") continue;
            out.push_back({label, endpoints == "screenshot" ? "png" : "pdf", path, f});
        }
    };
    add("body", {});
    add("pdf", {"pdf_options"});
    add("margin", {"pdf_options", "margins"});
    add("band", {"pdf_options", "header"});
    add("band", {"pdf_options", "footer"});
    add("metadata", {"pdf_options", "metadata"});
    return out;
}

// The value to try: a number, or for a string a text of that length.
json value_of(const json& field, double n) {
    if (field.at("type") == "string") return std::string(static_cast<std::size_t>(n), 'a');
    if (field.at("type") == "integer") return static_cast<long>(n);
    return n;
}

// Options with `value` at the probe's path, on a sheet large enough that
// any margin or band within its limits leaves room to print (a probed
// page size replaces it).
json options_with(const Probe& probe, const json& value) {
    json options = json::object();
    if (probe.format == "pdf")
        options["pdf_options"] = {{"page_width", 5080}, {"page_height", 5080}};
    // The smallest sheet prints only without margins.
    if (probe.name == "pdf_options.page_width" || probe.name == "pdf_options.page_height")
        options["pdf_options"]["margins"] = {{"top", 0}, {"right", 0}, {"bottom", 0}, {"left", 0}};
    json* at = &options;
    for (std::size_t i = 0; i + 1 < probe.path.size(); ++i) {
        json& next = (*at)[probe.path[i]];
        if (next.is_null()) next = json::object();
        at = &next;
    }
    if (probe.path.size() == 3 && (probe.path[1] == "header" || probe.path[1] == "footer") &&
        probe.path[2] != "content")
        (*at)["content"] = "x";
    (*at)[probe.path.back()] = value;
    return options;
}

std::string read(const Probe& probe, const json& value) {
    Job job;
    job.format = probe.format;
    return read_options(options_with(probe, value), job);
}

TEST(JobOptionsSchema, EveryLimitOfTheSchemaIsTheRenderers) {
    const std::vector<Probe> all = probes();
    ASSERT_GT(all.size(), 15u);
    for (const Probe& probe : all) {
        const double min = probe.field.at("min");
        const double max = probe.field.at("max");
        // Just outside: one unit for integers and lengths, a little for numbers.
        const double step = probe.field.at("type") == "number" ? 0.001 : 1;
        EXPECT_EQ(read(probe, value_of(probe.field, min)), "") << probe.name << " = " << min;
        EXPECT_EQ(read(probe, value_of(probe.field, max)), "") << probe.name << " = " << max;
        EXPECT_NE(read(probe, value_of(probe.field, max + step)), "")
            << probe.name << " = " << max + step << " was taken";
        if (probe.field.at("type") != "string" || min > 0) {
            EXPECT_NE(read(probe, value_of(probe.field, min - step)), "")
                << probe.name << " = " << min - step << " was taken";
        }
    }
}

}  // namespace
}  // namespace enconvert::render_child

namespace enconvert::render_child {

// The vendor's SDKs type a band's content as optional and may send only its
// height; the hosted service keeps such a band empty.
TEST(JobOptions, ABandWithoutContentKeepsItsRoomEmpty) {
    Job job;
    job.format = "pdf";
    EXPECT_EQ(read_options({{"pdf_options", {{"header", {{"height", 20}}}}}}, job), "");
    ASSERT_TRUE(job.pdf.header.has_value());
    EXPECT_EQ(job.pdf.header->content, "");
    EXPECT_EQ(job.pdf.header->height_mm, 20);
    // Without a height: 15 mm, the hosted service's default.
    Job plain;
    plain.format = "pdf";
    EXPECT_EQ(read_options({{"pdf_options", {{"footer", {{"content", "x"}}}}}}, plain), "");
    ASSERT_TRUE(plain.pdf.footer.has_value());
    EXPECT_EQ(plain.pdf.footer->height_mm, 15);
    Job bad;
    bad.format = "pdf";
    EXPECT_EQ(read_options({{"pdf_options", {{"footer", {{"content", 5}}}}}}, bad),
              "pdf_options.footer.content must be a string of HTML");
}

// As the hosted service, which lower-cases it.
TEST(JobOptions, OrientationIsMatchedIgnoringCase) {
    for (const char* given : {"landscape", "Landscape", "LANDSCAPE"}) {
        Job job;
        job.format = "pdf";
        EXPECT_EQ(read_options({{"pdf_options", {{"orientation", given}}}}, job), "") << given;
        EXPECT_TRUE(job.pdf.landscape) << given;
    }
    Job portrait;
    portrait.format = "pdf";
    EXPECT_EQ(read_options({{"pdf_options", {{"orientation", "Portrait"}}}}, portrait), "");
    EXPECT_FALSE(portrait.pdf.landscape);
    Job bad;
    bad.format = "pdf";
    EXPECT_EQ(read_options({{"pdf_options", {{"orientation", "sideways"}}}}, bad),
              "pdf_options.orientation must be \"portrait\" or \"landscape\"");
}

// layout_width "viewport" replaces `scale` with printable width over
// viewport width: a narrow viewport on a very wide sheet enlarged the page
// 60 times, a document of thousands of sheets a CSS px tall each. A
// phone's viewport on A4 or A3 is a common request and stays allowed.
TEST(JobOptions, LayingOutAtTheViewportEnlargesAtMostFourTimes) {
    const auto read = [](int viewport_width, double page_width_mm, Job& job) {
        job.format = "pdf";
        return read_options({{"viewport_width", viewport_width},
                             {"pdf_options",
                              {{"layout_width", "viewport"},
                               {"page_width", page_width_mm},
                               {"page_height", 297},
                               {"margins", {{"left", 0}, {"right", 0}}}}}},
                            job);
    };
    Job wide;
    EXPECT_EQ(read(320, 5080, wide),
              "pdf_options.layout_width \"viewport\" would print the page 60.0 times its size "
              "(the printable width is 19200 CSS px, viewport_width 320); at most 4: a wider "
              "viewport_width or a narrower page");
    Job phone_on_a3;  // 1122 CSS px onto 320: 3.5 times, allowed
    EXPECT_EQ(read(320, 297, phone_on_a3), "");
    EXPECT_GT(phone_on_a3.pdf.scale, 3.4);
    Job a4;  // 794 CSS px onto a 1024 px viewport: shrunk
    EXPECT_EQ(read(1024, 210, a4), "");
    EXPECT_NEAR(a4.pdf.scale, 793.7 / 1024, 0.01);
    Job four;  // 2245 CSS px onto 562: just within 4 times
    EXPECT_EQ(read(562, 594, four), "");
    EXPECT_LE(four.pdf.scale, 4.0);
    Job over;  // onto 561: just past it
    EXPECT_NE(read(561, 594, over), "");
    Job tiny;  // a 7680 px viewport on A4: shrunk below 0.1, let be
    EXPECT_EQ(read(7680, 210, tiny), "");
    EXPECT_LT(tiny.pdf.scale, 0.11);
}

// The renderer, shared by other tenants' jobs, checks the request limits
// of cookies and auth itself instead of taking the module's word: an
// expires of 1e300 was converted to the cookie's gint64 (undefined).
TEST(JobOptions, CookiesAndAuthAreHeldToTheRequestLimits) {
    const auto read = [](const json& options) {
        Job job;
        job.format = "pdf";
        return read_options(options, job);
    };
    const auto cookie = [](json fields) {
        json c = {{"name", "a"}, {"value", "b"}, {"domain", "example.com"}};
        for (auto& [k, v] : fields.items()) c[k] = v;
        return json{{"cookies", json::array({c})}};
    };
    EXPECT_EQ(read(cookie({})), "");
    EXPECT_EQ(read(cookie({{"expires", 1e300}})),
              "cookies[0].expires must be a number of seconds since the epoch");
    EXPECT_EQ(read(cookie({{"expires", 253402300799.0}})), "");
    EXPECT_EQ(read(cookie({{"name", std::string(257, 'n')}})),
              "cookies[0].name must be at most 256 characters");
    EXPECT_EQ(read(cookie({{"value", std::string(4097, 'v')}})),
              "cookies[0].value must be at most 4096 characters");
    EXPECT_NE(read(cookie({{"path", "/" + std::string(1024, 'p')}})), "");
    EXPECT_NE(read(cookie({{"domain", std::string(254, 'd')}})), "");
    EXPECT_EQ(read({{"auth", {{"username", "u"}, {"password", std::string(256, 'p')}}}}), "");
    EXPECT_EQ(read({{"auth", {{"username", "u"}, {"password", std::string(257, 'p')}}}}),
              "auth's username and password must be at most 256 characters each");
    EXPECT_NE(read({{"auth", {{"username", std::string(257, 'u')}, {"password", "p"}}}}), "");
}

}  // namespace enconvert::render_child
