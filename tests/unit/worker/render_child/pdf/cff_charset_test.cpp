// The CFF facts the Type 3 replacement relies on, read from installed
// faces: URW's Nimbus is name-keyed, Noto CJK is CID-keyed with each
// glyph's CID equal to its id; a damaged table is refused, not guessed.
#include "render_child/pdf/cff_charset.h"

#include <gtest/gtest.h>

#include <string>

#include "../../../support/process_io.h"
#include "render_child/pdf/hb_ptr.h"

namespace enconvert::render_child::pdf {
namespace {

// The face's CFF table.
std::string cff_table(const std::string& path, unsigned index) {
    const std::string file = test_support::read_file(path);
    HbBlobPtr blob(hb_blob_create(file.data(), static_cast<unsigned>(file.size()),
                                  HB_MEMORY_MODE_READONLY, nullptr, nullptr));
    HbFacePtr face(hb_face_create(blob.get(), index));
    HbBlobPtr table(hb_face_reference_table(face.get(), HB_TAG('C', 'F', 'F', ' ')));
    unsigned size = 0;
    const char* data = hb_blob_get_data(table.get(), &size);
    return std::string(data ? data : "", size);
}

TEST(CffCharsetTest, NameKeyedFontHasNoCids) {
    const auto charset = read_cff_charset(
        cff_table("/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf", 0));
    ASSERT_TRUE(charset);
    EXPECT_FALSE(charset->cid_keyed);
    EXPECT_TRUE(charset->cid_of_glyph.empty());
}

TEST(CffCharsetTest, NotoCjkIsCidKeyedWithCidsEqualToGlyphIds) {
    const std::string cff = cff_table("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0);
    const auto charset = read_cff_charset(cff);
    ASSERT_TRUE(charset);
    EXPECT_TRUE(charset->cid_keyed);
    ASSERT_GT(charset->cid_of_glyph.size(), 60000u);
    for (std::uint32_t glyph : {0u, 1u, 0x5E1u, 0x93E4u})
        EXPECT_EQ(charset->cid_of_glyph[glyph], glyph) << glyph;
}

TEST(CffCharsetTest, DamagedTablesAreRefused) {
    const std::string cff = cff_table("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0);
    EXPECT_FALSE(read_cff_charset(""));
    EXPECT_FALSE(read_cff_charset(cff.substr(0, 3)));
    // Cut inside the Name and Top DICT INDEXes, and inside the charset.
    for (std::size_t size : {std::size_t{6}, std::size_t{40}, cff.size() / 2})
        EXPECT_FALSE(read_cff_charset(cff.substr(0, size))) << size;
    std::string header_points_away = cff;
    header_points_away[2] = static_cast<char>(0xFF);
    EXPECT_FALSE(read_cff_charset(header_points_away.substr(0, 200)));
}

}  // namespace
}  // namespace enconvert::render_child::pdf
