/** The public API: `track` for any <video>, `trackHls` and `trackVideojs` for those players. */
export { collectUrl, setDefaultEndpoint, track, version } from './track.ts';
export { trackHls, trackVideojs } from './adapters.ts';
export type { TrackOptions, Tracking } from './tracker.ts';
