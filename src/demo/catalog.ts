/**
 * The demo's catalog: three projects of a made-up company, their folders and 32 videos with titles,
 * durations, the page each is embedded on, how often people press play there and how popular it is.
 */

export interface DemoProject {
  id: string;
  name: string;
}

export interface DemoVideo {
  contentId: string;
  title: string;
  /** Seconds. */
  duration: number;
  projectId: string;
  folder: string;
  /** Page the player is on. */
  page: string;
  /** Relative popularity (weights the draw of what a session watches first). */
  weight: number;
  /** Chance that a player load is played. */
  playRate: number;
  /** Next video of a series (a course's next lesson), for sessions that go on. */
  next?: string;
}

export const PROJECTS: DemoProject[] = [
  { id: 'academy', name: 'Northwind Academy' },
  { id: 'marketing', name: 'Marketing site' },
  { id: 'support', name: 'Help center' },
];

const ACADEMY = 'https://learn.northwind-academy.com';
const SITE = 'https://www.northwind.io';
const BLOG = 'https://blog.northwind.io';
const HELP = 'https://help.northwind.io';

type Row = [id: string, title: string, minutes: number, folder: string, page: string, weight: number, playRate: number];

const ROWS: Array<[project: string, rows: Row[]]> = [
  ['academy', [
    ['photo-101-01', 'Photography 101 · 1. Light and exposure', 9.4, 'courses/photography', `${ACADEMY}/courses/photography-101/1`, 14, 0.86],
    ['photo-101-02', 'Photography 101 · 2. Aperture and depth of field', 11.2, 'courses/photography', `${ACADEMY}/courses/photography-101/2`, 9, 0.88],
    ['photo-101-03', 'Photography 101 · 3. Shutter speed and motion', 8.7, 'courses/photography', `${ACADEMY}/courses/photography-101/3`, 7, 0.88],
    ['photo-101-04', 'Photography 101 · 4. ISO and noise', 7.9, 'courses/photography', `${ACADEMY}/courses/photography-101/4`, 5, 0.87],
    ['photo-101-05', 'Photography 101 · 5. Composition rules (and breaking them)', 13.5, 'courses/photography', `${ACADEMY}/courses/photography-101/5`, 4, 0.87],
    ['edit-01', 'Video editing · 1. Your first timeline', 12.1, 'courses/video-editing', `${ACADEMY}/courses/video-editing/1`, 11, 0.85],
    ['edit-02', 'Video editing · 2. Cuts that feel invisible', 10.4, 'courses/video-editing', `${ACADEMY}/courses/video-editing/2`, 7, 0.86],
    ['edit-03', 'Video editing · 3. Color correction basics', 15.8, 'courses/video-editing', `${ACADEMY}/courses/video-editing/3`, 5, 0.86],
    ['edit-04', 'Video editing · 4. Sound design on a budget', 9.6, 'courses/video-editing', `${ACADEMY}/courses/video-editing/4`, 4, 0.85],
    ['edit-05', 'Video editing · 5. Exporting for every platform', 6.3, 'courses/video-editing', `${ACADEMY}/courses/video-editing/5`, 3, 0.84],
    ['webinar-2026-spring', 'Webinar: Building a course that sells', 47.5, 'webinars', `${ACADEMY}/webinars/course-that-sells`, 6, 0.7],
    ['webinar-qa-march', 'Live Q&A with the instructors (recording)', 58.2, 'webinars', `${ACADEMY}/webinars/qa-march`, 3, 0.62],
    ['academy-trailer', 'Northwind Academy in 90 seconds', 1.5, 'marketing', `${ACADEMY}/`, 16, 0.52],
  ]],
  ['marketing', [
    ['product-tour', 'Product tour: Northwind in 4 minutes', 4.2, 'product-tours', `${SITE}/product`, 22, 0.48],
    ['launch-2026', 'Launch: Northwind 3.0 is here', 2.6, 'product-tours', `${SITE}/`, 18, 0.41],
    ['tour-analytics', 'Tour: analytics that make sense', 3.1, 'product-tours', `${SITE}/product/analytics`, 8, 0.5],
    ['tour-integrations', 'Tour: connect your stack', 2.8, 'product-tours', `${SITE}/product/integrations`, 6, 0.47],
    ['story-lumen', 'Customer story: Lumen Bakery', 3.7, 'customer-stories', `${SITE}/customers/lumen-bakery`, 5, 0.58],
    ['story-fjord', 'Customer story: Fjord Outdoor', 4.4, 'customer-stories', `${SITE}/customers/fjord-outdoor`, 4, 0.57],
    ['story-kitsune', 'Customer story: Kitsune Games', 5.1, 'customer-stories', `${SITE}/customers/kitsune-games`, 3, 0.55],
    ['ad-spring-15', 'Spring campaign · 15 s', 0.25, 'ads', `${BLOG}/spring-is-here`, 12, 0.9],
    ['ad-spring-30', 'Spring campaign · 30 s', 0.5, 'ads', `${BLOG}/spring-is-here`, 8, 0.88],
    ['blog-behind-scenes', 'Behind the scenes: how we film our courses', 7.6, 'blog', `${BLOG}/behind-the-scenes`, 5, 0.6],
  ]],
  ['support', [
    ['howto-signup', 'How to create your account', 1.8, 'how-to', `${HELP}/articles/create-account`, 9, 0.74],
    ['howto-upload', 'How to upload your first video', 2.9, 'how-to', `${HELP}/articles/upload`, 8, 0.76],
    ['howto-embed', 'How to embed the player on your site', 3.4, 'how-to', `${HELP}/articles/embed`, 7, 0.77],
    ['howto-billing', 'Changing your plan and invoices', 2.2, 'how-to', `${HELP}/articles/billing`, 4, 0.7],
    ['howto-team', 'Inviting your team', 1.6, 'how-to', `${HELP}/articles/team`, 3, 0.72],
    ['howto-export', 'Exporting your analytics', 3.9, 'how-to', `${HELP}/articles/exports`, 3, 0.75],
    ['release-3-0', 'What is new in 3.0', 6.4, 'release-notes', `${HELP}/releases/3-0`, 5, 0.66],
    ['release-2-9', 'What is new in 2.9', 4.8, 'release-notes', `${HELP}/releases/2-9`, 2, 0.6],
  ]],
];

export const VIDEOS: DemoVideo[] = ROWS.flatMap(([projectId, rows]) =>
  rows.map(([contentId, title, minutes, folder, page, weight, playRate]) => ({
    contentId, title, duration: Math.round(minutes * 60), projectId, folder, page, weight, playRate,
  })),
);

// Courses are series: a session that goes on usually opens the next lesson.
for (const [i, v] of VIDEOS.entries()) {
  const n = VIDEOS[i + 1];
  if (n && /^(photo-101|edit)-/.test(v.contentId) && n.contentId.split('-').slice(0, -1).join('-') === v.contentId.split('-').slice(0, -1).join('-')) v.next = n.contentId;
}

/** The video launched during the month: its traffic peaks for two days. */
export const LAUNCH = 'launch-2026';
