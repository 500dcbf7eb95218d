/** The field catalog of each export scope: name, type, meaning. `GET /api/v1/fields?scope=…` serves it. */
import { shown } from '../util/shown.ts';

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'object';
export interface FieldDef {
  name: string;
  type: FieldType;
  description: string;
}

const f = (name: string, type: FieldType, description: string): FieldDef => ({ name, type, description });

// Groups of fields several scopes share, in the same order.
const VIEWER: FieldDef[] = [
  f('userId', 'string', 'The viewer id the page gave (persistent anonymous id or the site\'s user id)'),
  f('email', 'string', 'Viewer email passed by the page'),
  f('viewerAccountId', 'string', 'Viewer account id passed by the page'),
  f('viewerName', 'string', 'Viewer name passed by the page'),
];

const GEO: FieldDef[] = [
  f('country', 'string', 'ISO 3166-1 alpha-2 country, from the IP'),
  f('region', 'string', 'Region, from the IP'),
  f('city', 'string', 'City, from the IP'),
  f('lat', 'number', 'Latitude, from the IP'),
  f('lon', 'number', 'Longitude, from the IP'),
  f('org', 'string', 'Network organisation, from the IP'),
];

const PLAYBACK_ISSUES: FieldDef[] = [
  f('rebufferCount', 'integer', 'Rebuffer events'),
  f('rebufferTime', 'number', 'Seconds spent rebuffering'),
  f('errorCount', 'integer', 'Error events'),
];

const VIEWER_AND_PLACE: FieldDef[] = [
  ...VIEWER,
  f('deviceType', 'string', 'web, ios, android, tv or other'),
  f('url', 'string', 'Page the player was on'),
  f('referrer', 'string', 'The page\'s referrer'),
  f('domain', 'string', 'Host of the page URL, without www.'),
  f('ip', 'string', 'Client address (as the IP mode left it)'),
  f('userAgent', 'string', 'Browser user agent'),
  ...GEO,
  f('browser', 'string', 'Browser name, from the user agent'),
  f('os', 'string', 'Operating system, from the user agent'),
  f('platform', 'string', 'desktop, tablet, smartphone, tv or other'),
];

export const FIELDS = {
  events: [
    f('id', 'string', 'Event id (the client\'s, or one the server made)'),
    f('event', 'string', 'Event name (impression, playStart, watchProgress, …)'),
    f('timestamp', 'timestamp', 'When it happened (client clock), UTC'),
    f('receivedAt', 'timestamp', 'When the server received it, UTC'),
    f('contentId', 'string', 'The video, stream or broadcast'),
    f('sessionId', 'string', 'The player\'s session'),
    ...VIEWER_AND_PLACE,
    f('currentTime', 'number', 'Playhead position, seconds'),
    f('title', 'string', 'Media title sent with the event'),
    f('duration', 'number', 'Media duration sent with the event, seconds'),
    f('data', 'object', 'Event-specific data (JSON; flattened to JSON text in CSV and XLSX)'),
    f('isBot', 'boolean', 'Sent by a known bot (left out of every metric)'),
  ],
  views: [
    f('viewId', 'string', 'Stable id of the view record (Cincopa hmid, Wistia event_key)'),
    f('contentId', 'string', 'The video'),
    f('sessionId', 'string', 'The session'),
    f('viewer', 'string', 'userId, else the session'),
    f('startedAt', 'timestamp', 'Timestamp of the record\'s earliest event, UTC'),
    f('loads', 'integer', 'Impressions (player loads)'),
    f('played', 'boolean', 'Has a playStart or watchProgress'),
    f('counted', 'boolean', 'Is a view: a continuous run of at least 5 s'),
    f('unique', 'boolean', 'First played record of this viewer and video'),
    f('completed', 'boolean', 'Has a completion'),
    f('hm', 'string', 'Seconds watched as runs: 10-20:2,21-30'),
    f('uniqueSeconds', 'integer', 'Seconds watched at least once'),
    f('totalSeconds', 'integer', 'Seconds watched, repeats included (Cincopa prg)'),
    f('duration', 'integer', 'Video duration in whole seconds (catalog, else events)'),
    f('percentViewed', 'number', 'min(1, uniqueSeconds / duration)'),
    ...PLAYBACK_ISSUES,
    ...VIEWER_AND_PLACE,
    f('title', 'string', 'Video title (catalog, else events)'),
    f('projectId', 'string', 'Project of the video (catalog)'),
    f('deviceLabel', 'string', 'desktop, mobile or tablet (from platform: smartphone is mobile), else other'),
  ],
  // One row a session: its view records summed by the rules of spec/metrics.md. A session belongs to
  // the period of its first record; filters choose the records its row sums (a session with none
  // chosen has no row); viewer, device, place and page come from its earliest summed record that has them.
  sessions: [
    f('sessionId', 'string', 'The player\'s session'),
    f('viewer', 'string', 'userId, else the session'),
    ...VIEWER,
    f('firstEventAt', 'timestamp', 'Earliest event of the session (start of its first view record; under filters, of the first record they choose), UTC'),
    f('lastEventAt', 'timestamp', 'Latest event of the session, UTC'),
    f('sessionDuration', 'number', 'lastEventAt − firstEventAt, seconds'),
    f('contentIds', 'object', 'Content items the session loaded or watched, in the order it started them (a JSON array; JSON text in CSV)'),
    f('contentCount', 'integer', 'Number of content items (view records) of the session'),
    f('uniqueViews', 'integer', 'Content items started (played records)'),
    f('views', 'integer', 'Views: records with at least 5 s of continuous playback'),
    f('watchTime', 'integer', 'Watch time: seconds watched at least once per content item, summed'),
    f('totalSeconds', 'integer', 'Seconds watched, repeats included'),
    f('playerLoads', 'integer', 'Impressions (player loads)'),
    f('completions', 'integer', 'Content items watched to completion'),
    ...PLAYBACK_ISSUES,
    f('projectId', 'string', 'Project of the first content item (catalog)'),
    f('deviceType', 'string', 'web, ios, android, tv or other'),
    f('deviceLabel', 'string', 'desktop, mobile or tablet (from platform: smartphone is mobile), else other'),
    f('platform', 'string', 'desktop, tablet, smartphone, tv or other'),
    f('browser', 'string', 'Browser name, from the user agent'),
    f('os', 'string', 'Operating system, from the user agent'),
    f('userAgent', 'string', 'Browser user agent'),
    f('ip', 'string', 'Client address (as the IP mode left it)'),
    ...GEO,
    f('url', 'string', 'Page of the session\'s first event'),
    f('referrer', 'string', 'Referrer of that page'),
    f('domain', 'string', 'Host of that page, without www.'),
  ],
  // One row a catalog entry, metrics over the period through StatsService (zeros when nothing
  // happened); the first 15 are the report's fields of spec/exports.md "Reports", in that order.
  videos: [
    f('project_id', 'string', 'Project id'),
    f('project_name', 'string', 'Project name'),
    f('video_id', 'string', 'Content id, on rows of kind video'),
    f('stream_id', 'string', 'Content id, on rows of kind stream'),
    f('event_id', 'string', 'Content id, on rows of kind event (a broadcast event)'),
    f('title', 'string', 'Title (catalog, else events)'),
    f('duration', 'integer', 'Duration in whole seconds (catalog, else the largest events reported)'),
    f('folder_name', 'string', 'Folder path, e.g. folder1/folder2'),
    f('folder_id', 'string', 'Stable id of the folder path (fld_ + 16 hex digits of its SHA-256)'),
    f('player_loads', 'integer', 'Impressions (player loads) in the period'),
    f('unique_views', 'integer', 'Played records: sessions in which the content was started'),
    f('views', 'integer', 'Records with at least 5 s of continuous playback'),
    f('total_watch_time', 'integer', 'Seconds watched at least once per record, summed'),
    f('view_rate', 'number', 'Watch depth: total_watch_time / (views × duration), a fraction (Kinescope report "view rate" ÷ 100); 0 without views'),
    f('peak_concurrent_viewers', 'integer', 'Most distinct sessions with playback in one UTC minute'),
    f('content_id', 'string', 'Content id, whatever the kind'),
    f('kind', 'string', 'video, stream or event'),
    f('avg_watch_time', 'number', 'total_watch_time / views, seconds (0 without views)'),
    f('completion_rate', 'number', 'Completed records / played records (0 when none played)'),
  ],
} satisfies Record<string, FieldDef[]>;

/** The fields of a report (spec/exports.md "Reports"), in the order of the spec. */
export const REPORT_FIELDS = FIELDS.videos.slice(0, 15).map((d) => d.name);

export type ExportScope = keyof typeof FIELDS;
export const SCOPES = Object.keys(FIELDS) as ExportScope[];

export interface FieldSelection {
  fieldName: string;
  aliasName?: string;
}

const ALIAS = /^[\p{L}_][\p{L}\p{M}\p{N}_ .-]{0,63}$/u;

/** Checks a selection: known fields, none twice, output names unique ignoring case. Returns [field, output name] pairs. */
export function resolveFields(scope: ExportScope, selection: FieldSelection[] | undefined): Array<{ def: FieldDef; as: string }> {
  const defs = FIELDS[scope];
  if (!selection || selection.length === 0) return defs.map((def) => ({ def, as: def.name }));
  const byName = new Map(defs.map((d) => [d.name, d]));
  const seen = new Set<string>();
  const names = new Map<string, string>(); // lower case → as given
  return selection.map((s, i) => {
    const def = byName.get(s.fieldName);
    if (!def) throw new FieldError(`fields[${i}]: unknown field ${shown(s.fieldName)} for scope ${scope}; see GET /api/v1/fields?scope=${scope}`);
    if (seen.has(def.name)) throw new FieldError(`fields[${i}]: field ${shown(def.name)} is selected twice`);
    seen.add(def.name);
    const as = s.aliasName ?? def.name;
    // Letters and digits of any script (Unicode: "Café", "País", "国家"), none needing quotes in a CSV header.
    if (!ALIAS.test(as)) throw new FieldError(`fields[${i}].aliasName: ${shown(as)} must be 1–64 characters: letters and digits (of any script), space, _ . -, starting with a letter or _`);
    // Compared ignoring case: column names are (DuckDB's, spreadsheet tools'), and two names that
    // differ only in case made a JSON export fail and a CSV one rename the second.
    const other = names.get(as.toLowerCase());
    if (other !== undefined) throw new FieldError(`fields[${i}]: output name ${shown(as)} is used twice${other === as ? '' : ` (as ${shown(other)}; names are compared ignoring case)`}`);
    names.set(as.toLowerCase(), as);
    return { def, as };
  });
}

export class FieldError extends Error {}
