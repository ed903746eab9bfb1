#include "render_child/page_cleanup_scripts.h"

namespace enconvert::render_child {

// 100 ms a step: an IntersectionObserver callback needs a rendering update,
// and the loader's script then starts the request; the network-quiet wait
// that follows waits for the requests themselves. A 40,000 px page at a
// 1080 px viewport takes 37 steps, about 4 s. Only a page that can react is
// scrolled (scroll_watch.h): one that watches scrolling (the watcher cancels
// the probe event), or has lazy images (wait_for_images may be off) or
// frames (the watcher only sees the top document). -1: not scrolled.
const char* const kScrollScript = R"JS(
const asked = new Event(probe, {cancelable: true});
const reacts = !document.dispatchEvent(asked) ||
    document.querySelector('img[loading="lazy"], iframe, frame, object, embed') !== null;
if (!reacts) return -1;
const LIMIT = 40000, PAUSE = 100;
const deadline = Date.now() + budget;
const pause = () => new Promise(done => setTimeout(done, PAUSE));
const step = Math.max(100, window.innerHeight);
const bottom = () => Math.min(LIMIT,
    Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)
    - window.innerHeight);
let y = 0, steps = 0;
// The page may grow while it is scrolled (infinite lists): bottom() is read
// again at every step, LIMIT bounds it.
while (y < bottom() && Date.now() + PAUSE < deadline) {
  y = Math.min(y + step, bottom());
  window.scrollTo(0, y);
  ++steps;
  await pause();
}
window.scrollTo(0, 0);
if (steps) await pause();
return steps;
)JS";

const char* const kWaitForImagesScript = R"JS(
const deadline = Date.now() + budget;
for (const img of document.querySelectorAll('img[loading="lazy"]')) img.loading = 'eager';
const loading = () => [...document.images].filter(img => img.src && !img.complete).length;
let left = loading();
while (left && Date.now() < deadline) {
  await new Promise(done => setTimeout(done, 50));
  left = loading();
}
return left;
)JS";

// The banners of the consent managers most sites use, by the ids and
// classes their scripts give them. Hidden, not clicked: nothing is accepted
// or refused on the visitor's behalf. `consent` is a number (1/0): the
// call's arguments cannot carry a GVariant boolean.
const char* const kPageCleanupScript = R"JS(
const CONSENT = [
  // OneTrust
  '#onetrust-consent-sdk', '#onetrust-banner-sdk', '.onetrust-pc-dark-filter', '#ot-sdk-btn-floating',
  // Cookiebot
  '#CybotCookiebotDialog', '#CybotCookiebotDialogBodyUnderlay', '#CookiebotWidget',
  // Didomi
  '#didomi-host', '#didomi-notice', '.didomi-popup-backdrop',
  // Quantcast Choice
  '#qc-cmp2-container', '.qc-cmp2-container', '#qcCmpUi',
  // Usercentrics
  '#usercentrics-root', '#usercentrics-cmp-ui',
  // TrustArc / TRUSTe
  '#truste-consent-track', '#consent_blackbar', '#trustarc-banner-overlay', '.truste_overlay',
  '.truste_box_overlay', '#truste-consent-content',
  // Osano and its open-source Cookie Consent
  '.osano-cm-window', '.osano-cm-dialog', '.cc-window', '.cc-banner', '.cc_banner-wrapper',
  // Klaro
  '.klaro .cookie-notice', '.klaro .cookie-modal', '#klaro',
  // CookieYes / GDPR Cookie Consent
  '.cky-consent-container', '.cky-overlay', '.cky-modal', '#cookie-law-info-bar', '.cli-modal-backdrop',
  // Complianz, Borlabs, Cookie Notice, iubenda, Termly, Sourcepoint, Google
  '#cmplz-cookiebanner-container', '.cmplz-cookiebanner', '#BorlabsCookieBox', '#cookie-notice',
  '#iubenda-cs-banner', '#termly-code-snippet-support', '[id^="sp_message_container_"]',
  '.fc-consent-root',
];
const out = {consent: 0};
if (consent) {
  for (const selector of CONSENT) {
    for (const el of document.querySelectorAll(selector)) {
      el.style.setProperty('display', 'none', 'important');
      ++out.consent;
    }
  }
  // The managers lock the page's scrolling while their dialog is up.
  if (out.consent) {
    for (const el of [document.documentElement, document.body]) {
      if (el && getComputedStyle(el).overflowY === 'hidden')
        el.style.setProperty('overflow', 'visible', 'important');
    }
  }
}
return out.consent;
)JS";

}  // namespace enconvert::render_child
