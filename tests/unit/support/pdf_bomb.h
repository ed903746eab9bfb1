// A small, valid PDF whose only object stream inflates to `inflated_mib`
// MiB: its catalog, page tree and page sit at the start of the stream, the
// rest is white space. Reading the page tree makes qpdf inflate all of it
// (qpdf 11.3 has no bound). Deflated in 1 MiB steps: no buffer of that size
// is ever held here.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace enconvert::testing {

inline std::string deflate_padded(const std::string& head, std::size_t inflated_mib) {
    z_stream z{};
    if (deflateInit(&z, Z_BEST_COMPRESSION) != Z_OK) throw std::runtime_error("deflateInit");
    std::string out;
    char buffer[1 << 16];
    const std::string spaces(1 << 20, ' ');
    auto feed = [&](const std::string& in, int flush) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        do {
            z.next_out = reinterpret_cast<Bytef*>(buffer);
            z.avail_out = sizeof buffer;
            deflate(&z, flush);
            out.append(buffer, sizeof buffer - z.avail_out);
        } while (z.avail_out == 0);
    };
    feed(head, Z_NO_FLUSH);
    for (std::size_t i = 0; i < inflated_mib; ++i)
        feed(spaces, i + 1 == inflated_mib ? Z_FINISH : Z_NO_FLUSH);
    deflateEnd(&z);
    return out;
}

inline std::string pdf_bomb(std::size_t inflated_mib) {
    const std::string objects[] = {"<< /Type /Catalog /Pages 2 0 R >>\n",
                                   "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n",
                                   "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\n"};
    std::string offsets, body;
    for (int i = 0; i < 3; ++i) {
        offsets += std::to_string(i + 1) + " " + std::to_string(body.size()) + " ";
        body += objects[i];
    }
    offsets += "\n";
    const std::string packed = deflate_padded(offsets + body, inflated_mib);
    std::string pdf = "%PDF-1.5\n";
    const std::size_t stream_at = pdf.size();
    pdf += "4 0 obj\n<< /Type /ObjStm /N 3 /First " + std::to_string(offsets.size()) + " /Length " +
           std::to_string(packed.size()) + " /Filter /FlateDecode >>\nstream\n" + packed +
           "\nendstream\nendobj\n";
    const std::size_t xref_at = pdf.size();
    // Cross-reference stream, fields 1, 4 and 2 bytes wide: objects 1-3 in
    // stream 4, then 4 and 5 themselves.
    auto row = [](int type, std::uint32_t field2, std::uint16_t field3) {
        std::string r(1, static_cast<char>(type));
        for (int shift = 24; shift >= 0; shift -= 8)
            r += static_cast<char>((field2 >> shift) & 0xFF);
        r += static_cast<char>(field3 >> 8);
        r += static_cast<char>(field3 & 0xFF);
        return r;
    };
    const std::string xref = row(0, 0, 65535) + row(2, 4, 0) + row(2, 4, 1) + row(2, 4, 2) +
                             row(1, static_cast<std::uint32_t>(stream_at), 0) +
                             row(1, static_cast<std::uint32_t>(xref_at), 0);
    pdf += "5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length " +
           std::to_string(xref.size()) + " >>\nstream\n" + xref + "\nendstream\nendobj\n";
    pdf += "startxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
    return pdf;
}

}  // namespace enconvert::testing
