#include "render/frame.h"

#include <gtest/gtest.h>

namespace enconvert::render {
namespace {

TEST(Frame, RoundTrip) {
    nlohmann::json message = {{"v", 1},
                              {"id", 42u},
                              {"url", "https://example.com/"},
                              {"options", {{"timeout", 2}, {"landscape", true}}}};
    std::string frame = encode_frame(message);
    ASSERT_GE(frame.size(), 4u);
    const std::size_t declared = (std::size_t(static_cast<unsigned char>(frame[0])) << 24) |
                                 (std::size_t(static_cast<unsigned char>(frame[1])) << 16) |
                                 (std::size_t(static_cast<unsigned char>(frame[2])) << 8) |
                                 std::size_t(static_cast<unsigned char>(frame[3]));
    EXPECT_EQ(declared, frame.size() - 4);  // big-endian length of the body

    FrameDecoder decoder;
    decoder.feed(frame);
    auto decoded = decoder.next();
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, message);
    EXPECT_FALSE(decoder.next());
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(Frame, PartialFramesByteByByte) {
    const std::string a = encode_frame({{"v", 1}, {"ready", true}});
    const std::string b = encode_frame({{"v", 1}, {"id", 7u}, {"ok", false}});
    const std::string stream = a + b;
    FrameDecoder decoder;
    std::vector<nlohmann::json> got;
    for (char c : stream) {
        decoder.feed(std::string_view(&c, 1));
        while (auto m = decoder.next()) got.push_back(*m);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0]["ready"], true);
    EXPECT_EQ(got[1]["id"], 7u);
}

TEST(Frame, SeveralFramesInOneRead) {
    FrameDecoder decoder;
    std::string stream;
    for (unsigned i = 0; i < 100; ++i) stream += encode_frame({{"v", 1}, {"id", i}});
    decoder.feed(stream.substr(0, stream.size() - 3));  // last frame incomplete
    unsigned n = 0;
    while (auto m = decoder.next()) EXPECT_EQ((*m)["id"], n++);
    EXPECT_EQ(n, 99u);
    decoder.feed(stream.substr(stream.size() - 3));
    auto last = decoder.next();
    ASSERT_TRUE(last);
    EXPECT_EQ((*last)["id"], 99u);
}

TEST(Frame, OversizedLengthIsAStreamError) {
    FrameDecoder decoder;
    decoder.feed(std::string("\x7f\xff\xff\xff", 4));
    EXPECT_THROW(decoder.next(), FrameError);
}

TEST(Frame, NonMapFrameIsSkipped) {
    FrameDecoder decoder;
    // A msgpack integer (not a map), then a valid frame.
    decoder.feed(std::string("\x00\x00\x00\x01\x05", 5));
    decoder.feed(encode_frame({{"v", 1}}));
    EXPECT_THROW(decoder.next(), MalformedFrame);
    auto next = decoder.next();
    ASSERT_TRUE(next);
    EXPECT_EQ((*next)["v"], 1);
}

TEST(Frame, GarbageBodyIsSkipped) {
    FrameDecoder decoder;
    decoder.feed(std::string("\x00\x00\x00\x02\xc1\xc1", 6));  // 0xc1 is never used
    EXPECT_THROW(decoder.next(), MalformedFrame);
    EXPECT_EQ(decoder.buffered(), 0u);
}

// make fuzz (docs/fuzzing.md): nlohmann's msgpack reader recursed once per
// nesting level, so a frame of a million nested arrays overflowed the stack.
TEST(Frame, DeeplyNestedFrameIsSkippedNotACrash) {
    const std::string body = std::string(
                                 "\x81\xa1"
                                 "a",
                                 3) +
                             std::string(1000000, '\x91') + "\xc0";
    const auto n = static_cast<std::uint32_t>(body.size());
    std::string frame;
    for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(n >> shift));
    FrameDecoder decoder;
    decoder.feed(frame + body);
    decoder.feed(encode_frame({{"v", 1}}));
    EXPECT_THROW(decoder.next(), MalformedFrame);
    auto next = decoder.next();
    ASSERT_TRUE(next);
    EXPECT_EQ((*next)["v"], 1);
}

}  // namespace
}  // namespace enconvert::render
