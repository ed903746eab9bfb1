#include "render_child/link_layout.h"

#include <cmath>

namespace enconvert::render_child {

namespace {

using nlohmann::json;

constexpr double kPtPerMm = 72.0 / 25.4;
// One CSS px prints as 0.75 pt times the scale (print_setup.h).
constexpr double kPtPerCssPx = 72.0 / 96.0;

std::string string_of(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double number_of(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return NAN;
    return it->get<double>();
}

// A measured box in flow points, if it is one.
bool flow_box(const json& b, const PdfOptions& pdf, pdf::FlowBox& out) {
    if (!b.is_object()) return false;
    const double px_to_pt = kPtPerCssPx * pdf.scale;
    const double x = number_of(b, "x"), y = number_of(b, "y");
    const double w = number_of(b, "w"), h = number_of(b, "h");
    if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(w) || !std::isfinite(h) || w < 0 ||
        h < 0)
        return false;
    out = {pdf.margin_left_mm * kPtPerMm + x * px_to_pt, y * px_to_pt, w * px_to_pt, h * px_to_pt};
    return true;
}

}  // namespace

pdf::MarkSources mark_sources(const json& facts, const PdfOptions& pdf) {
    pdf::MarkSources out;
    if (!facts.is_object()) return out;
    if (auto targets = facts.find("targets"); targets != facts.end() && targets->is_array()) {
        for (const json& t : *targets) {
            pdf::TargetSource target;
            if (t.is_object()) {
                target.top = t.value("top", false) == true;
                target.text = string_of(t, "text");
                if (auto box = t.find("box"); box != t.end()) flow_box(*box, pdf, target.box);
            }
            // Kept even when malformed: links refer to targets by index.
            out.targets.push_back(std::move(target));
        }
    }
    auto items = facts.find("items");
    if (items == facts.end() || !items->is_array()) return out;
    std::size_t boxes_left = pdf::kMaxLinkAreas;  // links' boxes, as the script counts
    for (const json& i : *items) {
        if (!i.is_object()) continue;
        pdf::MarkSource item;
        item.text = string_of(i, "text");
        if (auto boxes = i.find("boxes"); boxes != i.end() && boxes->is_array()) {
            for (const json& b : *boxes) {
                if (item.boxes.size() >= pdf::kMaxAreasPerLink) break;
                pdf::FlowBox box;
                if (flow_box(b, pdf, box)) item.boxes.push_back(box);
            }
        }
        const std::string kind = string_of(i, "kind");
        if (kind == "heading") {
            item.kind = pdf::MarkSource::Kind::Heading;
            const double level = number_of(i, "level");
            if (!(level >= 1 && level <= 6) || item.text.empty()) continue;
            item.level = static_cast<int>(level);
        } else if (kind == "link") {
            item.uri = string_of(i, "href");
            const double target = number_of(i, "target");
            if (std::isfinite(target) && target >= 0 &&
                target < static_cast<double>(out.targets.size()))
                item.target = static_cast<int>(target);
            else if (item.uri.empty())
                continue;
            if (item.text.empty() && item.boxes.empty()) continue;
            if (item.boxes.size() > boxes_left) continue;
            boxes_left -= item.boxes.size();
        } else {
            continue;
        }
        out.items.push_back(std::move(item));
    }
    return out;
}

namespace {

// Reads {"height": N, ... up to N and stops: returns false from the first
// event after it, which ends the parse there.
class HeightReader : public nlohmann::json_sax<json> {
  public:
    std::optional<double> height;

    bool key(string_t& name) override {
        at_height_ = depth_ == 1 && name == "height";
        return depth_ == 1 && at_height_;  // height is the first key, or nothing
    }
    bool number_integer(number_integer_t v) override { return take(static_cast<double>(v)); }
    bool number_unsigned(number_unsigned_t v) override { return take(static_cast<double>(v)); }
    bool number_float(number_float_t v, const string_t&) override { return take(v); }
    bool start_object(std::size_t) override { return ++depth_ == 1; }
    bool null() override { return false; }
    bool boolean(bool) override { return false; }
    bool string(string_t&) override { return false; }
    bool binary(binary_t&) override { return false; }
    bool end_object() override { return false; }
    bool start_array(std::size_t) override { return false; }
    bool end_array() override { return false; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    bool take(double v) {
        if (at_height_ && std::isfinite(v)) height = v;
        return false;
    }
    int depth_ = 0;
    bool at_height_ = false;
};

}  // namespace

std::optional<double> facts_height(const std::string& facts_json) {
    HeightReader reader;
    json::sax_parse(facts_json, &reader);
    return reader.height;
}

pdf::PageGeometry page_geometry(const PdfOptions& pdf, double sheet_height_mm) {
    return {sheet_height_mm * kPtPerMm, pdf.margin_top_mm * kPtPerMm,
            (sheet_height_mm - pdf.margin_top_mm - pdf.margin_bottom_mm) * kPtPerMm};
}

pdf::DocumentInfo document_info(const json& facts, const std::string& title,
                                const PdfOptions& pdf) {
    pdf::DocumentInfo info;
    const json meta = facts.is_object() ? facts.value("meta", json::object()) : json::object();
    if (meta.is_object()) {
        info.title = string_of(meta, "title");
        info.author = string_of(meta, "author");
        info.subject = string_of(meta, "subject");
        info.keywords = string_of(meta, "keywords");
    }
    if (info.title.empty()) info.title = title;
    const PdfMetadata& asked = pdf.metadata;
    if (asked.title) info.title = *asked.title;
    if (asked.author) info.author = *asked.author;
    if (asked.subject) info.subject = *asked.subject;
    if (asked.keywords) info.keywords = *asked.keywords;
    return info;
}

}  // namespace enconvert::render_child
