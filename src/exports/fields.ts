/** The field catalog of each export scope: name, type, meaning. `GET /api/v1/fields?scope=…` serves it. */

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'object';
export interface FieldDef {
  name: string;
  type: FieldType;
  description: string;
}

const f = (name: string, type: FieldType, description: string): FieldDef => ({ name, type, description });

const VIEWER_AND_PLACE: FieldDef[] = [
  f('userId', 'string', 'The viewer id the page gave (persistent anonymous id or the site\'s user id)'),
  f('email', 'string', 'Viewer email passed by the page'),
  f('viewerAccountId', 'string', 'Viewer account id passed by the page'),
  f('viewerName', 'string', 'Viewer name passed by the page'),
  f('deviceType', 'string', 'web, ios, android, tv or other'),
  f('url', 'string', 'Page the player was on'),
  f('referrer', 'string', 'The page\'s referrer'),
  f('domain', 'string', 'Host of the page URL, without www.'),
  f('ip', 'string', 'Client address (as the IP mode left it)'),
  f('userAgent', 'string', 'Browser user agent'),
  f('country', 'string', 'ISO 3166-1 alpha-2 country, from the IP'),
  f('region', 'string', 'Region, from the IP'),
  f('city', 'string', 'City, from the IP'),
  f('lat', 'number', 'Latitude, from the IP'),
  f('lon', 'number', 'Longitude, from the IP'),
  f('org', 'string', 'Network organisation, from the IP'),
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
    f('rebufferCount', 'integer', 'Rebuffer events'),
    f('rebufferTime', 'number', 'Seconds spent rebuffering'),
    f('errorCount', 'integer', 'Error events'),
    ...VIEWER_AND_PLACE,
    f('title', 'string', 'Video title (catalog, else events)'),
  ],
} satisfies Record<string, FieldDef[]>;

export type ExportScope = keyof typeof FIELDS;
export const SCOPES = Object.keys(FIELDS) as ExportScope[];

export interface FieldSelection {
  fieldName: string;
  aliasName?: string;
}

/** Checks a selection: known fields, none twice, aliases unique. Returns [field, output name] pairs. */
export function resolveFields(scope: ExportScope, selection: FieldSelection[] | undefined): Array<{ def: FieldDef; as: string }> {
  const defs = FIELDS[scope];
  if (!selection || selection.length === 0) return defs.map((def) => ({ def, as: def.name }));
  const byName = new Map(defs.map((d) => [d.name, d]));
  const seen = new Set<string>();
  const names = new Set<string>();
  return selection.map((s, i) => {
    const def = byName.get(s.fieldName);
    if (!def) throw new FieldError(`fields[${i}]: unknown field ${JSON.stringify(s.fieldName)} for scope ${scope}; see GET /api/v1/fields?scope=${scope}`);
    if (seen.has(def.name)) throw new FieldError(`fields[${i}]: field ${JSON.stringify(def.name)} is selected twice`);
    seen.add(def.name);
    const as = s.aliasName ?? def.name;
    if (!/^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$/.test(as)) throw new FieldError(`fields[${i}].aliasName: ${JSON.stringify(as)} must be 1–64 letters, digits, space, _ . -, starting with a letter or _`);
    if (names.has(as)) throw new FieldError(`fields[${i}]: output name ${JSON.stringify(as)} is used twice`);
    names.add(as);
    return { def, as };
  });
}

export class FieldError extends Error {}
