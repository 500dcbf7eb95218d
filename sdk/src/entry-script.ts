/** The classic script (/sdk/reelstat.js): `window.Reelstat`, reporting to the server it was loaded from. */
import { setDefaultEndpoint } from './index.ts';

const s = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;
if (s && s.src) setDefaultEndpoint(s.src);

export { track, trackHls, trackVideojs, version } from './index.ts';
