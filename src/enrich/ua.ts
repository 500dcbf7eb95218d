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
  const r = new UAParser(ua).getResult();
  const bot = isBotUa(ua);
  const os = r.os.name ?? null;
  const browser = r.browser.name ?? null;
  let platform: Platform;
  if (r.device.type) platform = PLATFORM[r.device.type] ?? 'other';
  else if (/Android/i.test(ua) && !/Mobile/i.test(ua)) platform = 'tablet';
  else if (browser || os) platform = 'desktop';
  else platform = 'other';
  let deviceType: DeviceType;
  if (platform === 'tv') deviceType = 'tv';
  else if (os === 'iOS' || os === 'iPadOS') deviceType = 'ios';
  else if (os === 'Android') deviceType = 'android';
  else if (browser) deviceType = 'web';
  else deviceType = 'other';
  return { browser, os, platform, isBot: bot, deviceType };
}
