/** The public shape of a stored event (spec/events.md fields plus what the server adds). */
import type { StoredEvent } from './types.ts';

export function publicEvent(e: StoredEvent) {
  return {
    id: e.id,
    event: e.event,
    timestamp: new Date(e.timestamp).toISOString(),
    receivedAt: new Date(e.receivedAt).toISOString(),
    contentId: e.contentId,
    sessionId: e.sessionId,
    userId: e.userId,
    email: e.email,
    viewerAccountId: e.viewerAccountId,
    viewerName: e.viewerName,
    deviceType: e.deviceType,
    currentTime: e.currentTime,
    url: e.url,
    referrer: e.referrer,
    domain: e.domain,
    title: e.title,
    duration: e.duration,
    data: e.data,
    ip: e.ip,
    userAgent: e.userAgent,
    country: e.country,
    region: e.region,
    city: e.city,
    lat: e.lat,
    lon: e.lon,
    org: e.org,
    browser: e.browser,
    os: e.os,
    platform: e.platform,
    isBot: e.isBot,
  };
}
