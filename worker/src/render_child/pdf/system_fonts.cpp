#include "render_child/pdf/system_fonts.h"

#include <fontconfig/fontconfig.h>

#include <memory>

namespace enconvert::render_child::pdf {
namespace {

struct FcPatternDeleter {
    void operator()(FcPattern* p) const { FcPatternDestroy(p); }
};
struct FcObjectSetDeleter {
    void operator()(FcObjectSet* s) const { FcObjectSetDestroy(s); }
};
struct FcFontSetDeleter {
    void operator()(FcFontSet* s) const { FcFontSetDestroy(s); }
};

}  // namespace

std::vector<SystemFace> find_system_faces(const std::string& postscript_name) {
    std::vector<SystemFace> faces;
    if (postscript_name.empty()) return faces;
    // FcInitLoadConfigAndFonts once per process: the renderer's fonts do not
    // change while it runs.
    static FcConfig* const config = FcInitLoadConfigAndFonts();
    if (!config) return faces;
    std::unique_ptr<FcPattern, FcPatternDeleter> pattern(FcPatternCreate());
    std::unique_ptr<FcObjectSet, FcObjectSetDeleter> wanted(
        FcObjectSetBuild(FC_FILE, FC_INDEX, nullptr));
    if (!pattern || !wanted) return faces;
    FcPatternAddString(pattern.get(), FC_POSTSCRIPT_NAME,
                       reinterpret_cast<const FcChar8*>(postscript_name.c_str()));
    std::unique_ptr<FcFontSet, FcFontSetDeleter> found(
        FcFontList(config, pattern.get(), wanted.get()));
    if (!found) return faces;
    for (int i = 0; i < found->nfont; ++i) {
        FcChar8* file = nullptr;
        int index = 0;
        if (FcPatternGetString(found->fonts[i], FC_FILE, 0, &file) != FcResultMatch) continue;
        FcPatternGetInteger(found->fonts[i], FC_INDEX, 0, &index);
        // A variable font's named instances share its file; the default
        // instance is what the glyph comparison checks against.
        faces.push_back(
            SystemFace{reinterpret_cast<const char*>(file), static_cast<unsigned>(index & 0xFFFF)});
    }
    return faces;
}

}  // namespace enconvert::render_child::pdf
