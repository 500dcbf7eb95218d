/** The event model of spec/events.md, as the rest of the code sees it. */

export const EVENT_CATEGORIES = {
  events: ['impression', 'playStart', 'watchProgress', 'pause', 'completion', 'seek', 'swipe'],
  quality: ['rebuffer', 'qualityChange', 'error'],
  ads: ['adImpression', 'adCompletion', 'adClick'],
} as const;

export type EventCategory = keyof typeof EVENT_CATEGORIES;
export type EventName = (typeof EVENT_CATEGORIES)[EventCategory][number];
export const EVENT_NAMES: readonly EventName[] = Object.values(EVENT_CATEGORIES).flat();

export const DEVICE_TYPES = ['web', 'ios', 'android', 'tv', 'other'] as const;
/**
 * The most seconds a duration or a media position may be (about 31 years): a duration of 2^31 s
 * overflowed the records' column and stopped every account's records from being built.
 */
export const MAX_MEDIA_SECONDS = 1_000_000_000;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export type Platform = 'desktop' | 'tablet' | 'smartphone' | 'tv' | 'other';

/** An event as a client sent it, after validation and normalization (timestamps as epoch ms). */
export interface ClientEvent {
  id: string | null;
  event: EventName;
  timestamp: number;
  contentId: string;
  sessionId: string;
  userId: string | null;
  email: string | null;
  viewerAccountId: string | null;
  viewerName: string | null;
  deviceType: DeviceType | null;
  currentTime: number | null;
  url: string | null;
  referrer: string | null;
  title: string | null;
  duration: number | null;
  data: Record<string, unknown> | null;
  /** Only honoured when the request was authenticated with an API token. */
  ip: string | null;
  userAgent: string | null;
}

/** What the server derives from the connection, the IP and the user agent. */
export interface Enrichment {
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  org: string | null;
  browser: string | null;
  os: string | null;
  platform: Platform;
  isBot: boolean;
  domain: string | null;
}

/** An event as stored: the client's fields, the server's additions, and bookkeeping. */
export interface StoredEvent extends Omit<ClientEvent, 'id' | 'ip' | 'userAgent'>, Enrichment {
  accountId: string;
  id: string;
  /** True when the client gave the id (so it takes part in de-duplication). */
  clientId: boolean;
  /** 53-bit fingerprint of (accountId, id) for the de-duplication filter; 0 when the server made the id. */
  fp: number;
  deviceType: DeviceType;
  receivedAt: number;
  /** Arrival order, assigned by the writer at commit; the incremental-read cursor. */
  seq?: number;
}
