/** User agent → browser, OS, platform, bot flag and the spec's deviceType (ua-parser-js 1.x, isbot). */
import { isbot } from 'isbot';
import UAParser from 'ua-parser-js';
import type { DeviceType, Platform } from '../events/types.ts';

export interface UaInfo {
  browser: string | null;
  os: string | null;
  platform: Platform;
  isBot: boolean;
  deviceType: DeviceType;
}

/**
 * HTTP stacks of native players and apps that isbot reads as bots because they look like
 * "name/version" clients (ExoPlayerLib/2.19.1, okhttp/4.12.0, AppleTV11,1/11.1, Kodi/20.2). Video
 * from Android, tvOS and media-centre apps arrives with these; they are removed before the bot
 * check, so a real crawler token elsewhere in the string still marks the event as a bot.
 */
const NATIVE_PLAYER = /\b(?:ExoPlayer(?:Lib)?|okhttp|AppleTV[\d,]*|Kodi)(?:\/[\w.,-]*)?/gi;

export function isBotUa(ua: string): boolean {
  return isbot(ua.replace(NATIVE_PLAYER, ''));
}

const PLATFORM: Record<string, Platform> = { mobile: 'smartphone', tablet: 'tablet', smarttv: 'tv', console: 'other', wearable: 'other', embedded: 'other', xr: 'other' };

export function parseUserAgent(ua: string | null): UaInfo {
  if (!ua) return { browser: null, os: null, platform: 'other', isBot: false, deviceType: 'other' };
  const p = new UAParser(ua); // reads the first 500 characters
  const bot = isBotUa(ua);
  const os = p.getOS().name ?? null;
  const browser = p.getBrowser().name ?? null;
  const type = p.getDevice().type;
  let platform: Platform;
  if (type) platform = PLATFORM[type] ?? 'other';
  else if (os === 'iOS') platform = 'smartphone'; // app HTTP stacks (CFNetwork); iPads say so and are tablets above
  else if (os === 'Android' && !/Mobile/i.test(ua)) platform = 'tablet'; // Android tablets leave out "Mobile"
  else if (browser || os) platform = 'desktop';
  else platform = 'other';
  let deviceType: DeviceType;
  if (platform === 'tv') deviceType = 'tv';
  else if (os === 'iOS' || os === 'iPadOS') deviceType = 'ios';
  else if (os === 'Android') deviceType = 'android';
  else if (browser && platform !== 'other') deviceType = 'web'; // not consoles, wearables, embedded
  else deviceType = 'other';
  return { browser, os, platform, isBot: bot, deviceType };
}
