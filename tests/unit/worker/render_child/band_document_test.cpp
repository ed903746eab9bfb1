#include "render_child/band_document.h"

#include <gtest/gtest.h>

using namespace enconvert::render_child;

namespace {

PdfOptions with_header(const std::string& content) {
    PdfOptions pdf;
    pdf.header = Band{content, 10};
    return pdf;
}

}  // namespace

TEST(BandDocument, FillsEachSheetsPlaceholders) {
    BandValues values;
    values.total_pages = 2;
    values.title = "R&D";
    const std::string html =
        band_document(with_header("{{page}}/{{total_pages}} {{title}}"), 297, values);
    EXPECT_NE(html.find(">1/2 R&amp;D<"), std::string::npos) << html;
    EXPECT_NE(html.find(">2/2 R&amp;D<"), std::string::npos) << html;
}

// A template repeating a long {{title}} over the sheets of a tall page came
// to gigabytes (222 titles of 1000 '&', 5 bytes each escaped, are 1.1 MB a
// sheet), and the renderer died of bad_alloc with its other jobs. Past
// kMaxBandDocumentBytes the job fails instead; here at 120 MB.
TEST(BandDocument, OneThatWouldBeTooLargeIsRefusedBeforeItIsMade) {
    std::string content;
    for (int i = 0; i < 222; ++i) content += "{{title}}";
    BandValues values;
    values.title = std::string(1000, '&');
    values.total_pages = 110;
    try {
        band_document(with_header(content), 297, values);
        ADD_FAILURE() << "a 120 MB band document was made";
    } catch (const BandDocumentTooLarge& e) {
        EXPECT_EQ(std::string(e.what()),
                  "The header and footer would take 116 MB over the 110 pages, more than the "
                  "64 MB a document's header and footer may take: shorten them or the page");
    }
    values.total_pages = 50;  // 55 MB: made
    EXPECT_GT(band_document(with_header(content), 297, values).size(), 50u << 20);
}
