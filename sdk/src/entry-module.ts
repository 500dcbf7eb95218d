/** The ES module (/sdk/reelstat.mjs), reporting to the server it was imported from. */
import { setDefaultEndpoint } from './index.ts';

setDefaultEndpoint(import.meta.url);

export { track, trackHls, trackVideojs, version } from './index.ts';
export type { TrackOptions, Tracking } from './index.ts';
