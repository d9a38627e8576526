// The deep-zoom viewer (OpenSeadragon, vendored under vendor/openseadragon with its licence),
// loaded only by the pages that show one, with the portal's own labelled buttons.

import { h } from './dom.js';

const SCRIPT = '/portal/vendor/openseadragon/openseadragon.min.js';
let loading = null;

/** Loads OpenSeadragon once (a classic script: the policy allows scripts from this origin). */
function load() {
  if (window.OpenSeadragon) return Promise.resolve(window.OpenSeadragon);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = h('script', { src: SCRIPT });
      script.addEventListener('load', () => resolve(window.OpenSeadragon));
      script.addEventListener('error', () => {
        loading = null;
        reject(new Error('The viewer could not be loaded.'));
      });
      document.head.append(script);
    });
  }
  return loading;
}

/**
 * A viewer over IIIF Image API services (their info.json URLs), one at a time with
 * "Previous image" and "Next image" when there are several. `label` names it for screen readers.
 */
export function viewer(infoUrls, label) {
  const stage = h('div', { class: 'viewer-stage' });
  const place = h('span', { class: 'viewer-place' });
  const element = h('section', { class: 'viewer', 'aria-label': `Deep-zoom viewer: ${label}` });
  let osd = null;
  const act = (text, run) => h('button', { type: 'button', onclick: () => osd && run(osd) }, text);
  const toolbar = h(
    'div',
    { class: 'viewer-tools' },
    act('Zoom in', (v) => v.viewport.zoomBy(1.5)),
    act('Zoom out', (v) => v.viewport.zoomBy(1 / 1.5)),
    act('Fit', (v) => v.viewport.goHome()),
    act('Rotate', (v) => v.viewport.setRotation((v.viewport.getRotation() + 90) % 360)),
    act('Full screen', (v) => v.setFullScreen(!v.isFullPage())),
    infoUrls.length > 1 ? [act('Previous image', (v) => v.goToPage(Math.max(0, v.currentPage() - 1))), act('Next image', (v) => v.goToPage(Math.min(infoUrls.length - 1, v.currentPage() + 1))), place] : null,
  );
  element.append(toolbar, stage);
  const ready = load().then((OpenSeadragon) => {
    osd = OpenSeadragon({
      element: stage,
      tileSources: infoUrls,
      sequenceMode: infoUrls.length > 1,
      // the 2D canvas drawer: no WebGL needed, and its pixels can be read back
      drawer: 'canvas',
      showNavigationControl: false,
      showSequenceControl: false,
      crossOriginPolicy: false,
      visibilityRatio: 0.5,
      gestureSettingsMouse: { clickToZoom: false },
    });
    const showPlace = () => {
      place.textContent = ` Image ${osd.currentPage() + 1} of ${infoUrls.length}`;
    };
    if (infoUrls.length > 1) {
      showPlace();
      osd.addHandler('page', showPlace);
    }
    return osd;
  });
  return { element, ready, destroy: () => osd?.destroy() };
}
