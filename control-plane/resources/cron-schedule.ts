// CronJob schedules as Kubernetes reads them (robfig/cron's standard parser): five fields or an
// @yearly/@monthly/@weekly/@daily/@midnight/@hourly descriptor, in spec.timeZone (default UTC here,
// where Kubernetes uses the controller manager's zone). Parsing and next times come from cron-parser.
import { CronExpressionParser } from 'cron-parser';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export interface CronSchedule {
  /** The first scheduled time strictly after `afterMs`. */
  next(afterMs: number): number;
  /** The last scheduled time at or before `ms`, if there is one. */
  latestAtOrBefore(ms: number): number | undefined;
}

export function isValidTimeZone(zone: string): boolean {
  if (zone === '' || zone.length > 64 || zone.toLowerCase() === 'local') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schedule, or the reason it is invalid (worded like the real server's). */
export function parseSchedule(schedule: string, timeZone = 'UTC'): CronSchedule | string {
  if (typeof schedule !== 'string' || schedule.trim() === '') return 'empty spec string';
  if (schedule.length > 1024) return 'schedule is too long';
  if (/^\s*(CRON_)?TZ=/.test(schedule)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  const text = schedule.trim();
  if (text.startsWith('@')) {
    if (!DESCRIPTORS.has(text)) return `unrecognized descriptor: ${text}`;
  } else {
    const fields = text.split(/\s+/);
    if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  }
  if (!isValidTimeZone(timeZone)) return `unknown time zone ${timeZone}`;
  try {
    CronExpressionParser.parse(text, { tz: timeZone, currentDate: new Date(0) }).next();
  } catch (error) {
    return (error as Error).message;
  }
  return {
    next(afterMs: number): number {
      const it = CronExpressionParser.parse(text, { tz: timeZone, currentDate: new Date(afterMs) });
      return it.next().getTime();
    },
    latestAtOrBefore(ms: number): number | undefined {
      const it = CronExpressionParser.parse(text, { tz: timeZone, currentDate: new Date(ms + 1) });
      try {
        return it.prev().getTime();
      } catch {
        return undefined;
      }
    },
  };
}

export interface ScheduleWindow {
  /** The latest scheduled time in (earliestMs, nowMs], if any. */
  mostRecentMs?: number;
  /** How many scheduled times fell in the window, counted up to MAX_COUNTED + 1 (more than 100 means starts were missed). */
  count: number;
}

const MAX_COUNTED = 100;

/** The scheduled times between `earliestMs` (exclusive) and `nowMs` (inclusive), as syncCronJob judges them. */
export function scheduledTimesBetween(schedule: CronSchedule, earliestMs: number, nowMs: number): ScheduleWindow {
  const latest = schedule.latestAtOrBefore(nowMs);
  if (latest === undefined || latest <= earliestMs) return { count: 0 };
  let count = 0;
  for (let t = schedule.next(earliestMs); t <= latest && count <= MAX_COUNTED; t = schedule.next(t)) count++;
  return { mostRecentMs: latest, count };
}
