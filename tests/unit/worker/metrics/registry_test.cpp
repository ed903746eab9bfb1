#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace enconvert::metrics;

namespace {

TEST(MetricsRegistry, CounterRendersHelpTypeAndOneSamplePerLabelSet) {
    CounterFamily c("enconvert_things_total", "Things.", {"kind"});
    c.add({"a"});
    c.add({"a"});
    c.add({"b"}, 3);
    std::string out;
    c.render(out);
    EXPECT_EQ(out,
              "# HELP enconvert_things_total Things.\n"
              "# TYPE enconvert_things_total counter\n"
              "enconvert_things_total{kind=\"a\"} 2\n"
              "enconvert_things_total{kind=\"b\"} 3\n");
    EXPECT_EQ(c.value({"a"}), 2);
    EXPECT_EQ(c.value({"zzz"}), 0);
}

TEST(MetricsRegistry, LabelValuesAreEscaped) {
    GaugeFamily g("g", "G.", {"v"});
    g.set({"a\"b\\c\nd"}, 1.5);
    std::string out;
    g.render(out);
    EXPECT_NE(out.find("g{v=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos) << out;
}

TEST(MetricsRegistry, GaugeWithoutLabelsHasNoBraces) {
    GaugeFamily g("enconvert_up", "Up.", {});
    g.set({}, 1);
    std::string out;
    g.render(out);
    EXPECT_NE(out.find("\nenconvert_up 1\n"), std::string::npos) << out;
    g.clear();
    out.clear();
    g.render(out);
    EXPECT_EQ(out.find("\nenconvert_up "), std::string::npos);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
    HistogramFamily h("d_seconds", "D.", {"outcome"}, {0.5, 1, 5});
    h.observe({"ok"}, 0.2);
    h.observe({"ok"}, 0.7);
    h.observe({"ok"}, 0.7);
    h.observe({"ok"}, 60);
    std::string out;
    h.render(out);
    EXPECT_NE(out.find("# TYPE d_seconds histogram\n"), std::string::npos);
    EXPECT_NE(out.find("d_seconds_bucket{outcome=\"ok\",le=\"0.5\"} 1\n"), std::string::npos);
    EXPECT_NE(out.find("d_seconds_bucket{outcome=\"ok\",le=\"1\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("d_seconds_bucket{outcome=\"ok\",le=\"5\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("d_seconds_bucket{outcome=\"ok\",le=\"+Inf\"} 4\n"), std::string::npos);
    EXPECT_NE(out.find("d_seconds_sum{outcome=\"ok\"} 61.6\n"), std::string::npos) << out;
    EXPECT_NE(out.find("d_seconds_count{outcome=\"ok\"} 4\n"), std::string::npos);
    EXPECT_EQ(h.count({"ok"}), 4u);
}

TEST(MetricsRegistry, HistogramBoundsMustAscend) {
    EXPECT_THROW(HistogramFamily("h", "H.", {}, {1, 1}), std::invalid_argument);
}

TEST(MetricsRegistry, ValuesFormatLikePrometheus) {
    EXPECT_EQ(format_value(3), "3");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
}

}  // namespace
