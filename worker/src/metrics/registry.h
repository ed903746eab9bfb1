// Prometheus text exposition (format 0.0.4) for a fixed, small set of metric
// families. Debian 12 packages no Prometheus client library for C++, so this
// is the minimum we need: counters, gauges and histograms with labels, each
// family behind its own mutex (updates are per job or per request, never
// per byte, so the lock is uncontended in practice).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace enconvert::metrics {

using LabelValues = std::vector<std::string>;

// Appends `value` escaped for a label value (backslash, quote, newline).
void append_escaped(std::string& out, const std::string& value);
// A sample value as Prometheus writes it: integers without a fraction,
// +Inf for infinity.
std::string format_value(double value);

class Family {
  public:
    Family(std::string name, std::string help, std::string type, std::vector<std::string> labels);
    virtual ~Family() = default;
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;
    // # HELP, # TYPE and every sample of the family.
    void render(std::string& out) const;

  protected:
    // `{a="x",b="y"}` for `values` (plus `extra`, already formatted, e.g.
    // le="0.5"); empty when there are no labels at all.
    std::string label_set(const LabelValues& values, const std::string& extra = {}) const;
    virtual void render_samples(std::string& out) const = 0;
    const std::string name_;
    mutable std::mutex mutex_;

  private:
    const std::string help_;
    const std::string type_;
    const std::vector<std::string> labels_;
};

class CounterFamily : public Family {
  public:
    CounterFamily(std::string name, std::string help, std::vector<std::string> labels);
    void add(const LabelValues& labels, double amount = 1);
    double value(const LabelValues& labels) const;

  private:
    void render_samples(std::string& out) const override;
    std::map<LabelValues, double> values_;
};

class GaugeFamily : public Family {
  public:
    GaugeFamily(std::string name, std::string help, std::vector<std::string> labels);
    void set(const LabelValues& labels, double value);
    // Forgets every sample (a gauge read afresh at each scrape).
    void clear();
    double value(const LabelValues& labels) const;

  private:
    void render_samples(std::string& out) const override;
    std::map<LabelValues, double> values_;
};

class HistogramFamily : public Family {
  public:
    // `bounds`: upper bounds of the buckets, ascending; +Inf is implied.
    HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                    std::vector<double> bounds);
    void observe(const LabelValues& labels, double value);
    std::uint64_t count(const LabelValues& labels) const;

  private:
    struct Series {
        std::vector<std::uint64_t> buckets;  // per bound, not cumulative
        double sum = 0;
        std::uint64_t count = 0;
    };
    void render_samples(std::string& out) const override;
    const std::vector<double> bounds_;
    std::map<LabelValues, Series> series_;
};

}  // namespace enconvert::metrics
