#include "metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace enconvert::metrics {

void append_escaped(std::string& out, const std::string& value) {
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

std::string format_value(double value) {
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (std::isnan(value)) return "NaN";
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", value);
    return buf;
}

Family::Family(std::string name, std::string help, std::string type,
               std::vector<std::string> labels)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      labels_(std::move(labels)) {}

void Family::render(std::string& out) const {
    out += "# HELP " + name_ + " " + help_ + "\n";
    out += "# TYPE " + name_ + " " + type_ + "\n";
    const std::lock_guard lock(mutex_);
    render_samples(out);
}

std::string Family::label_set(const LabelValues& values, const std::string& extra) const {
    if (labels_.empty() && extra.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels_.size(); ++i) {
        if (i) out += ',';
        out += labels_[i] + "=\"";
        append_escaped(out, i < values.size() ? values[i] : std::string());
        out += '"';
    }
    if (!extra.empty()) out += (labels_.empty() ? "" : ",") + extra;
    return out + "}";
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
    : Family(std::move(name), std::move(help), "counter", std::move(labels)) {}

void CounterFamily::add(const LabelValues& labels, double amount) {
    const std::lock_guard lock(mutex_);
    values_[labels] += amount;
}

double CounterFamily::value(const LabelValues& labels) const {
    const std::lock_guard lock(mutex_);
    auto it = values_.find(labels);
    return it == values_.end() ? 0 : it->second;
}

void CounterFamily::render_samples(std::string& out) const {
    for (const auto& [labels, value] : values_)
        out += name_ + label_set(labels) + " " + format_value(value) + "\n";
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> labels)
    : Family(std::move(name), std::move(help), "gauge", std::move(labels)) {}

void GaugeFamily::set(const LabelValues& labels, double value) {
    const std::lock_guard lock(mutex_);
    values_[labels] = value;
}

void GaugeFamily::clear() {
    const std::lock_guard lock(mutex_);
    values_.clear();
}

double GaugeFamily::value(const LabelValues& labels) const {
    const std::lock_guard lock(mutex_);
    auto it = values_.find(labels);
    return it == values_.end() ? 0 : it->second;
}

void GaugeFamily::render_samples(std::string& out) const {
    for (const auto& [labels, value] : values_)
        out += name_ + label_set(labels) + " " + format_value(value) + "\n";
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : Family(std::move(name), std::move(help), "histogram", std::move(labels)),
      bounds_(std::move(bounds)) {
    for (std::size_t i = 1; i < bounds_.size(); ++i)
        if (!(bounds_[i - 1] < bounds_[i]))
            throw std::invalid_argument("histogram bounds must ascend");
}

void HistogramFamily::observe(const LabelValues& labels, double value) {
    const std::lock_guard lock(mutex_);
    Series& s = series_[labels];
    if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (value <= bounds_[i]) {
            ++s.buckets[i];
            break;
        }
    }
    s.sum += value;
    ++s.count;
}

std::uint64_t HistogramFamily::count(const LabelValues& labels) const {
    const std::lock_guard lock(mutex_);
    auto it = series_.find(labels);
    return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::render_samples(std::string& out) const {
    for (const auto& [labels, s] : series_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bounds_.size(); ++i) {
            cumulative += s.buckets[i];
            out += name_ + "_bucket" +
                   label_set(labels, "le=\"" + format_value(bounds_[i]) + "\"") + " " +
                   std::to_string(cumulative) + "\n";
        }
        out += name_ + "_bucket" + label_set(labels, "le=\"+Inf\"") + " " +
               std::to_string(s.count) + "\n";
        out += name_ + "_sum" + label_set(labels) + " " + format_value(s.sum) + "\n";
        out += name_ + "_count" + label_set(labels) + " " + std::to_string(s.count) + "\n";
    }
}

}  // namespace enconvert::metrics
