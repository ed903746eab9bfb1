#include "render_child/settle_rule.h"

#include <algorithm>
#include <array>

namespace enconvert::render_child {

bool source_may_run_script(std::string_view source) {
    constexpr std::array<std::string_view, 2> kMarkers = {"<script", "shadowroot"};
    const auto same = [](char a, char b) { return g_ascii_tolower(a) == b; };
    return std::any_of(kMarkers.begin(), kMarkers.end(), [&](std::string_view marker) {
        return std::search(source.begin(), source.end(), marker.begin(), marker.end(), same) !=
               source.end();
    });
}

// Reasons, in the order they are looked for:
// - a document that is not HTML (XML with a style sheet, SVG);
// - a source larger than maxSource bytes (the argument), or of unknown
//   size: its bytes are not copied out of the web process to be searched;
// - a source that is not ASCII-compatible (UTF-16: source_may_run_script
//   would not find "<script" in it);
// - an element that runs script or loads on its own: script, frames and
//   plug-ins (their documents are not looked at), audio and video (media
//   load as they play), SVG animation elements (they can change an
//   image's address), a meta refresh (navigates later);
// - an event handler attribute (on…): a handler runs script;
// - a running animation or transition (a capture now would catch it
//   mid-way where the 500 ms wait would not); without getAnimations() we
//   cannot tell.
// Very large documents are not walked: they just wait.
const char* const kInertPageScript = R"JS(
if (document.contentType !== 'text/html') return 'not html';
const navigation = performance.getEntriesByType('navigation')[0];
if (!navigation || !(navigation.decodedBodySize <= maxSource)) return 'large source';
if (document.characterSet.toUpperCase().startsWith('UTF-16')) return 'encoding';
const LOADS = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
    'video', 'audio', 'portal', 'animate', 'set', 'animatemotion', 'animatetransform']);
const all = document.getElementsByTagName('*');
if (all.length > 50000) return 'large';
for (const el of all) {
  const name = el.localName.toLowerCase();
  if (LOADS.has(name)) return name;
  if (name === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh')
    return 'refresh';
  for (const attr of el.attributes)
    if (attr.name.toLowerCase().startsWith('on')) return 'handler';
}
if (typeof document.getAnimations !== 'function') return 'animations unknown';
if (document.getAnimations().some(a => a.pending || a.playState === 'running'))
  return 'animation';
return '';
)JS";

}  // namespace enconvert::render_child
