// Leaflet, served from our own origin (dashboard/build.ts copies leaflet.js and leaflet.css into
// dist; the CSP allows 'self' only) and loaded the first time a map is shown, so the alarm board
// does not carry a map library it never uses.
import type * as Leaflet from 'leaflet';

let loading: Promise<typeof Leaflet> | null = null;

export function loadLeaflet(): Promise<typeof Leaflet> {
  if (loading) return loading;
  loading = new Promise<typeof Leaflet>((resolve, reject) => {
    const w = window as unknown as { L?: typeof Leaflet };
    if (w.L) return resolve(w.L);
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = 'leaflet.css';
    document.head.appendChild(css);
    const script = document.createElement('script');
    script.src = 'leaflet.js';
    script.onload = () => (w.L ? resolve(w.L) : reject(new Error('leaflet.js did not define L')));
    script.onerror = () => {
      loading = null;
      reject(new Error('leaflet.js could not be loaded'));
    };
    document.head.appendChild(script);
  });
  return loading;
}
